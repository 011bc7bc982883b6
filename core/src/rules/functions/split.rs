//! `split(sep)`: cut a text into a list.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "split",
    summary: "Splits a text at every `sep` into a list of trimmed, non-blank items.",
    sigs: &[Sig {
        receiver: Ty::Text,
        returns: Ty::List,
    }],
    params: &[Param {
        name: "sep",
        kind: ParamKind::Str,
        required: true,
        doc: "the separator",
    }],
    examples: &[Example {
        title: "the last word",
        email: samples::TEXT,
        expr: "text.after(\"Name:\").line.split(\" \").last",
        result: Some("Doe"),
    }],
    compile: |_, args| {
        let sep = args.req_str(0);
        if sep.is_empty() {
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                0,
                "the separator is empty",
            ));
        }
        Ok(Box::new(SplitStep(sep)))
    },
};

struct SplitStep(String);

impl Step for SplitStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Text(Cow::Borrowed(s)) => {
                Value::list(s.split(self.0.as_str()).map(|p| Cow::Borrowed(p.trim())))
            }
            Value::Text(Cow::Owned(s)) => Value::list(
                s.split(self.0.as_str())
                    .map(|p| Cow::Owned(p.trim().to_owned())),
            ),
            _ => None,
        }
    }
}
