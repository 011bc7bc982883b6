//! `lower`: change letter case.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "lower",
    summary: "The text in lowercase (Unicode-aware).",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[Example {
        title: "an address",
        email: samples::TEXT,
        expr: "text.after(\"Email:\").line | lower",
        result: Some("jane.doe@example.com"),
    }],
    compile: |_, _| Ok(Box::new(MapText(Box::new(|s| Some(s.to_lowercase()))))),
};
