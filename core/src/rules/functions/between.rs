//! `between(start, end)`: the text between two markers.

use super::*;
use crate::textops;

pub(crate) const FUNCTION: Function = Function {
    name: "between",
    summary: "The text between the first `start` and the first `end` after it (ASCII case ignored \
              unless `ignore_case: false`). No value when either marker is absent.",
    sigs: TEXT_TO_TEXT,
    params: &[
        Param {
            name: "start",
            kind: ParamKind::Str,
            required: true,
            doc: "the opening marker",
        },
        Param {
            name: "end",
            kind: ParamKind::Str,
            required: true,
            doc: "the closing marker",
        },
        IGNORE_CASE,
    ],
    examples: &[
        Example {
            title: "a message block",
            email: samples::TEXT,
            expr: "text.between(\"Message:\", \"----\") | trim",
            result: Some("Hello,\nI'd like a tour."),
        },
        Example {
            title: "end missing",
            email: samples::TEXT,
            expr: "text.between(\"Message:\", \"#####\")",
            result: None,
        },
    ],
    compile: |_, args| {
        let (start, end) = (args.req_str(0), args.req_str(1));
        if start.is_empty() || end.is_empty() {
            let i = if start.is_empty() { 0 } else { 1 };
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                i,
                "the marker is empty",
            ));
        }
        Ok(Box::new(SliceText(if args.bool(2).unwrap_or(true) {
            Box::new(move |s| textops::between_ci(s, &start, &end))
        } else {
            Box::new(move |s| textops::between(s, &start, &end))
        })))
    },
};
