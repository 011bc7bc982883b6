//! `html`: the raw HTML body.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "html",
    summary: "The raw HTML body of an email (markup included), for `regex` over attributes or \
              comments. Prefer `css(...)` to read elements.",
    sigs: SOURCE_TEXT,
    params: &[],
    examples: &[
        Example {
            title: "a listing id in a link",
            email: samples::HTML,
            expr: r#"html.regex(r"/l/(\d+)")"#,
            result: Some("42"),
        },
        Example {
            title: "no HTML part",
            email: samples::TEXT,
            expr: "html",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(HtmlStep)),
};

struct HtmlStep;

impl Step for HtmlStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(Cow::Borrowed(m.html()?)),
            _ => None,
        }
    }
}
