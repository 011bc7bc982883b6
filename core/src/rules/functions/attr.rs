//! `attr(name)`: an attribute of the first selected element.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "attr",
    summary: "The value of attribute `name` on the first selected element that has it.",
    sigs: &[Sig {
        receiver: Ty::Nodes,
        returns: Ty::Text,
    }],
    params: &[Param {
        name: "name",
        kind: ParamKind::Str,
        required: true,
        doc: "the attribute name",
    }],
    examples: &[
        Example {
            title: "a link target",
            email: samples::HTML,
            expr: "css(\"a.listing\").attr(\"href\")",
            result: Some("https://homes.example/l/42"),
        },
        Example {
            title: "no such attribute",
            email: samples::HTML,
            expr: "css(\"a.listing\").attr(\"title\")",
            result: None,
        },
    ],
    compile: |_, args| Ok(Box::new(AttrStep(args.req_str(0)))),
};

struct AttrStep(String);

impl Step for AttrStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Nodes(nodes) => Value::text(Cow::Borrowed(
                nodes.iter().find_map(|n| crate::css::attr(n, &self.0))?,
            )),
            _ => None,
        }
    }
}
