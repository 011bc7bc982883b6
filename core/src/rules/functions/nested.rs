//! `nested`: the forwarded message inside an email.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "nested",
    summary: "The first nested `message/rfc822` part of the email (a forwarded lead), as an email \
              of its own: `nested.text`, `nested.from.address`. Only one level is opened.",
    sigs: &[Sig {
        receiver: Ty::Message,
        returns: Ty::Message,
    }],
    params: &[],
    examples: &[
        Example {
            title: "a forwarded lead",
            email: samples::FORWARDED,
            expr: "nested.text.after(\"Name:\").line",
            result: Some("John Roe"),
        },
        Example {
            title: "the original sender",
            email: samples::FORWARDED,
            expr: "nested.from.address",
            result: Some("leads@portal.example"),
        },
        Example {
            title: "not forwarded",
            email: samples::TEXT,
            expr: "nested.text",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(NestedStep)),
};

struct NestedStep;

impl Step for NestedStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) if std::ptr::eq(m, cx.root) => Some(Value::Message(cx.nested()?)),
            _ => None,
        }
    }
}
