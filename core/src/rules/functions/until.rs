//! `until(marker)`: the text up to a marker, or all of it.

use super::*;
use crate::textops;

pub(crate) const FUNCTION: Function = Function {
    name: "until",
    summary: "The text before the first occurrence of `marker`, or the whole text when the marker \
              is absent (ASCII case ignored unless `ignore_case: false`). Use it to cut optional \
              footers.",
    sigs: TEXT_TO_TEXT,
    params: &[
        Param {
            name: "marker",
            kind: ParamKind::Str,
            required: true,
            doc: "the text to stop at",
        },
        IGNORE_CASE,
    ],
    examples: &[
        Example {
            title: "a footer is cut",
            email: samples::TEXT,
            expr: "text.after(\"Message:\").until(\"----\") | trim",
            result: Some("Hello,\nI'd like a tour."),
        },
        Example {
            title: "no footer",
            email: samples::TEXT,
            expr: "text.after(\"Sent by\").until(\"#####\") | trim",
            result: Some("Rentals Portal"),
        },
    ],
    compile: |_, args| {
        let marker = args.req_str(0);
        let ci = args.bool(1).unwrap_or(true);
        Ok(Box::new(SliceText(Box::new(move |s| {
            let cut = if ci {
                textops::before_ci(s, &marker)
            } else {
                textops::before(s, &marker)
            };
            Some(cut.unwrap_or(s))
        }))))
    },
};
