//! The host's settings, read once from environment variables at cold start.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MAILEX_CONFIG` | `mailex.toml` path in the package, or `s3://bucket/prefix/` holding `mailex.toml` and what it references | `$LAMBDA_TASK_ROOT/config/mailex.toml` |
//! | `MAILEX_CONFIG_REFRESH_SECS` | re-check an S3 config at most this often (ETags) | `60` |
//! | `MAILEX_OUTPUT_BUCKET` | bucket for records | required |
//! | `MAILEX_OUTPUT_PREFIX` | prefix for records; must not overlap the inbound prefix | `records/` |
//! | `MAILEX_SES_BUCKET`, `MAILEX_SES_PREFIX` | where the SES S3 action stores mail (for the SES Lambda action) | unset, `""` |
//! | `MAILEX_CONCURRENCY` | messages of a batch processed at once | `8` |
//! | `MAILEX_MEMORY_BUDGET_MB` | memory the mail in flight may take (see [`crate::MemoryBudget`]) | function memory minus [`RESERVED_MB`], at least 64 |
//! | `MAILEX_METRICS_NAMESPACE` | CloudWatch namespace of the EMF metrics (`POWERTOOLS_METRICS_NAMESPACE` also works) | `mailex` |
//! | `MAILEX_SERVICE` | value of the `Service` dimension of every metric (`POWERTOOLS_SERVICE_NAME` also works); the template sets the stack name | `mailex` |
//! | `MAILEX_DEADLINE_MARGIN_MS` | a message of a batch is not started when less than this is left before the invocation's deadline; it is left to SQS to redeliver | `10000` |
//! | `MAILEX_DELIVERY_ENDPOINT` | SNS, EventBridge and Secrets Manager endpoint override for the sinks (tests) | unset |
//! | `MAILEX_SECRETS_ARN` | an AWS Secrets Manager secret holding the sinks' secrets and the pseudonym key as a JSON object by variable name (`{"MAILEX_WEBHOOK_SECRET": "..."}`), read at the cold start; names it lacks come from the environment | unset |
//! | secrets of sinks | the variables the sinks' `secret_env` and `pseudonym_key_env` name | - |
//! | `MAILEX_ANALYTICS_PREFIX` | key prefix in the output bucket of the analytics copy (docs/analytics.md); must not overlap the records' prefix; unset or empty: no analytics copy | unset |
//! | `MAILEX_PSEUDONYM_KEY`, `MAILEX_PSEUDONYM_KEY_ID` | the analytics copy's pseudonym key and its id (secret of `MAILEX_SECRETS_ARN`, then the environment); without a key there is no analytics copy | unset, derived from the key |
//! | `MAILEX_S3_ENDPOINT` | S3 endpoint override (tests); `AWS_ENDPOINT_URL_S3` also works | unset |
//! | `MAILEX_S3_FORCE_PATH_STYLE` | `true` for path-style addressing (local S3 servers) | `false` |
//! | `MAILEX_S3_MAX_ATTEMPTS` | SDK attempts per request (standard retry mode, backoff for throttling and 5xx) | `4` |
//! | `MAILEX_S3_ATTEMPT_TIMEOUT_MS` | timeout of one attempt | `10000` |
//! | `MAILEX_S3_OPERATION_TIMEOUT_MS` | timeout of one operation, all attempts | `30000` |

use std::time::Duration;

use crate::error::HostError;
use crate::metrics::MetricsTarget;

/// Memory kept out of the in-flight budget for the runtime, the engine and its config (the
/// measured idle RSS of `bootstrap` with the example config is far below this; see
/// `docs/deploy.md`, "Sizing").
pub const RESERVED_MB: u64 = 128;

/// The in-flight budget when the function's memory size is unknown (not on Lambda).
const DEFAULT_BUDGET_MB: u64 = 512;

/// Time kept free before the invocation's deadline when `MAILEX_DEADLINE_MARGIN_MS` is unset:
/// longer than one mail normally takes (a read of a near-cap mail, its extraction, the record
/// write), so a message started before it finishes before Lambda stops the invocation.
const DEFAULT_DEADLINE_MARGIN_MS: u64 = 10_000;

/// Where the mailex configuration lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    /// A `mailex.toml` on the local file system (in the deployment package).
    File(std::path::PathBuf),
    /// An S3 prefix holding `mailex.toml` and the files it references.
    S3 {
        /// Bucket.
        bucket: String,
        /// Prefix, ending in `/` (or empty).
        prefix: String,
    },
}

impl ConfigLocation {
    /// Parses `s3://bucket/prefix/` or a file path.
    pub fn parse(text: &str) -> Result<Self, HostError> {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(HostError::config(format!(
                        "`{text}` names no bucket; use s3://bucket/prefix/"
                    )));
                }
                let mut prefix = prefix.to_owned();
                if !prefix.is_empty() && !prefix.ends_with('/') {
                    prefix.push('/');
                }
                Ok(ConfigLocation::S3 {
                    bucket: bucket.to_owned(),
                    prefix,
                })
            }
            None => Ok(ConfigLocation::File(text.into())),
        }
    }
}

/// S3 client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint override.
    pub endpoint: Option<String>,
    /// Path-style addressing.
    pub force_path_style: bool,
    /// SDK attempts per request.
    pub max_attempts: u32,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// Timeout of a whole operation.
    pub operation_timeout: Duration,
}

impl S3Settings {
    /// Reads the S3 client settings through `get` (the environment, or a map in tests):
    /// `MAILEX_S3_ENDPOINT`, `MAILEX_S3_FORCE_PATH_STYLE`, `MAILEX_S3_MAX_ATTEMPTS`,
    /// `MAILEX_S3_ATTEMPT_TIMEOUT_MS`, `MAILEX_S3_OPERATION_TIMEOUT_MS`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, HostError> {
        let defaults = S3Settings::default();
        Ok(S3Settings {
            endpoint: non_empty(&get, "MAILEX_S3_ENDPOINT"),
            force_path_style: non_empty(&get, "MAILEX_S3_FORCE_PATH_STYLE")
                .is_some_and(|v| v == "true" || v == "1"),
            max_attempts: number(&get, "MAILEX_S3_MAX_ATTEMPTS", 4)?.clamp(1, 20) as u32,
            attempt_timeout: Duration::from_millis(number(
                &get,
                "MAILEX_S3_ATTEMPT_TIMEOUT_MS",
                defaults.attempt_timeout.as_millis() as u64,
            )?),
            operation_timeout: Duration::from_millis(number(
                &get,
                "MAILEX_S3_OPERATION_TIMEOUT_MS",
                defaults.operation_timeout.as_millis() as u64,
            )?),
        })
    }

    /// [`S3Settings::from_lookup`] on the process environment (the command-line tools).
    pub fn from_env() -> Result<Self, HostError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

fn non_empty(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).filter(|v| !v.trim().is_empty())
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<u64, HostError> {
    match non_empty(get, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| HostError::config(format!("{name}=`{v}` is not a whole number"))),
    }
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: None,
            force_path_style: false,
            max_attempts: 4,
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

/// Everything the handler needs besides the engine and the S3 client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the mailex config lives.
    pub config: ConfigLocation,
    /// Minimum time between two checks of an S3 config.
    pub config_refresh: Duration,
    /// Bucket for records.
    pub output_bucket: String,
    /// Prefix for records (ends in `/`).
    pub output_prefix: String,
    /// Bucket of the SES S3 action, for SES Lambda-action events.
    pub ses_bucket: Option<String>,
    /// Prefix of the SES S3 action.
    pub ses_prefix: String,
    /// Messages of a batch processed at once.
    pub concurrency: usize,
    /// Memory the mail in flight may take, in bytes (see [`crate::MemoryBudget`]).
    pub memory_budget_bytes: u64,
    /// S3 client settings.
    pub s3: S3Settings,
    /// SNS, EventBridge and Secrets Manager endpoint for the sinks, instead of AWS's (tests).
    pub delivery_endpoint: Option<String>,
    /// The AWS Secrets Manager secret (ARN or name) holding the sinks' secrets and the
    /// pseudonym key by variable name, read at the cold start; a name it lacks is looked up in
    /// the environment.
    pub secrets_id: Option<String>,
    /// Key prefix (ending in `/`) in the output bucket of the analytics copy; `None`: no
    /// analytics copy.
    pub analytics_prefix: Option<String>,
    /// Namespace and `Service` dimension of the metrics.
    pub metrics: MetricsTarget,
    /// A message is not started when less than this is left before the invocation's deadline.
    pub deadline_margin: Duration,
}

impl Settings {
    /// Settings for tests and tools: a config file, an output bucket, defaults elsewhere.
    pub fn new(config: ConfigLocation, output_bucket: impl Into<String>) -> Self {
        Settings {
            config,
            config_refresh: Duration::from_secs(60),
            output_bucket: output_bucket.into(),
            output_prefix: "records/".to_owned(),
            ses_bucket: None,
            ses_prefix: String::new(),
            concurrency: 8,
            memory_budget_bytes: DEFAULT_BUDGET_MB << 20,
            s3: S3Settings::default(),
            delivery_endpoint: None,
            secrets_id: None,
            analytics_prefix: None,
            metrics: MetricsTarget::default(),
            deadline_margin: Duration::from_millis(DEFAULT_DEADLINE_MARGIN_MS),
        }
    }

    /// Reads the settings from the process environment (see the module docs).
    pub fn from_env() -> Result<Self, HostError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, HostError> {
        let config = match non_empty(&get, "MAILEX_CONFIG") {
            Some(text) => ConfigLocation::parse(&text)?,
            None => {
                let root = non_empty(&get, "LAMBDA_TASK_ROOT").unwrap_or_else(|| ".".to_owned());
                ConfigLocation::File(
                    std::path::Path::new(&root)
                        .join("config")
                        .join("mailex.toml"),
                )
            }
        };
        let output_bucket = non_empty(&get, "MAILEX_OUTPUT_BUCKET").ok_or_else(|| {
            HostError::config("MAILEX_OUTPUT_BUCKET is not set; name the bucket for records")
        })?;
        let mut output_prefix =
            get("MAILEX_OUTPUT_PREFIX").unwrap_or_else(|| "records/".to_owned());
        if !output_prefix.is_empty() && !output_prefix.ends_with('/') {
            output_prefix.push('/');
        }
        let ses_bucket = non_empty(&get, "MAILEX_SES_BUCKET");
        let ses_prefix = get("MAILEX_SES_PREFIX").unwrap_or_default();
        if ses_bucket.as_deref() == Some(output_bucket.as_str())
            && ses_prefix.starts_with(&output_prefix)
        {
            return Err(HostError::config(
                "MAILEX_SES_PREFIX lies inside MAILEX_OUTPUT_PREFIX: records would trigger the function again",
            ));
        }
        let analytics_prefix = non_empty(&get, "MAILEX_ANALYTICS_PREFIX").map(|mut prefix| {
            if !prefix.ends_with('/') {
                prefix.push('/');
            }
            prefix
        });
        if let Some(analytics) = &analytics_prefix {
            if analytics.starts_with(&output_prefix)
                || output_prefix.starts_with(analytics.as_str())
            {
                return Err(HostError::config(
                    "MAILEX_ANALYTICS_PREFIX and MAILEX_OUTPUT_PREFIX overlap: keep the analytics copy and the records apart",
                ));
            }
            if ses_bucket.as_deref() == Some(output_bucket.as_str())
                && (ses_prefix.starts_with(analytics.as_str())
                    || analytics.starts_with(&ses_prefix))
            {
                return Err(HostError::config(
                    "MAILEX_ANALYTICS_PREFIX overlaps MAILEX_SES_PREFIX: analytics files would trigger the function",
                ));
            }
        }
        let concurrency = number(&get, "MAILEX_CONCURRENCY", 8)?.clamp(1, 256) as usize;
        let budget_mb = match non_empty(&get, "MAILEX_MEMORY_BUDGET_MB") {
            Some(_) => number(&get, "MAILEX_MEMORY_BUDGET_MB", DEFAULT_BUDGET_MB)?,
            None => match non_empty(&get, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
                Some(_) => {
                    number(&get, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0)?.saturating_sub(RESERVED_MB)
                }
                None => DEFAULT_BUDGET_MB,
            },
        }
        .max(64);
        Ok(Settings {
            config,
            config_refresh: Duration::from_secs(number(&get, "MAILEX_CONFIG_REFRESH_SECS", 60)?),
            output_bucket,
            output_prefix,
            ses_bucket,
            ses_prefix,
            concurrency,
            memory_budget_bytes: budget_mb << 20,
            s3: S3Settings::from_lookup(&get)?,
            delivery_endpoint: non_empty(&get, "MAILEX_DELIVERY_ENDPOINT"),
            secrets_id: non_empty(&get, mailex_delivery::SECRETS_ID_VARIABLE),
            analytics_prefix,
            metrics: metrics_target(&get)?,
            deadline_margin: Duration::from_millis(number(
                &get,
                "MAILEX_DEADLINE_MARGIN_MS",
                DEFAULT_DEADLINE_MARGIN_MS,
            )?),
        })
    }
}

/// The metrics' namespace and `Service` dimension: `MAILEX_*`, else Powertools' variables, else
/// `mailex`. Checked here, so a bad value fails the cold start instead of silently losing every
/// metric (CloudWatch drops EMF lines it cannot accept).
fn metrics_target(get: &impl Fn(&str) -> Option<String>) -> Result<MetricsTarget, HostError> {
    let pick = |ours: &str, powertools: &str, default: &str| {
        non_empty(get, ours)
            .map(|v| (ours.to_owned(), v))
            .or_else(|| non_empty(get, powertools).map(|v| (powertools.to_owned(), v)))
            .unwrap_or_else(|| (ours.to_owned(), default.to_owned()))
    };
    let (name, namespace) = pick(
        "MAILEX_METRICS_NAMESPACE",
        "POWERTOOLS_METRICS_NAMESPACE",
        crate::metrics::DEFAULT_NAMESPACE,
    );
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
    if namespace.len() > 255 || !namespace.chars().all(allowed) || namespace.starts_with("AWS/") {
        return Err(HostError::config(format!(
            "{name}=`{namespace}` is not a CloudWatch namespace: up to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/"
        )));
    }
    let (name, service) = pick(
        "MAILEX_SERVICE",
        "POWERTOOLS_SERVICE_NAME",
        crate::metrics::DEFAULT_SERVICE,
    );
    if service.len() > 255 || service.chars().any(char::is_control) {
        return Err(HostError::config(format!(
            "{name} is not a dimension value: up to 255 characters, no control characters"
        )));
    }
    Ok(MetricsTarget { namespace, service })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn s3_config_location_parses() {
        assert_eq!(
            ConfigLocation::parse("s3://b/config").unwrap(),
            ConfigLocation::S3 {
                bucket: "b".into(),
                prefix: "config/".into()
            }
        );
        assert!(ConfigLocation::parse("s3:///x").is_err());
    }

    #[test]
    fn output_bucket_is_required_and_loops_are_refused() {
        assert!(Settings::from_lookup(lookup(&[])).is_err());
        let s = Settings::from_lookup(lookup(&[("MAILEX_OUTPUT_BUCKET", "out")])).unwrap();
        assert_eq!(s.output_prefix, "records/");
        assert!(
            Settings::from_lookup(lookup(&[
                ("MAILEX_OUTPUT_BUCKET", "b"),
                ("MAILEX_SES_BUCKET", "b"),
                ("MAILEX_SES_PREFIX", "records/in/")
            ]))
            .is_err()
        );
        assert!(
            Settings::from_lookup(lookup(&[
                ("MAILEX_OUTPUT_BUCKET", "b"),
                ("MAILEX_CONCURRENCY", "x")
            ]))
            .is_err()
        );
    }

    #[test]
    fn the_analytics_prefix_ends_in_a_slash_and_stays_apart_from_the_records() {
        let prefix = |pairs: &[(&str, &str)]| {
            let mut all = vec![("MAILEX_OUTPUT_BUCKET", "out")];
            all.extend_from_slice(pairs);
            Settings::from_lookup(lookup(&all)).map(|s| s.analytics_prefix)
        };
        assert_eq!(prefix(&[]).unwrap(), None);
        assert_eq!(prefix(&[("MAILEX_ANALYTICS_PREFIX", " ")]).unwrap(), None);
        assert_eq!(
            prefix(&[("MAILEX_ANALYTICS_PREFIX", "analytics")]).unwrap(),
            Some("analytics/".to_owned())
        );
        for (analytics, records) in [
            ("records/", "records/"),
            ("records/a/", "records/"),
            ("a/", "a/b/"),
            ("x/", ""),
        ] {
            let error = prefix(&[
                ("MAILEX_ANALYTICS_PREFIX", analytics),
                ("MAILEX_OUTPUT_PREFIX", records),
            ])
            .unwrap_err();
            assert!(error.to_string().contains("overlap"), "{error}");
        }
        assert!(
            prefix(&[
                ("MAILEX_ANALYTICS_PREFIX", "in/"),
                ("MAILEX_SES_BUCKET", "out"),
                ("MAILEX_SES_PREFIX", "in/mail/"),
            ])
            .is_err()
        );
    }

    #[test]
    fn the_memory_budget_follows_the_function_size() {
        let budget = |pairs: &[(&str, &str)]| {
            let mut all = vec![("MAILEX_OUTPUT_BUCKET", "out")];
            all.extend_from_slice(pairs);
            Settings::from_lookup(lookup(&all))
                .unwrap()
                .memory_budget_bytes
                >> 20
        };
        assert_eq!(
            budget(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")]),
            1024 - RESERVED_MB
        );
        assert_eq!(budget(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")]), 64);
        assert_eq!(
            budget(&[
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
                ("MAILEX_MEMORY_BUDGET_MB", "300")
            ]),
            300
        );
        assert_eq!(budget(&[]), DEFAULT_BUDGET_MB);
    }

    #[test]
    fn metrics_namespace_and_service_come_from_the_environment() {
        let target = |pairs: &[(&str, &str)]| {
            let mut all = vec![("MAILEX_OUTPUT_BUCKET", "out")];
            all.extend_from_slice(pairs);
            Settings::from_lookup(lookup(&all)).map(|s| s.metrics)
        };
        assert_eq!(target(&[]).unwrap(), MetricsTarget::default());
        let ours = target(&[
            ("MAILEX_METRICS_NAMESPACE", "leads/prod"),
            ("MAILEX_SERVICE", "mailex-prod"),
            ("POWERTOOLS_SERVICE_NAME", "other"),
        ])
        .unwrap();
        assert_eq!(
            (ours.namespace.as_str(), ours.service.as_str()),
            ("leads/prod", "mailex-prod")
        );
        let powertools = target(&[("POWERTOOLS_SERVICE_NAME", "pt")]).unwrap();
        assert_eq!(powertools.service, "pt");
        let refused = target(&[("MAILEX_METRICS_NAMESPACE", "AWS/Lambda")]).unwrap_err();
        assert!(refused.to_string().contains("MAILEX_METRICS_NAMESPACE"));
        assert!(target(&[("MAILEX_METRICS_NAMESPACE", "bad\"mark")]).is_err());
        assert!(target(&[("MAILEX_SERVICE", "a\u{7}b")]).is_err());
    }

    #[test]
    fn the_deadline_margin_is_read_in_milliseconds() {
        let base = [("MAILEX_OUTPUT_BUCKET", "out")];
        let s = Settings::from_lookup(lookup(&base)).unwrap();
        assert_eq!(s.deadline_margin, Duration::from_secs(10));
        let s = Settings::from_lookup(lookup(&[
            ("MAILEX_OUTPUT_BUCKET", "out"),
            ("MAILEX_DEADLINE_MARGIN_MS", "2500"),
        ]))
        .unwrap();
        assert_eq!(s.deadline_margin, Duration::from_millis(2500));
    }
}
