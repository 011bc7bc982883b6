//! `first`: the first item of a list.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "first",
    summary: "The first item of a list.",
    sigs: LIST_TO_TEXT,
    params: &[],
    examples: &[Example {
        title: "first line",
        email: samples::TEXT,
        expr: "text.lines.first",
        result: Some("New lead for Parkview Apartments"),
    }],
    compile: |_, _| Ok(Box::new(Pick(|n| (n > 0).then_some(0)))),
};

/// Picks one item of a list by a function of its length.
pub(crate) struct Pick(pub(crate) fn(usize) -> Option<usize>);

impl Step for Pick {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::List(mut items) => {
                let i = (self.0)(items.len())?;
                if i < items.len() {
                    Some(Value::Text(items.swap_remove(i)))
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}
