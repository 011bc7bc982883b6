//! The error type shared by all normalisers.

use thiserror::Error;

/// Why a value could not be normalised.
///
/// The message describes the problem and never repeats the value itself, because values taken
/// from lead emails are personal data. Parameters that come from configuration (a region code, a
/// currency, the list of allowed enum values) may appear.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The value was empty or only whitespace.
    #[error("the value is empty")]
    Empty,
    /// The value is longer than the normaliser accepts.
    #[error("the value is longer than {max} bytes")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// Not a valid email address.
    #[error("not a valid email address: {reason}")]
    Email {
        /// What is wrong, e.g. "no `@`".
        reason: &'static str,
    },
    /// The phone region given by the configuration is not a known ISO 3166 code.
    #[error("unknown phone region `{region}` (expected an ISO 3166-1 alpha-2 code such as `US`)")]
    UnknownRegion {
        /// The region as configured.
        region: String,
    },
    /// Not a valid phone number.
    #[error("not a valid phone number for region {region}: {reason}")]
    Phone {
        /// The default region used for numbers without a country code.
        region: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid URL.
    #[error("not a valid URL: {reason}")]
    Url {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid amount of money.
    #[error("not a valid amount of money: {reason}")]
    Money {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a recognised date or date-time.
    #[error("not a recognised date: {reason}")]
    Date {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a plausible person name.
    #[error("not a plausible person name: {reason}")]
    PersonName {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not an integer (or out of range).
    #[error("not an integer: {reason}")]
    Int {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a decimal number.
    #[error("not a decimal number: {reason}")]
    Decimal {
        /// What is wrong.
        reason: &'static str,
    },
    /// Not one of the allowed values of an enum field.
    #[error("not one of the allowed values ({})", allowed.join(", "))]
    NotAllowed {
        /// The allowed values, from the configuration.
        allowed: Vec<String>,
    },
}
