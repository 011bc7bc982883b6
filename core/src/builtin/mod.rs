//! Extractors compiled into mailex, for the public lead standards.
//!
//! - `builtin:adf`: ADF/XML 1.0 car-dealer leads ([`adf`]);
//! - `builtin:lead-meta`: `<meta name="lead_*" content="...">` tags in the HTML ([`lead_meta`]).
//!
//! Both read these optional route settings (`[route.settings]` in `mailex.toml`):
//!
//! | setting        | meaning                                         | default       |
//! |----------------|-------------------------------------------------|---------------|
//! | `phone_region` | region for phone numbers without country code   | `US`          |
//! | `currency`     | currency for amounts without a currency marker  | `USD`         |
//! | `date_order`   | `month_first` or `day_first` for `09-07-2018`   | `month_first` |

use std::sync::Arc;

use crate::extractor::{ExtractContext, Extractor};
use crate::normalize::{DEFAULT_REGION, DateOrder};
use crate::record::{ExtractorInfo, ExtractorKind};

pub mod adf;
pub mod lead_meta;

/// The names accepted after `builtin:`.
pub const NAMES: &[&str] = &["adf", "lead-meta"];

/// The built-in extractor called `name` (without the `builtin:` prefix).
pub fn resolve(name: &str) -> Option<Arc<dyn Extractor>> {
    match name {
        "adf" => Some(Arc::new(adf::AdfExtractor::new())),
        "lead-meta" => Some(Arc::new(lead_meta::LeadMetaExtractor::new())),
        _ => None,
    }
}

/// The `ExtractorInfo` of a built-in.
fn info(name: &str) -> ExtractorInfo {
    ExtractorInfo {
        kind: ExtractorKind::Builtin,
        name: format!("builtin:{name}"),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        hash: None,
        profile: None,
    }
}

/// Route settings shared by the built-ins.
struct Options {
    region: String,
    currency: String,
    order: DateOrder,
}

impl Options {
    fn from_ctx(ctx: &ExtractContext<'_>) -> Options {
        let get = |k: &str| {
            ctx.settings
                .get(k)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        Options {
            region: get("phone_region").unwrap_or(DEFAULT_REGION).to_owned(),
            currency: get("currency").unwrap_or("USD").to_ascii_uppercase(),
            order: match get("date_order") {
                Some(o) if o.eq_ignore_ascii_case("day_first") => DateOrder::DayFirst,
                _ => DateOrder::MonthFirst,
            },
        }
    }
}

/// Normalises a date-time if it has a time, else a date: RFC 3339 UTC or `YYYY-MM-DD`.
fn date_or_datetime(
    raw: &str,
    order: DateOrder,
) -> Result<String, crate::normalize::NormalizeError> {
    use chrono::SecondsFormat;
    match crate::normalize::datetime(raw, order) {
        Ok(t) => Ok(t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        Err(e) => crate::normalize::date(raw, order)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| e),
    }
}
