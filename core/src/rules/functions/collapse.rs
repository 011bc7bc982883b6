//! `collapse`: one line, single spaces.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "collapse",
    summary: "Joins all lines and collapses every whitespace run into one space (zero-width \
              characters dropped), trimmed.",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[Example {
        title: "a message on one line",
        email: samples::TEXT,
        expr: "text.between(\"Message:\", \"----\") | collapse",
        result: Some("Hello, I'd like a tour."),
    }],
    compile: |_, _| {
        Ok(Box::new(MapText(Box::new(|s| {
            Some(crate::normalize::collapse_ws(s))
        }))))
    },
};
