//! `replace(from, to)`: replace every occurrence of a string.

use super::*;

use super::super::value::MAX_TEXT_LEN;
use crate::budget::CappedString;

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
        Ok(Box::new(ReplaceStep { from, to }))
    },
};

struct ReplaceStep {
    from: String,
    to: String,
}

impl Step for ReplaceStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let s = input.as_text()?;
        // Built up to the text cap, charged as it grows: a long `to` must not multiply the
        // text before the cap applies.
        let mark = cx.budget.scratch_mark();
        let mut out = CappedString::new(&cx.budget, MAX_TEXT_LEN);
        let mut last = 0;
        for (at, _) in s.match_indices(self.from.as_str()) {
            out.push_str(&s[last..at]).ok()?;
            out.push_str(&self.to).ok()?;
            last = at + self.from.len();
            if out.is_full() {
                break;
            }
        }
        out.push_str(&s[last..]).ok()?;
        let text = out.into_string();
        cx.budget.release_scratch(mark);
        Value::text(text)
    }
}
