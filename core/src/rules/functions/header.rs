//! `header(name)`: one decoded header.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "header",
    summary: "The first header called `name` (case-insensitive), decoded and unfolded.",
    sigs: SOURCE_TEXT,
    params: &[Param {
        name: "name",
        kind: ParamKind::Str,
        required: true,
        doc: "the header name",
    }],
    examples: &[
        Example {
            title: "a custom header",
            email: samples::TEXT,
            expr: "header(\"X-Lead-Source\")",
            result: Some("portal"),
        },
        Example {
            title: "a missing header",
            email: samples::TEXT,
            expr: "header(\"X-Nope\")",
            result: None,
        },
    ],
    compile: |_, args| {
        let name = args.req_str(0);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(ArgError::new(mailex_grammar::codes::BAD_ARGUMENTS, 0, "not a valid header name")
                .help("header names are printable ASCII without spaces or `:`, e.g. `header(\"Reply-To\")`"));
        }
        Ok(Box::new(HeaderStep(name)))
    },
};

struct HeaderStep(String);

impl Step for HeaderStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(m.header(&self.0)?),
            _ => None,
        }
    }
}
