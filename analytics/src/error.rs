//! Errors of writing the analytics copy. They name what went wrong, never a value of a row.

/// Why a batch of analytics rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The batch id would not make a safe file name.
    #[error("the analytics batch id must be 1 to 64 ASCII letters, digits, `-` or `_`")]
    BadBatchId,
    /// Arrow refused the columns (a bug: the rows and the schema disagree).
    #[error("the analytics columns do not match the schema: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The pseudonym key cannot be used (its id is not valid).
    #[error("{variable}: {error}", variable = crate::key::KEY_ID_VARIABLE, error = .0)]
    Key(mailex_core::pseudonym::PseudonymKeyError),
    /// The Parquet writer failed.
    #[error("the Parquet file could not be written: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}
