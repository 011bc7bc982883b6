//! All integration tests of `mailex-lambda`, compiled into one binary.
//!
//! They need a local S3 API: run `eval "$(scripts/start-s3.sh)"` first (it sets
//! `MAILEX_TEST_S3_ENDPOINT`). Without it the S3 tests print `SKIPPED` and pass, except under
//! `CI=true`, where a missing endpoint fails them.

mod it;
