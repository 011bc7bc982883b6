//! `strip_tags`: markup removed from a piece of HTML source, line breaks kept.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "strip_tags",
    summary: "Removes HTML tags and comments from a piece of HTML source (as cut from `html`) and \
              decodes character references, keeping the source's own line breaks; `<br>` and \
              `</p>` become line breaks. Use it when the line structure of the source matters and \
              the rendered text view would collapse it.",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[
        Example {
            title: "a cell's source",
            email: samples::HTML,
            expr: "html.between(\"class=\\\"name\\\">\", \"</tr>\") | strip_tags | trim",
            result: Some("Jane  Doe"),
        },
        Example {
            title: "entities",
            email: samples::HTML,
            expr: "\"Tom &amp; Jerry<br>&quot;Hi&quot;&nbsp;&#33;\" | strip_tags",
            result: Some("Tom & Jerry\n\"Hi\" !"),
        },
    ],
    compile: |_, _| {
        Ok(Box::new(MapText(Box::new(|s| {
            Some(crate::html::strip_tags(s))
        }))))
    },
};
