//! `text`: the text view of an email, or the text of selected HTML elements.

use super::*;
use std::borrow::Cow;

pub(crate) const FUNCTION: Function = Function {
    name: "text",
    summary: "On an email: its plain-text view (the text part, or text derived from the HTML keeping \
              line and cell boundaries). On `css(...)` elements: the first element's text with \
              whitespace collapsed.",
    sigs: &[
        Sig {
            receiver: Ty::Message,
            returns: Ty::Text,
        },
        Sig {
            receiver: Ty::Nodes,
            returns: Ty::Text,
        },
    ],
    params: &[],
    examples: &[
        Example {
            title: "a labelled line",
            email: samples::TEXT,
            expr: "text.after(\"Name:\").line",
            result: Some("Jane Doe"),
        },
        Example {
            title: "an HTML cell",
            email: samples::HTML,
            expr: "css(\"td.name\").text",
            result: Some("Jane Doe"),
        },
        Example {
            title: "HTML-only email",
            email: samples::HTML,
            expr: "text.after(\"Phone\").line",
            result: Some("202.555.0143"),
        },
    ],
    compile: |_, _| Ok(Box::new(TextStep)),
};

struct TextStep;

impl Step for TextStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(Cow::Borrowed(m.text())),
            Value::Nodes(n) => {
                let mark = cx.budget.scratch_mark();
                let text = crate::css::text_within(
                    n.first()?,
                    super::super::value::MAX_TEXT_LEN,
                    &cx.budget,
                )
                .ok()?;
                cx.budget.release_scratch(mark);
                Value::text(text)
            }
            _ => None,
        }
    }
}
