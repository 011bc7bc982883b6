//! `line`: the first non-blank line.

use super::*;
use crate::textops;

pub(crate) const FUNCTION: Function = Function {
    name: "line",
    summary: "The first line that is not blank, trimmed. After `after(\"Label:\")` this is the value \
              on the label's line, or on the next line when the label stands alone; no value when \
              the label's line is empty and the next line is another label (`Phone:` or \
              `Phone: ...`), so an empty field never takes the next label's line.",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[
        Example {
            title: "same line",
            email: samples::TEXT,
            expr: "text.after(\"Move-in:\").line",
            result: Some("09/01/2026"),
        },
        Example {
            title: "next line",
            email: samples::TEXT,
            expr: "text.after(\"Message:\").line",
            result: Some("Hello,"),
        },
        Example {
            title: "empty value",
            email: samples::TEXT,
            expr: "text.after(\"Fax:\").line",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(SliceText(Box::new(textops::line)))),
};
