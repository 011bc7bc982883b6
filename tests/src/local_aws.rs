//! The local AWS API the tests talk to: the moto server `scripts/start-s3.sh` starts on
//! loopback (S3, SNS, SQS and EventBridge on one endpoint).

/// The local AWS endpoint (`MAILEX_TEST_S3_ENDPOINT`), or `None`, with a loud note on the real
/// stderr, when the calling test must skip. Under `CI=true` a missing endpoint is a failure.
pub fn endpoint() -> Option<String> {
    match std::env::var("MAILEX_TEST_S3_ENDPOINT") {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        _ => {
            crate::server_missing("MAILEX_TEST_S3_ENDPOINT", "scripts/start-s3.sh", "AWS");
            None
        }
    }
}
