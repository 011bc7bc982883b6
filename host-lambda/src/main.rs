//! `bootstrap`: the Lambda entry point (custom runtime, `provided.al2023`).
//!
//! Reads its settings from the environment (see `mailex_lambda::Settings`), loads the config
//! once per cold start and serves invocations through the Lambda Runtime API. Errors reach the
//! Runtime API with a stable `errorType` (`Mailex.S3ReadError`, ...; see
//! `HostError::error_type`) and a one-line message. A cold start that cannot serve (bad
//! settings, no loadable config) is reported to the init-error endpoint, then the process exits.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use mailex_lambda::{Host, HostError, S3Store, Settings};
use serde_json::Value;
use tracing::Instrument;

#[tokio::main]
async fn main() -> ExitCode {
    mailex_lambda::init_logging();
    mailex_core::install_quiet_panic_hook();
    let started = Instant::now();
    let host = match start().await {
        Ok(host) => Arc::new(host),
        Err(e) => {
            tracing::error!(error_type = e.error_type(), error = %e, "cold start failed");
            report_init_error(&e).await;
            return ExitCode::FAILURE;
        }
    };
    let loaded = host.engine().current();
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        config_load_ms = loaded.load_time.as_secs_f64() * 1000.0,
        config_version = %loaded.fingerprint,
        memory_budget_mb = host.budget().total_bytes() >> 20,
        concurrency = host.settings().concurrency,
        "cold start complete"
    );
    drop(loaded);
    let cold = Arc::new(AtomicBool::new(true));
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let host = Arc::clone(&host);
        let context = &event.context;
        // The keys Powertools puts on every line of an invocation (see `PowertoolsLayer`).
        let span = tracing::info_span!(
            "lambda",
            cold_start = cold.swap(false, Ordering::Relaxed),
            function_request_id = %context.request_id,
            xray_trace_id = context.xray_trace_id.as_deref().unwrap_or_default(),
            function_name = %context.env_config.function_name,
            function_memory_size = context.env_config.memory,
            function_arn = %context.invoked_function_arn,
        );
        async move {
            let deadline = Some(event.context.deadline());
            host.handle_until(event.payload, &event.context.request_id, deadline)
                .await
                .map_err(Diagnostic::from)
        }
        .instrument(span)
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the runtime loop ended");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> Result<Host, HostError> {
    let settings = Settings::from_env()?;
    let store = S3Store::connect(&settings.s3).await;
    Host::new(settings, store).await
}

/// Posts the cold start's failure to the Runtime API's init-error endpoint
/// (`/2018-06-01/runtime/init/error`), so Lambda reports it as `Runtime.InitError` with our
/// `errorType` and message instead of an unexplained exit.
async fn report_init_error(error: &HostError) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let endpoint = match format!("http://{api}").parse() {
        Ok(endpoint) => endpoint,
        Err(e) => {
            tracing::error!(error = %e, "AWS_LAMBDA_RUNTIME_API is not a host:port");
            return;
        }
    };
    let client = match lambda_runtime_api_client::Client::builder()
        .with_endpoint(endpoint)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build a Runtime API client");
            return;
        }
    };
    let diagnostic = serde_json::json!({
        "errorType": error.error_type(),
        "errorMessage": error.to_string(),
    });
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", error.error_type())
        .body(lambda_runtime_api_client::body::Body::from(
            diagnostic.to_string(),
        ));
    match request {
        Ok(request) => {
            if let Err(e) = client.call(request).await {
                tracing::error!(error = %e, "reporting the init error failed");
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot build the init-error request"),
    }
}
