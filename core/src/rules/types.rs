//! Field types and their normalisers (`text`, `email`, `phone(region)`, ...).

use mailex_grammar::ast::{LiteralValue, TypeRef};
use mailex_grammar::{Diagnostic, codes, suggest};

pub use crate::normalize::FieldType;
use crate::normalize::{self, DateOrder};

/// The type names, for the reference and suggestions.
pub const TYPE_NAMES: &[&str] = &[
    "text",
    "email",
    "phone",
    "url",
    "int",
    "decimal",
    "money",
    "date",
    "datetime",
    "person_name",
    "enum",
];

impl FieldType {
    /// Checks a type reference; diagnostics go to `diags`.
    pub(crate) fn from_ast(t: &TypeRef, diags: &mut Vec<Diagnostic>) -> Option<FieldType> {
        let name = t.name.node.as_str();
        fn bad(diags: &mut Vec<Diagnostic>, msg: &str, span: mailex_grammar::Span, help: &str) {
            diags.push(
                Diagnostic::new(codes::INVALID_TYPE_ARGUMENT, msg)
                    .primary(span, "invalid type argument")
                    .help(help),
            );
        }
        let str_arg = |key: &str, pos: usize| {
            t.args.iter().enumerate().find_map(|(i, a)| match &a.name {
                Some(n) if n.node == key => Some(a),
                None if i == pos => Some(a),
                _ => None,
            })
        };
        let check_names = |allowed: &[&str], diags: &mut Vec<Diagnostic>| {
            for a in &t.args {
                if let Some(n) = &a.name
                    && !allowed.contains(&n.node.as_str())
                {
                    let mut d = Diagnostic::new(
                        codes::INVALID_TYPE_ARGUMENT,
                        format!("`{name}` has no parameter `{}`", n.node),
                    )
                    .primary(n.span, "unknown parameter");
                    d = match suggest(&n.node, allowed.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if allowed.is_empty() => {
                            d.help(format!("`{name}` takes no arguments"))
                        }
                        None => d.help(format!(
                            "`{name}` takes {}",
                            allowed
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    diags.push(d);
                }
            }
        };
        let no_args = |diags: &mut Vec<Diagnostic>| {
            if let Some(a) = t.args.first() {
                diags.push(
                    Diagnostic::new(
                        codes::INVALID_TYPE_ARGUMENT,
                        format!("type `{name}` takes no arguments"),
                    )
                    .primary(a.span, "unexpected argument")
                    .help(format!("write `{name}` without parentheses")),
                );
            }
        };
        let string_of = |a: &mailex_grammar::ast::Arg| match &a.value.value {
            LiteralValue::Str(s) => Some(s.clone()),
            _ => None,
        };
        Some(match name {
            "text" | "email" | "url" | "int" | "decimal" | "person_name" => {
                no_args(diags);
                match name {
                    "text" => FieldType::Text,
                    "email" => FieldType::Email,
                    "url" => FieldType::Url,
                    "int" => FieldType::Int,
                    "decimal" => FieldType::Decimal,
                    _ => FieldType::PersonName,
                }
            }
            "phone" => {
                check_names(&["region"], diags);
                let region = match str_arg("region", 0) {
                    Some(a) => match string_of(a) {
                        Some(r) if r.len() == 2 && normalize::is_known_region(&r) => {
                            r.to_ascii_uppercase()
                        }
                        _ => {
                            bad(
                                diags,
                                "unknown phone region",
                                a.value.span,
                                "use an ISO 3166-1 alpha-2 code such as \"US\", \"GB\" or \"DE\"",
                            );
                            normalize::DEFAULT_REGION.to_owned()
                        }
                    },
                    None => normalize::DEFAULT_REGION.to_owned(),
                };
                FieldType::Phone { region }
            }
            "money" => {
                check_names(&["currency", "currency_from"], diags);
                let currency_from = t.args.iter().find_map(|a| match &a.name {
                    Some(n) if n.node == "currency_from" => match string_of(a) {
                        Some(field) => Some(field),
                        None => {
                            bad(
                                diags,
                                "`currency_from` names a field",
                                a.value.span,
                                "write the name of a field declared before this one, e.g. currency_from: \"price_currency\"",
                            );
                            None
                        }
                    },
                    _ => None,
                });
                let currency = match str_arg("currency", 0) {
                    Some(a) => match string_of(a) {
                        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                            Some(c.to_ascii_uppercase())
                        }
                        _ => {
                            bad(
                                diags,
                                "not an ISO 4217 currency code",
                                a.value.span,
                                "write a three-letter code such as \"USD\" or \"EUR\"",
                            );
                            None
                        }
                    },
                    None => None,
                };
                FieldType::Money {
                    currency,
                    currency_from,
                }
            }
            "date" | "datetime" => {
                check_names(&["order"], diags);
                let order = match str_arg("order", 0) {
                    Some(a) => match string_of(a).as_deref() {
                        Some("mdy") | Some("month_first") => DateOrder::MonthFirst,
                        Some("dmy") | Some("day_first") => DateOrder::DayFirst,
                        _ => {
                            bad(
                                diags,
                                "unknown day/month order",
                                a.value.span,
                                "write `order: \"mdy\"` (month first, the default) or `order: \"dmy\"` (day first)",
                            );
                            DateOrder::MonthFirst
                        }
                    },
                    None => DateOrder::MonthFirst,
                };
                if name == "date" {
                    FieldType::Date { order }
                } else {
                    FieldType::Datetime { order }
                }
            }
            "enum" => {
                check_names(&[], diags);
                let mut values = Vec::new();
                for a in &t.args {
                    match string_of(a) {
                        Some(s) if !s.trim().is_empty() => values.push(s),
                        _ => bad(
                            diags,
                            "enum values must be non-empty strings",
                            a.value.span,
                            "write `enum(\"house\", \"apartment\")`",
                        ),
                    }
                }
                if t.args.is_empty() {
                    bad(
                        diags,
                        "`enum` needs at least one value",
                        t.span,
                        "write `enum(\"house\", \"apartment\")`",
                    );
                }
                FieldType::Enum(values)
            }
            _ => {
                let mut d = Diagnostic::new(codes::UNKNOWN_TYPE, format!("unknown type `{name}`"))
                    .primary(t.name.span, "not a field type");
                d = match suggest(name, TYPE_NAMES.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "the types are {}",
                        TYPE_NAMES
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                diags.push(d);
                return None;
            }
        })
    }
}
