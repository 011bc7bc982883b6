//! `css(selector)`: HTML elements matching a CSS selector.

use super::*;
use scraper::Selector;

pub(crate) const FUNCTION: Function = Function {
    name: "css",
    summary: "Every element of the HTML body matching a CSS selector, in document order. The \
              selector is checked when the rule file compiles. The HTML is parsed at most once per \
              email, and only when a profile reads it. Follow with `.text`, `.attr(name)` or `.texts`.",
    sigs: &[Sig {
        receiver: Ty::Message,
        returns: Ty::Nodes,
    }],
    params: &[Param {
        name: "selector",
        kind: ParamKind::Selector,
        required: true,
        doc: "a CSS selector",
    }],
    examples: &[
        Example {
            title: "a table cell",
            email: samples::HTML,
            expr: "css(\"td.phone\").text",
            result: Some("202.555.0143"),
        },
        Example {
            title: "the cell after a label",
            email: samples::HTML,
            expr: "css(\"td.label + td\").text",
            result: Some("Jane Doe"),
        },
        Example {
            title: "no match",
            email: samples::HTML,
            expr: "css(\"td.email\").text",
            result: None,
        },
    ],
    compile: |_, args| Ok(Box::new(CssStep(args.selector(0)?.clone()))),
};

struct CssStep(Selector);

impl Step for CssStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => {
                let doc = m.html_document_within(&cx.budget).ok()??;
                let mark = cx.budget.scratch_mark();
                let nodes = crate::css::select_within(
                    doc,
                    &self.0,
                    super::super::value::MAX_LIST_LEN,
                    &cx.budget,
                )
                .ok()?;
                // The evaluator charges the node list it gets back.
                cx.budget.release_scratch(mark);
                if nodes.is_empty() {
                    None
                } else {
                    Some(Value::Nodes(nodes))
                }
            }
            _ => None,
        }
    }
}
