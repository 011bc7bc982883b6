//! `lines`: every non-blank line.

use super::*;
use crate::textops;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "lines",
    summary: "Every line that is not blank, trimmed, as a list.",
    sigs: &[Sig {
        receiver: Ty::Text,
        returns: Ty::List,
    }],
    params: &[],
    examples: &[
        Example {
            title: "the second line of a block",
            email: samples::TEXT,
            expr: "text.after(\"Message:\").lines.nth(2)",
            result: Some("I'd like a tour."),
        },
        Example {
            title: "the first line of the body",
            email: samples::TEXT,
            expr: "text.lines.first",
            result: Some("New lead for Parkview Apartments"),
        },
    ],
    compile: |_, _| Ok(Box::new(LinesStep)),
};

struct LinesStep;

impl Step for LinesStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Text(Cow::Borrowed(s)) => Value::list(textops::lines_iter(s).map(Cow::Borrowed)),
            Value::Text(Cow::Owned(s)) => {
                Value::list(textops::lines_iter(&s).map(|l| Cow::Owned(l.to_owned())))
            }
            _ => None,
        }
    }
}
