//! `from`: the addresses of the From header.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "from",
    summary: "The addresses of the `From` header (groups flattened). Take one with `.address` or `.name`.",
    sigs: &[Sig {
        receiver: Ty::Message,
        returns: Ty::Addresses,
    }],
    params: &[],
    examples: &[Example {
        title: "the sender's domain",
        email: samples::TEXT,
        expr: "from.address.after(\"@\")",
        result: Some("rentals.example"),
    }],
    compile: |_, _| Ok(Box::new(AddressHeader(|m| m.from()))),
};
