//! `join(sep)`: a list as one text.

use super::*;

use super::super::value::MAX_TEXT_LEN;
use crate::budget::CappedString;

pub(crate) const FUNCTION: Function = Function {
    name: "join",
    summary: "Joins the items of a list with `sep` (default `\", \"`).",
    sigs: LIST_TO_TEXT,
    params: &[Param {
        name: "sep",
        kind: ParamKind::Str,
        required: false,
        doc: "the separator",
    }],
    examples: &[Example {
        title: "two lines as one",
        email: samples::TEXT,
        expr: "text.between(\"Message:\", \"----\").lines.join(\" \")",
        result: Some("Hello, I'd like a tour."),
    }],
    compile: |_, args| Ok(Box::new(JoinStep(args.str(0).unwrap_or(", ").to_owned()))),
};

struct JoinStep(String);

impl Step for JoinStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let Value::List(items) = input else {
            return None;
        };
        // Built up to the text cap, charged as it grows (a thousand long items must not make
        // one huge string first).
        let mark = cx.budget.scratch_mark();
        let mut out = CappedString::new(&cx.budget, MAX_TEXT_LEN);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&self.0).ok()?;
            }
            out.push_str(item).ok()?;
            if out.is_full() {
                break;
            }
        }
        let text = out.into_string();
        cx.budget.release_scratch(mark);
        Value::text(text)
    }
}
