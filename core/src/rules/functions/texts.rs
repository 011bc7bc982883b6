//! `texts`: the text of every selected element.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "texts",
    summary: "The text of every selected element, as a list (blank ones dropped).",
    sigs: &[Sig {
        receiver: Ty::Nodes,
        returns: Ty::List,
    }],
    params: &[],
    examples: &[
        Example {
            title: "all link texts",
            email: samples::HTML,
            expr: "css(\"a.listing\").texts.join(\" / \")",
            result: Some("Parkview / Lakeside"),
        },
        Example {
            title: "the second cell",
            email: samples::HTML,
            expr: "css(\"td.label\").texts.nth(2)",
            result: Some("Phone"),
        },
    ],
    compile: |_, _| Ok(Box::new(TextsStep)),
};

struct TextsStep;

impl Step for TextsStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Nodes(nodes) => {
                Value::list(nodes.iter().map(|n| Cow::Owned(crate::css::text(n))))
            }
            _ => None,
        }
    }
}
