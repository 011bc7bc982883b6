//! `to`: the addresses of the To header.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "to",
    summary: "The addresses of the `To` header (groups flattened). Take one with `.address` or `.name`.",
    sigs: &[Sig {
        receiver: Ty::Message,
        returns: Ty::Addresses,
    }],
    params: &[],
    examples: &[Example {
        title: "every recipient",
        email: samples::TEXT,
        expr: "to.address",
        result: Some("office@acme.example"),
    }],
    compile: |_, _| Ok(Box::new(AddressHeader(|m| m.to()))),
};
