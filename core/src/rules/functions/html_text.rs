//! `html_text`: the text view of the HTML body, even when a text part exists.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "html_text",
    summary: "The text rendered from the HTML body (line and cell boundaries kept, entities decoded), \
              even when the email also has a text part. Use it when the two parts differ and the \
              HTML is the one to trust; `text` prefers the text part.",
    sigs: SOURCE_TEXT,
    params: &[],
    examples: &[
        Example {
            title: "a cell after its label",
            email: samples::HTML,
            expr: "html_text.after(\"Phone\").line",
            result: Some("202.555.0143"),
        },
        Example {
            title: "no HTML part",
            email: samples::TEXT,
            expr: "html_text",
            result: None,
        },
    ],
    compile: |_, _| Ok(Box::new(HtmlTextStep)),
};

struct HtmlTextStep;

impl Step for HtmlTextStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => Value::text(cx.html_text(m)?),
            _ => None,
        }
    }
}
