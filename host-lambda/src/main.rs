//! `bootstrap`: the Lambda entry point (custom runtime, `provided.al2023`).
//!
//! Reads its settings from the environment (see `mailex_lambda::Settings`), loads the config
//! once per cold start and serves invocations through the Lambda Runtime API.

use std::sync::Arc;
use std::time::Instant;

use lambda_runtime::{LambdaEvent, service_fn};
use mailex_lambda::{Host, S3Store, Settings};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mailex_lambda::init_logging();
    mailex_core::install_quiet_panic_hook();
    let started = Instant::now();
    let settings = Settings::from_env()?;
    let store = S3Store::connect(&settings.s3).await;
    let host = match Host::new(settings, store).await {
        Ok(host) => Arc::new(host),
        Err(e) => {
            tracing::error!(error = %e, "cold start failed");
            return Err(e.into());
        }
    };
    let loaded = host.engine().current();
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        config_load_ms = loaded.load_time.as_secs_f64() * 1000.0,
        fingerprint = %loaded.fingerprint,
        "cold start complete"
    );
    drop(loaded);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let host = Arc::clone(&host);
        async move {
            host.handle(event.payload, &event.context.request_id)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
