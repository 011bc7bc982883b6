//! `meta(name)`: a `<meta name=... content=...>` of the HTML body.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "meta",
    summary: "The `content` of the first `<meta name=\"NAME\">` tag of the HTML body (name compared \
              case-insensitively). Real-estate portals put `lead_*` metadata there.",
    sigs: SOURCE_TEXT,
    params: &[Param {
        name: "name",
        kind: ParamKind::Str,
        required: true,
        doc: "the meta tag's name",
    }],
    examples: &[
        Example {
            title: "lead metadata",
            email: samples::HTML,
            expr: "meta(\"lead_name\")",
            result: Some("Jane Doe"),
        },
        Example {
            title: "absent",
            email: samples::HTML,
            expr: "meta(\"lead_email\")",
            result: None,
        },
    ],
    compile: |_, args| Ok(Box::new(MetaStep(args.req_str(0)))),
};

struct MetaStep(String);

impl Step for MetaStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(Cow::Borrowed(m.meta(&self.0)?)),
            _ => None,
        }
    }
}
