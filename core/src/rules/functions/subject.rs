//! `subject`: the decoded Subject header.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "subject",
    summary: "The email's Subject, decoded (RFC 2047).",
    sigs: SOURCE_TEXT,
    params: &[],
    examples: &[Example {
        title: "property from the subject",
        email: samples::TEXT,
        expr: "subject.after(\"for \")",
        result: Some("Parkview"),
    }],
    compile: |_, _| Ok(Box::new(SubjectStep)),
};

struct SubjectStep;

impl Step for SubjectStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(Cow::Borrowed(m.subject()?)),
            _ => None,
        }
    }
}
