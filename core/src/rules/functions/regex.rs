//! `regex(pattern)`: a capture of a regular expression.

use super::*;
use std::sync::Arc;

use mailex_grammar::codes;

use crate::textops::{BudgetedRegex, Group, RegexError};

pub(crate) const FUNCTION: Function = Function {
    name: "regex",
    summary: "The first match of a regular expression (Rust `regex` syntax: linear time, no \
              look-around or back-references; size-limited). Returns the group named `v` if the \
              pattern has one, else group 1 if any, else the whole match; `group:` picks a named \
              group, which must exist. Write patterns as raw strings `r\"...\"`. Checked at compile time.",
    sigs: TEXT_TO_TEXT,
    params: &[
        Param {
            name: "pattern",
            kind: ParamKind::Regex,
            required: true,
            doc: "the regular expression",
        },
        Param {
            name: "group",
            kind: ParamKind::Str,
            required: false,
            doc: "the name of the capture group to return",
        },
    ],
    examples: &[
        Example {
            title: "the `v` group",
            email: samples::TEXT,
            expr: r#"text.regex(r"(?i)e-?mail:\s*(?P<v>\S+@\S+)")"#,
            result: Some("Jane.Doe@Example.com"),
        },
        Example {
            title: "a named group",
            email: samples::TEXT,
            expr: r#"text.regex(r"Phone: \((?P<area>\d{3})\)", group: "area")"#,
            result: Some("202"),
        },
        Example {
            title: "no match",
            email: samples::TEXT,
            expr: r#"text.regex(r"Fax: (\d+)")"#,
            result: None,
        },
    ],
    compile: |_, args| {
        let re = args.regex(0)?.clone();
        let index = match args.str(1) {
            Some(name) => re.group_index(Group::Name(name)).map_err(|_| {
                let names: Vec<String> = re
                    .capture_names()
                    .flatten()
                    .map(|n| format!("`{n}`"))
                    .collect();
                let help = if names.is_empty() {
                    format!("add a group `(?P<{name}>...)` to the pattern")
                } else {
                    format!("the pattern's named groups are {}", names.join(", "))
                };
                ArgError::new(
                    codes::UNKNOWN_REGEX_GROUP,
                    1,
                    format!("the pattern has no group `{name}`"),
                )
                .help(help)
            })?,
            None => re.group_index(Group::Auto).unwrap_or(0),
        };
        Ok(Box::new(RegexStep { re, index }))
    },
};

/// Turns a regex compile error into a diagnostic on parameter `param`.
pub(crate) fn regex_error(e: RegexError, param: usize) -> ArgError {
    let message = match &e {
        RegexError::Syntax(m) => m
            .lines()
            .last()
            .unwrap_or("invalid syntax")
            .trim()
            .trim_start_matches("error: ")
            .to_owned(),
        other => other.to_string(),
    };
    ArgError::new(codes::INVALID_REGEX, param, message)
        .help("patterns use Rust `regex` syntax (https://docs.rs/regex); write them as raw strings `r\"...\"`")
}

struct RegexStep {
    re: Arc<BudgetedRegex>,
    index: usize,
}

impl Step for RegexStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let Value::Text(t) = input else { return None };
        let span = self.re.capture(&t, self.index, &cx.budget).ok()??;
        match t {
            std::borrow::Cow::Borrowed(s) => Value::text(&s[span]),
            std::borrow::Cow::Owned(s) => Value::text(s[span].to_owned()),
        }
    }
}
