//! `before(marker)`: the text before a marker.

use super::*;
use crate::textops;

pub(crate) const FUNCTION: Function = Function {
    name: "before",
    summary: "The text before the first occurrence of `marker` (ASCII case ignored unless \
              `ignore_case: false`). No value when the marker is absent; see `until` for a \
              version that keeps the whole text then.",
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
            title: "the part before a separator",
            email: samples::TEXT,
            expr: "text.after(\"Message:\").before(\"----\") | trim",
            result: Some("Hello,\nI'd like a tour."),
        },
        Example {
            title: "marker absent",
            email: samples::TEXT,
            expr: "text.before(\"#####\")",
            result: None,
        },
    ],
    compile: |_, args| marker_search(args, textops::before_ci, textops::before),
};
