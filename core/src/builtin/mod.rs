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
use crate::normalize::{DEFAULT_REGION, DateOrder, FieldType};
use crate::record::{ExtractorInfo, ExtractorKind, FieldValue};

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

/// Normalises a date-time if it has a time, else a date: RFC 3339 (UTC, or a local time
/// without offset when the value gives no zone) or `YYYY-MM-DD`.
/// Both through the one mapping from type to normaliser ([`FieldType::normalize`]).
fn date_or_datetime(
    raw: &str,
    order: DateOrder,
) -> Result<FieldValue, crate::normalize::NormalizeError> {
    FieldType::Datetime { order }
        .normalize(raw)
        .or_else(|e| FieldType::Date { order }.normalize(raw).map_err(|_| e))
}

#[cfg(test)]
mod fixture_tests {
    //! Runs the built-ins over `tests/fixtures/{adf,lead-meta}/*.eml`, each paired with
    //! `*.expected.json`: `completeness`, the exact field set as display strings, and warning
    //! codes that must be present.

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::extractor::Completeness;
    use crate::message::Email;

    fn fixtures(dir: &str) -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
    }

    fn check(dir: &str, extractor: &dyn Extractor, min: usize) {
        let files = fixtures(dir);
        assert!(
            files.len() >= min,
            "expected at least {min} fixtures in {dir}"
        );
        let settings = BTreeMap::new();
        let ctx = ExtractContext {
            route: "fixture",
            settings: &settings,
        };
        let mut failures = Vec::new();
        for eml in &files {
            let raw = std::fs::read(eml).unwrap_or_default();
            let email = Email::parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", eml.display()));
            let ex = extractor.extract(&email, &ctx);
            let json_path = eml.with_extension("expected.json");
            let expected: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap_or_default())
                    .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
            let completeness = match ex.completeness {
                Completeness::Complete => "complete",
                Completeness::Partial => "partial",
                Completeness::Failed => "failed",
            };
            let fields: BTreeMap<String, String> = ex
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.to_display_string()))
                .collect();
            let want_fields: BTreeMap<String, String> = expected["fields"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let name = eml
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if expected["completeness"] != completeness {
                failures.push(format!(
                    "{name}: completeness {completeness}, expected {} ({:?})",
                    expected["completeness"], ex.errors
                ));
            }
            for k in want_fields.keys().chain(fields.keys()) {
                if want_fields.get(k) != fields.get(k) {
                    failures.push(format!(
                        "{name}: field {k}: got {:?}, expected {:?}",
                        fields.get(k),
                        want_fields.get(k)
                    ));
                }
            }
            for code in expected["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
            {
                if !ex.warnings.iter().any(|w| w.code == code) {
                    failures.push(format!(
                        "{name}: missing warning {code} (got {:?})",
                        ex.warnings
                    ));
                }
            }
        }
        failures.dedup();
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn adf_fixtures() {
        check("tests/fixtures/adf", &adf::AdfExtractor::new(), 11);
    }

    #[test]
    fn lead_meta_fixtures() {
        check(
            "tests/fixtures/lead-meta",
            &lead_meta::LeadMetaExtractor::new(),
            3,
        );
    }

    #[test]
    fn example_inbox_samples_are_complete() {
        let settings = BTreeMap::new();
        let ctx = ExtractContext {
            route: "example",
            settings: &settings,
        };
        let mut seen = 0;
        for eml in fixtures("examples/inbox") {
            let file = eml
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let extractor: Box<dyn Extractor> = if file.starts_with("adf-") {
                Box::new(adf::AdfExtractor::new())
            } else if file.starts_with("lead-meta-") {
                Box::new(lead_meta::LeadMetaExtractor::new())
            } else {
                continue;
            };
            let raw = std::fs::read(&eml).unwrap_or_default();
            let email = Email::parse(&raw).unwrap_or_else(|e| panic!("{file}: {e}"));
            let ex = extractor.extract(&email, &ctx);
            assert_eq!(
                ex.completeness,
                Completeness::Complete,
                "{file}: {:?}",
                ex.errors
            );
            seen += 1;
        }
        assert!(
            seen >= 3,
            "expected 2 ADF and 1 lead-meta sample in examples/inbox"
        );
    }
}
