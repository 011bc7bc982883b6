//! The local AWS API the tests talk to: the moto server `scripts/start-s3.sh` starts on
//! loopback (S3, SNS, SQS and EventBridge on one endpoint).

use std::io::Write;

/// The local AWS endpoint (`MAILEX_TEST_S3_ENDPOINT`), or `None`, with a loud note on the real
/// stderr, when the calling test must skip. Under `CI=true` a missing endpoint is a failure.
pub fn endpoint() -> Option<String> {
    match std::env::var("MAILEX_TEST_S3_ENDPOINT") {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "MAILEX_TEST_S3_ENDPOINT is unset under CI=true; run `eval \"$(scripts/start-s3.sh)\"` first"
                );
            }
            // Written to the real stderr (not `eprintln!`, which the test harness captures), so
            // the skip is visible in every run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {}: MAILEX_TEST_S3_ENDPOINT is unset; run `eval \"$(scripts/start-s3.sh)\"` to run the AWS tests",
                std::thread::current().name().unwrap_or("?")
            );
            None
        }
    }
}
