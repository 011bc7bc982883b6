//! `texts`: the text of every selected element.

use super::*;
use std::borrow::Cow;

use super::super::value::MAX_TEXT_LEN;

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
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Nodes(nodes) => {
                // Each text is charged while it is read; the evaluator charges the list it gets
                // back, so the reading charge is released here.
                let mark = cx.budget.scratch_mark();
                let mut texts = Vec::with_capacity(nodes.len());
                for node in &nodes {
                    let text = crate::css::text_within(node, MAX_TEXT_LEN, &cx.budget).ok()?;
                    texts.push(Cow::Owned(text));
                }
                cx.budget.release_scratch(mark);
                Value::list(texts)
            }
            _ => None,
        }
    }
}
