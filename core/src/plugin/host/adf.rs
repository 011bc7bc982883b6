//! `mailex:extractor/adf`: paths into the email's ADF/XML document, parsed by
//! [`crate::adf::AdfDocument`] (the tolerant parser `builtin:adf` uses).
//!
//! The contract's path syntax is the core one (`prospect/vehicle[@interest=buy]/make`) plus
//! two additions evaluated here on top of [`crate::adf::AdfNode::find_all`]: a 1-based
//! index after any step (`prospect/vehicle#2/year`) and a final `@attr` step that reads an
//! attribute instead of the text (`prospect/vehicle#1/@interest`).

use crate::adf::{AdfDocument, AdfNode};
use crate::message::Email;
use crate::plugin::bindings::mailex::extractor::adf::Host;
use crate::plugin::state::HostState;

/// Most values one path returns.
const MAX_VALUES: usize = 10_000;

impl Host for HostState {
    fn adf_path(&mut self, path: String) -> Vec<String> {
        let Some(doc) = &self.input.adf else {
            return Vec::new();
        };
        let (nodes, attr) = evaluate(doc, &path);
        nodes
            .into_iter()
            .filter_map(|n| match attr {
                Some(a) => n.attr(a).map(str::to_owned),
                None => Some(n.text.clone()),
            })
            .take(MAX_VALUES)
            .collect()
    }

    fn adf_count(&mut self, path: String) -> u32 {
        let Some(doc) = &self.input.adf else {
            return 0;
        };
        let (nodes, attr) = evaluate(doc, &path);
        let count = match attr {
            Some(a) => nodes.iter().filter(|n| n.attr(a).is_some()).count(),
            None => nodes.len(),
        };
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// The nodes `path` selects and the attribute to read from them, if the path ends in `@attr`.
fn evaluate<'d>(doc: &'d AdfDocument, path: &'d str) -> (Vec<&'d AdfNode>, Option<&'d str>) {
    let mut path = path.trim().trim_start_matches('/');
    if let Some(rest) = path.strip_prefix("adf/") {
        path = rest;
    } else if path.eq_ignore_ascii_case("adf") {
        path = "";
    }
    let (elements, attr) = match path.rsplit_once('/') {
        Some((head, last)) if last.starts_with('@') => (head, Some(&last[1..])),
        None if path.starts_with('@') => ("", Some(&path[1..])),
        _ => (path, None),
    };
    let mut nodes: Vec<&AdfNode> = vec![&doc.root];
    for step in split_steps(elements) {
        let (step, index) = split_index(step);
        nodes = nodes.into_iter().flat_map(|n| n.find_all(step)).collect();
        if let Some(i) = index {
            nodes = nodes
                .into_iter()
                .nth(i.saturating_sub(1))
                .into_iter()
                .collect();
            if i == 0 {
                nodes.clear();
            }
        }
        if nodes.is_empty() {
            break;
        }
    }
    (nodes, attr)
}

/// Split a path into steps at `/` outside `[...]`.
fn split_steps(path: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                if i > start {
                    steps.push(&path[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < path.len() {
        steps.push(&path[start..]);
    }
    steps
}

/// `vehicle#2` → (`vehicle`, Some(2)); a step without a numeric suffix is unchanged.
fn split_index(step: &str) -> (&str, Option<usize>) {
    match step.rsplit_once('#') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (head, n.parse().ok())
        }
        _ => (step, None),
    }
}

/// Find the email's ADF document: an XML attachment first, then the text and HTML bodies.
pub(crate) fn find_adf(email: &Email<'_>) -> Option<AdfDocument> {
    for attachment in email.attachments() {
        let ct = attachment.content_type.as_str();
        let named_xml = attachment.name.as_deref().is_some_and(|n| {
            n.to_ascii_lowercase().ends_with(".xml") || n.to_ascii_lowercase().ends_with(".adf")
        });
        if (ct.contains("xml") || named_xml || ct.starts_with("text/"))
            && let Ok(doc) = AdfDocument::parse_bytes(attachment.bytes)
        {
            return Some(doc);
        }
    }
    let text = email.text();
    if AdfDocument::sniff(text)
        && let Ok(doc) = AdfDocument::parse(text)
    {
        return Some(doc);
    }
    let html = email.html()?;
    if AdfDocument::sniff(html) {
        AdfDocument::parse(html).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<adf><prospect><vehicle interest=\"buy\"><year>2024</year><make>Kia</make></vehicle>\
        <vehicle interest=\"trade-in\"><year>2015</year><make>Ford</make></vehicle></prospect></adf>";

    fn values(path: &str) -> Vec<String> {
        let doc = AdfDocument::parse(DOC).expect("fixture parses");
        let (nodes, attr) = evaluate(&doc, path);
        nodes
            .into_iter()
            .filter_map(|n| match attr {
                Some(a) => n.attr(a).map(str::to_owned),
                None => Some(n.text.clone()),
            })
            .collect()
    }

    #[test]
    fn index_attribute_and_filter_steps() {
        assert_eq!(values("prospect/vehicle/make"), ["Kia", "Ford"]);
        assert_eq!(values("prospect/vehicle#2/year"), ["2015"]);
        assert_eq!(values("adf/prospect/vehicle#1/@interest"), ["buy"]);
        assert_eq!(
            values("prospect/vehicle[@interest=trade-in]/make"),
            ["Ford"]
        );
        assert!(values("prospect/vehicle#3/make").is_empty());
        assert!(values("prospect/vehicle#0/make").is_empty());
    }
}
