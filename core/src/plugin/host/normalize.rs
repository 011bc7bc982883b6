//! `mailex:extractor/normalize`: each host function normalises as a rule file's field of the
//! same type does, through the one mapping from type to normaliser ([`FieldType::normalize`]).
//! A value that does not normalise is `none`; the reason is not passed on (it could
//! quote the value). Each call counts against the call's budget (its input is held while it
//! runs; each normaliser rejects input over its own length cap before parsing it).

use crate::normalize::{self, DateOrder, FieldType};
use crate::plugin::bindings::mailex::extractor::normalize::{DateOrder as WitDateOrder, Host};
use crate::plugin::bindings::types::{Money, PersonName};
use crate::plugin::state::HostState;
use crate::record::FieldValue;

/// The text of a normalised value (every type but money, person name and int is one).
fn text(value: FieldValue) -> Option<String> {
    match value {
        FieldValue::Text(text) => Some(text),
        _ => None,
    }
}

impl HostState {
    /// Runs one normaliser under the call's budget.
    fn normalise<R>(
        &mut self,
        name: &'static str,
        input: &str,
        extra: usize,
        normaliser: impl FnOnce(&str) -> Option<R>,
    ) -> wasmtime::Result<Option<R>> {
        self.host_call(name, input.len() + extra, |state| {
            state.budget().work(input.len() as u64)?;
            Ok(normaliser(input))
        })
    }
}

impl HostState {
    /// A date read with `order` for ambiguous numeric dates, as a rule file's
    /// `date(order: ...)` field reads it (contract 1.2 lets plugins choose the order).
    fn normalise_date(
        &mut self,
        name: &'static str,
        input: &str,
        order: DateOrder,
    ) -> wasmtime::Result<Option<String>> {
        let date = FieldType::Date { order };
        self.normalise(name, input, 0, |s| date.normalize(s).ok().and_then(text))
    }
}

impl Host for HostState {
    fn normalize_email(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise("normalize-email", &input, 0, |s| {
            FieldType::Email.normalize(s).ok().and_then(text)
        })
    }

    fn normalize_phone(
        &mut self,
        input: String,
        region: Option<String>,
    ) -> wasmtime::Result<Option<String>> {
        let region = region.unwrap_or_else(|| normalize::DEFAULT_REGION.to_owned());
        let extra = region.len();
        let phone = FieldType::Phone { region };
        self.normalise("normalize-phone", &input, extra, |s| {
            phone.normalize(s).ok().and_then(text)
        })
    }

    fn normalize_url(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise("normalize-url", &input, 0, |s| {
            FieldType::Url.normalize(s).ok().and_then(text)
        })
    }

    fn normalize_money(
        &mut self,
        input: String,
        default_currency: Option<String>,
    ) -> wasmtime::Result<Option<Money>> {
        let extra = default_currency.as_ref().map_or(0, String::len);
        let money = FieldType::Money {
            currency: default_currency,
            currency_from: None,
        };
        self.normalise("normalize-money", &input, extra, |s| {
            match money.normalize(s).ok()? {
                FieldValue::Money(m) => Some(Money {
                    amount: m.amount,
                    currency: m.currency,
                }),
                _ => None,
            }
        })
    }

    fn normalize_date(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise_date("normalize-date", &input, DateOrder::default())
    }

    fn normalize_date_in_order(
        &mut self,
        input: String,
        order: WitDateOrder,
    ) -> wasmtime::Result<Option<String>> {
        let order = match order {
            WitDateOrder::MonthFirst => DateOrder::MonthFirst,
            WitDateOrder::DayFirst => DateOrder::DayFirst,
        };
        self.normalise_date("normalize-date-in-order", &input, order)
    }

    fn normalize_name(&mut self, input: String) -> wasmtime::Result<Option<PersonName>> {
        self.normalise("normalize-name", &input, 0, |s| match FieldType::PersonName
            .normalize(s)
            .ok()?
        {
            FieldValue::Name(n) => Some(PersonName {
                full: n.full,
                first: n.first,
                last: n.last,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Rule files, `builtin:lead-meta`, the plugins' `normalize` host functions and the check
    //! of the values plugins return all normalise through [`FieldType::normalize`]: for every
    //! field type, the same input gives the same value on every path that has the type.

    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::budget::Budget;
    use crate::builtin::lead_meta::LeadMetaExtractor;
    use crate::extractor::{ExtractContext, Extractor};
    use crate::message::Email;
    use crate::plugin::bindings::types::Value;
    use crate::plugin::state::{CallInput, CallLimits};
    use crate::rules::RuleSet;
    use crate::textops::RegexCache;

    /// One field type and an input, with the name `builtin:lead-meta` gives that type (if it
    /// has one), the host function that normalises it (if there is one) and the value a plugin
    /// would return for it (if the contract has one).
    struct Case {
        dsl_type: &'static str,
        input: &'static str,
        lead_meta: Option<&'static str>,
        host: Option<fn(&mut HostState, String) -> Option<FieldValue>>,
        plugin: Option<fn(String) -> Value>,
    }

    fn host_state() -> HostState {
        HostState::new(
            "normalise-paths",
            CallLimits::default(),
            Budget::unlimited(),
            RegexCache::new(),
            CallInput::default(),
        )
    }

    const CASES: &[Case] = &[
        Case {
            dsl_type: "text",
            input: "  Two  words\n  and a second line  ",
            lead_meta: Some("comments"),
            host: None,
            plugin: Some(Value::Text),
        },
        Case {
            dsl_type: "email",
            input: " <Jane.Doe@Example.COM> ",
            lead_meta: Some("email"),
            host: Some(|state, s| state.normalize_email(s).ok()?.map(FieldValue::Text)),
            plugin: Some(Value::Email),
        },
        Case {
            dsl_type: "phone",
            input: "(202) 555-0143",
            lead_meta: Some("phone"),
            host: Some(|state, s| state.normalize_phone(s, None).ok()?.map(FieldValue::Text)),
            plugin: Some(Value::Phone),
        },
        Case {
            dsl_type: "url",
            input: "HTTPS://Example.com/listing?id=7",
            lead_meta: Some("url"),
            host: Some(|state, s| state.normalize_url(s).ok()?.map(FieldValue::Text)),
            plugin: Some(Value::Url),
        },
        Case {
            dsl_type: "int",
            input: " 3 ",
            lead_meta: Some("beds"),
            host: None,
            plugin: None,
        },
        Case {
            dsl_type: "decimal",
            input: "2.5",
            lead_meta: Some("baths"),
            host: None,
            plugin: Some(|s| Value::Decimal(s.parse().unwrap_or(f64::NAN))),
        },
        Case {
            dsl_type: "money(currency: \"USD\")",
            input: "$1,250",
            lead_meta: Some("price"),
            host: Some(|state, s| {
                state
                    .normalize_money(s, Some("USD".to_owned()))
                    .ok()?
                    .map(|m| {
                        FieldValue::Money(crate::record::Money {
                            amount: m.amount,
                            currency: m.currency,
                        })
                    })
            }),
            plugin: Some(|s| {
                Value::Money(crate::plugin::bindings::types::Money {
                    amount: s,
                    currency: "USD".to_owned(),
                })
            }),
        },
        Case {
            dsl_type: "date",
            input: "09-07-2018",
            lead_meta: Some("move_in"),
            host: Some(|state, s| state.normalize_date(s).ok()?.map(FieldValue::Text)),
            plugin: Some(Value::Date),
        },
        Case {
            dsl_type: "date(order: \"mdy\")",
            input: "03/04/2026",
            lead_meta: None,
            host: Some(|state, s| {
                state
                    .normalize_date_in_order(s, WitDateOrder::MonthFirst)
                    .ok()?
                    .map(FieldValue::Text)
            }),
            plugin: None,
        },
        Case {
            dsl_type: "date(order: \"dmy\")",
            input: "03/04/2026",
            lead_meta: None,
            host: Some(|state, s| {
                state
                    .normalize_date_in_order(s, WitDateOrder::DayFirst)
                    .ok()?
                    .map(FieldValue::Text)
            }),
            plugin: None,
        },
        Case {
            dsl_type: "datetime",
            input: "Sun, 9 Feb 2020 23:26:00 +0100",
            lead_meta: Some("created"),
            host: None,
            plugin: Some(Value::Datetime),
        },
        Case {
            dsl_type: "datetime",
            input: "02/09/2020 11:26 PM",
            lead_meta: Some("created"),
            host: None,
            plugin: Some(Value::Datetime),
        },
        Case {
            dsl_type: "person_name",
            input: "  jane   DOE ",
            lead_meta: Some("name"),
            host: Some(|state, s| {
                state.normalize_name(s).ok()?.map(|n| {
                    FieldValue::Name(crate::record::PersonName {
                        full: n.full,
                        first: n.first,
                        last: n.last,
                    })
                })
            }),
            plugin: Some(|s| {
                Value::Name(crate::plugin::bindings::types::PersonName {
                    full: s,
                    first: None,
                    last: None,
                })
            }),
        },
        Case {
            dsl_type: "enum(\"rent\", \"buy\")",
            input: " Rent ",
            lead_meta: None,
            host: None,
            plugin: None,
        },
    ];

    /// The value a rule file's field of `dsl_type` gets for the literal `input`.
    fn by_rule_file(dsl_type: &str, input: &str) -> Option<FieldValue> {
        let literal = input
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let source = format!(
            "version 1\nprofile \"p\" {{\n  field v: {dsl_type} optional = \"{literal}\"\n}}\n"
        );
        let set = RuleSet::compile("paths.rules", &source, Path::new("."))
            .unwrap_or_else(|e| panic!("{}", e.rendered()));
        let email = Email::parse(b"From: a@b.example\r\n\r\nbody\r\n").unwrap();
        let settings = BTreeMap::new();
        let ctx = ExtractContext {
            route: "t",
            settings: &settings,
        };
        set.extract(&email, &ctx).fields.remove("v")
    }

    /// The value `builtin:lead-meta` gives `lead_<field>` with content `input`.
    fn by_lead_meta(field: &str, input: &str) -> Option<FieldValue> {
        let content = input
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        let raw = format!(
            "From: a@b.example\r\nContent-Type: text/html\r\n\r\n\
             <meta name=\"lead_phone\" content=\"+12025550143\">\
             <meta name=\"lead_{field}\" content=\"{content}\"><p>lead</p>"
        );
        let email = Email::parse(raw.as_bytes()).unwrap();
        let settings = BTreeMap::new();
        let ctx = ExtractContext {
            route: "t",
            settings: &settings,
        };
        LeadMetaExtractor::new()
            .extract(&email, &ctx)
            .fields
            .remove(field)
    }

    #[test]
    fn every_path_normalises_a_type_alike() {
        let mut failures = Vec::new();
        for case in CASES {
            let by_type = by_rule_file(case.dsl_type, case.input);
            assert!(
                by_type.is_some(),
                "{}: {:?} does not normalise in a rule file",
                case.dsl_type,
                case.input
            );
            let mut paths = Vec::new();
            if let Some(field) = case.lead_meta {
                let value = by_lead_meta(field, case.input);
                if case.dsl_type == "text" {
                    // lead-meta collapses an attribute's whitespace before normalising it.
                    let collapsed = normalize::collapse_ws(case.input);
                    assert_ne!(
                        collapsed,
                        case.input.trim(),
                        "the case should show the collapse"
                    );
                    let expected = by_rule_file("text", &collapsed);
                    if value != expected {
                        failures.push(format!("text: lead-meta gave {value:?}, not {expected:?}"));
                    }
                } else {
                    paths.push(("builtin:lead-meta", value));
                }
            }
            if let Some(host) = case.host {
                paths.push((
                    "host function",
                    host(&mut host_state(), case.input.to_owned()),
                ));
            }
            if let Some(plugin) = case.plugin {
                let value = crate::plugin::convert::field_value(plugin(case.input.to_owned()));
                paths.push(("plugin value", value.ok()));
            }
            for (path, value) in paths {
                if value != by_type {
                    failures.push(format!(
                        "{} {:?}: {path} gave {value:?}, a rule file {by_type:?}",
                        case.dsl_type, case.input
                    ));
                }
            }
        }
        let names: std::collections::BTreeSet<&str> = CASES
            .iter()
            .map(|c| c.dsl_type.split('(').next().unwrap_or_default())
            .collect();
        for name in crate::rules::TYPE_NAMES {
            assert!(names.contains(name), "no case for type `{name}`");
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// `builtin:lead-meta`'s time fields (`created`, ...) take a datetime, or a date when the
    /// value has no time of day; a rule file's `datetime` field takes only a datetime.
    #[test]
    fn lead_meta_time_fields_fall_back_to_a_date() {
        assert_eq!(by_rule_file("datetime", "2020-02-09"), None);
        assert_eq!(
            by_lead_meta("created", "2020-02-09"),
            Some(FieldValue::Text("2020-02-09".to_owned()))
        );
    }
}
