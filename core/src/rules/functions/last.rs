//! `last`: the last item of a list.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "last",
    summary: "The last item of a list.",
    sigs: LIST_TO_TEXT,
    params: &[],
    examples: &[Example {
        title: "last line",
        email: samples::TEXT,
        expr: "text.lines.last",
        result: Some("Sent by Rentals Portal"),
    }],
    compile: |_, _| Ok(Box::new(super::first::Pick(|n| n.checked_sub(1)))),
};
