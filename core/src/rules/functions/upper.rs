//! `upper`: change letter case.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "upper",
    summary: "The text in uppercase (Unicode-aware).",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[Example {
        title: "an address",
        email: samples::TEXT,
        expr: "text.after(\"Email:\").line | upper",
        result: Some("JANE.DOE@EXAMPLE.COM"),
    }],
    compile: |_, _| Ok(Box::new(MapText(Box::new(|s| Some(s.to_uppercase()))))),
};
