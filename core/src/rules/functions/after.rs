//! `after(marker)`: the text after a marker.

use super::*;
use crate::textops;

pub(crate) const FUNCTION: Function = Function {
    name: "after",
    summary: "The text after the first occurrence of `marker` (ASCII case ignored unless \
              `ignore_case: false`). No value when the marker is absent. Usually followed by `.line`.",
    sigs: TEXT_TO_TEXT,
    params: &[
        Param {
            name: "marker",
            kind: ParamKind::Str,
            required: true,
            doc: "the text to look for",
        },
        IGNORE_CASE,
    ],
    examples: &[
        Example {
            title: "a label",
            email: samples::TEXT,
            expr: "text.after(\"phone:\").line",
            result: Some("(202) 555-0143"),
        },
        Example {
            title: "exact case",
            email: samples::TEXT,
            expr: "text.after(\"phone:\", ignore_case: false)",
            result: None,
        },
    ],
    compile: |_, args| marker_search(args, textops::after_ci, textops::after),
};
