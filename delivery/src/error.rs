//! Errors of setting up delivery (a failed delivery is a [`crate::SinkResult`], not an error).

/// A sink that cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A secret the sink names is not available.
    #[error("sink `{sink}`: `{key}` names the environment variable `{variable}`, which is {why}")]
    MissingSecret {
        /// The sink.
        sink: String,
        /// The key naming the variable (`secret_env`, `pseudonym_key_env`).
        key: &'static str,
        /// The variable's name.
        variable: String,
        /// `not set` or `empty`.
        why: &'static str,
    },
    /// Anything else about one sink (a client that cannot be built, AWS settings missing).
    #[error("sink `{sink}`: {message}")]
    Setup {
        /// The sink.
        sink: String,
        /// What is wrong.
        message: String,
    },
    /// The AWS Secrets Manager secret holding sink secrets cannot be read or is not a JSON
    /// object of strings.
    #[error("AWS Secrets Manager secret `{secret_id}` {message}")]
    SecretsManager {
        /// The secret's ARN or name.
        secret_id: String,
        /// What went wrong (the service's error code, or what is wrong with the value).
        message: String,
    },
}
