//! `join(sep)`: a list as one text.

use super::*;

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
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::List(items) => Value::text(items.join(&self.0)),
            _ => None,
        }
    }
}
