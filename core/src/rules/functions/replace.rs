//! `replace(from, to)`: replace every occurrence of a string.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "replace",
    summary: "Replaces every occurrence of `from` with `to` (exact, case-sensitive).",
    sigs: TEXT_TO_TEXT,
    params: &[
        Param {
            name: "from",
            kind: ParamKind::Str,
            required: true,
            doc: "the text to replace",
        },
        Param {
            name: "to",
            kind: ParamKind::Str,
            required: true,
            doc: "the replacement",
        },
    ],
    examples: &[Example {
        title: "drop a prefix word",
        email: samples::TEXT,
        expr: "subject.replace(\"New Rental Contact for \", \"\")",
        result: Some("Parkview"),
    }],
    compile: |_, args| {
        let (from, to) = (args.req_str(0), args.req_str(1));
        if from.is_empty() {
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                0,
                "`from` is empty",
            ));
        }
        Ok(Box::new(MapText(Box::new(move |s| {
            Some(s.replace(&from, &to))
        }))))
    },
};
