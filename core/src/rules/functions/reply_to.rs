//! `reply_to`: the addresses of the Reply-To header.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "reply_to",
    summary: "The addresses of the `Reply-To` header (groups flattened). Take one with `.address` or `.name`.",
    sigs: &[Sig {
        receiver: Ty::Message,
        returns: Ty::Addresses,
    }],
    params: &[],
    examples: &[
        Example {
            title: "the lead's address",
            email: samples::TEXT,
            expr: "reply_to.address",
            result: Some("jane.doe@example.com"),
        },
        Example {
            title: "the lead's name",
            email: samples::TEXT,
            expr: "reply_to.name",
            result: Some("Jane Doe"),
        },
        Example {
            title: "no Reply-To",
            email: samples::HTML,
            expr: "reply_to.address",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(AddressHeader(|m| m.reply_to()))),
};
