//! `adf(path)`: a value of the email's ADF/XML lead.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "adf",
    summary: "A value of the ADF/XML lead carried by the email (an XML attachment, a body or HTML \
              that is ADF, or a forwarded message carrying one: found as `builtin:adf` finds it), by \
              path relative to `<adf>`, with optional `[attribute=value]` filters, a 1-based `#N` \
              index and a final `@attr`. The ADF is parsed once per email.",
    sigs: SOURCE_TEXT,
    params: &[Param {
        name: "path",
        kind: ParamKind::Str,
        required: true,
        doc: "e.g. `prospect/customer/contact/email`",
    }],
    examples: &[
        Example {
            title: "an element",
            email: samples::ADF,
            expr: "adf(\"prospect/customer/contact/email\")",
            result: Some("jane@example.com"),
        },
        Example {
            title: "an attribute filter",
            email: samples::ADF,
            expr: "adf(\"prospect/customer/contact/name[part=last]\")",
            result: Some("Doe"),
        },
        Example {
            title: "no ADF",
            email: samples::TEXT,
            expr: "adf(\"prospect/customer/contact/email\")",
            result: None,
        },
    ],
    compile: |_, args| {
        let path = args.req_str(0);
        if path.trim().is_empty() || path.contains("//") {
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                0,
                "not a valid ADF path",
            )
            .help("write element names separated by `/`, e.g. `prospect/customer/contact/email`"));
        }
        Ok(Box::new(AdfStep(path)))
    },
};

struct AdfStep(String);

impl Step for AdfStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) if std::ptr::eq(m, cx.root) => {
                Value::text(Cow::Borrowed(cx.adf()?.get(&self.0)?))
            }
            _ => None,
        }
    }
}
