//! Where `mailex` finds secrets (sink secrets, the pseudonym key): through
//! [`mailex_delivery::SecretSource`], the one lookup the Lambda function uses too. When
//! `MAILEX_SECRETS_ARN` names a Secrets Manager secret, its values come first (AWS credentials,
//! region and endpoint from the SDK's default chain, e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`);
//! names it lacks come from the environment.

use std::sync::Arc;

use anyhow::Context;
use mailex_delivery::{EnvLookup, SecretSource};

/// The process environment, as the lookup the libraries take.
pub fn environment() -> EnvLookup {
    Arc::new(|name: &str| std::env::var(name).ok())
}

/// The secret source of this process: the secret of `MAILEX_SECRETS_ARN`, read now when it is
/// set, then the environment.
pub fn secret_source() -> anyhow::Result<SecretSource> {
    let env = environment();
    let Some(secret_id) = SecretSource::secret_id(env.as_ref()) else {
        return Ok(SecretSource::environment(env));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime that reads MAILEX_SECRETS_ARN")?;
    runtime.block_on(async {
        let sdk = mailex_delivery::aws::load_sdk_config().await;
        Ok(SecretSource::load(Some(&secret_id), env, Some(&sdk), None).await?)
    })
}
