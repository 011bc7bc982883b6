//! `name`: the display name of the first address.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "name",
    summary: "The display name (`Jane Doe` in `Jane Doe <jane@example.com>`) of the first address \
              that has one.",
    sigs: &[Sig {
        receiver: Ty::Addresses,
        returns: Ty::Text,
    }],
    params: &[],
    examples: &[
        Example {
            title: "Reply-To name",
            email: samples::TEXT,
            expr: "reply_to.name",
            result: Some("Jane Doe"),
        },
        Example {
            title: "no display name",
            email: samples::FORWARDED,
            expr: "to.name",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(NameStep)),
};

struct NameStep;

impl Step for NameStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Addresses(list) => Value::text(list.into_iter().find_map(|a| a.name)?),
            _ => None,
        }
    }
}
