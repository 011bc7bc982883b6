//! `address`: the first address of an address list.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "address",
    summary: "The first address (`jane@example.com`) of `from`, `reply_to` or `to`.",
    sigs: &[Sig {
        receiver: Ty::Addresses,
        returns: Ty::Text,
    }],
    params: &[],
    examples: &[Example {
        title: "Reply-To",
        email: samples::TEXT,
        expr: "reply_to.address",
        result: Some("jane.doe@example.com"),
    }],
    compile: |_, _| Ok(Box::new(AddressStep)),
};

struct AddressStep;

impl Step for AddressStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Addresses(list) => Value::text(list.into_iter().find_map(|a| a.email)?),
            _ => None,
        }
    }
}
