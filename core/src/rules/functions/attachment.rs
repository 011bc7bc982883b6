//! `attachment(match)`: the text of an attachment chosen by name or type.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "attachment",
    summary: "The text of the first attachment whose file name or content type contains `match` \
              (case-insensitive), e.g. `attachment(\"xml\")`, `attachment(\".csv\")`. Bytes that are \
              not UTF-8 are decoded lossily.",
    sigs: SOURCE_TEXT,
    params: &[Param {
        name: "match",
        kind: ParamKind::Str,
        required: true,
        doc: "part of the name or content type",
    }],
    examples: &[
        Example {
            title: "by type",
            email: samples::ADF,
            expr: "attachment(\"xml\").between(\"<email>\", \"</email>\")",
            result: Some("jane@example.com"),
        },
        Example {
            title: "by name",
            email: samples::ADF,
            expr: "attachment(\"lead.xml\").regex(r\"part=.last.>(\\w+)\")",
            result: Some("Doe"),
        },
        Example {
            title: "none",
            email: samples::TEXT,
            expr: "attachment(\"csv\")",
            result: None,
        },
    ],
    compile: |_, args| Ok(Box::new(AttachmentStep(args.req_str(0).to_lowercase()))),
};

struct AttachmentStep(String);

impl Step for AttachmentStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let Value::Message(m) = input else {
            return None;
        };
        let att = m.attachments().into_iter().find(|a| {
            a.content_type.to_lowercase().contains(&self.0)
                || a.name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&self.0))
        })?;
        // Only what the text cap keeps is decoded (a lossy decode of a cut character is cut
        // off with the rest).
        let head = &att.bytes[..att.bytes.len().min(super::super::value::MAX_TEXT_LEN)];
        Value::text(String::from_utf8_lossy(head).into_owned())
    }
}
