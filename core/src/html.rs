//! A plain-text view of HTML that keeps the layout extractors rely on, and the `<meta>` tags.
//!
//! [`text_view`] renders a parsed document the way a person reads it: block elements and `<br>`
//! start new lines, table cells on one row are separated by a tab (a cell never glues onto its
//! neighbour), `<script>`, `<style>`, `<head>` and `<template>` are skipped, entities are decoded
//! (by the HTML parser), whitespace runs collapse to one space, `<pre>` keeps its line breaks, and
//! there is never more than one blank line in a row.
//!
//! ```
//! let doc = scraper::Html::parse_document(
//!     "<table><tr><td>Name:</td><td>Jane&nbsp;Doe</td></tr><tr><td>Phone:</td><td>202-555-0143</td></tr></table>",
//! );
//! assert_eq!(mailex_core::html::text_view(&doc), "Name:\tJane Doe\nPhone:\t202-555-0143");
//! ```

use ego_tree::iter::Edge;
use scraper::Html;

/// Elements whose content is not text a reader sees.
const SKIPPED: &[&str] = &[
    "script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg",
];

/// Elements that start and end a line.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
    "caption",
    "body",
    "html",
    "option",
    "legend",
    "textarea",
    "select",
];

/// Blocks that also leave a blank line around them.
const PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
];

/// Separator between adjacent table cells.
pub const CELL_SEPARATOR: char = '\t';

struct Writer {
    out: String,
    /// Newlines owed before the next text (0, 1 or 2).
    newlines: u8,
    /// A space owed before the next text on the same line.
    space: bool,
    /// A cell separator owed before the next text on the same line.
    cell: bool,
}

impl Writer {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn text(&mut self, t: &str, pre: bool) {
        for c in t.chars() {
            if crate::normalize::is_invisible(c) {
                continue;
            }
            if pre && c == '\n' {
                self.newline(1, true);
            } else if c.is_whitespace() && !(pre && c == ' ') {
                self.space = true;
            } else {
                self.put(c);
            }
        }
    }

    fn put(&mut self, c: char) {
        if !self.out.is_empty() && self.newlines > 0 {
            // Trim trailing spaces of the finished line.
            let trimmed = self.out.trim_end_matches([' ', '\t']).len();
            self.out.truncate(trimmed);
            for _ in 0..self.newlines {
                self.out.push('\n');
            }
            self.space = false;
            self.cell = false;
        }
        self.newlines = 0;
        if self.cell && !self.at_line_start() {
            let trimmed = self.out.trim_end_matches(' ').len();
            self.out.truncate(trimmed);
            self.out.push(CELL_SEPARATOR);
            self.space = false;
        } else if self.space && !self.at_line_start() && !self.out.ends_with([' ', CELL_SEPARATOR])
        {
            self.out.push(' ');
        }
        self.cell = false;
        self.space = false;
        if !(c == ' ' && self.at_line_start()) {
            self.out.push(c);
        }
    }

    /// Requests a line break; `add` accumulates (`<br><br>`), otherwise breaks merge.
    fn newline(&mut self, n: u8, add: bool) {
        if self.out.is_empty() {
            return;
        }
        self.newlines = if add {
            (self.newlines + n).min(2)
        } else {
            self.newlines.max(n).min(2)
        };
        self.space = false;
    }
}

/// Renders `doc` as plain text (see the [module documentation](self)).
pub fn text_view(doc: &Html) -> String {
    let mut w = Writer {
        out: String::new(),
        newlines: 0,
        space: false,
        cell: false,
    };
    let mut skip = 0usize;
    let mut pre = 0usize;
    // One counter per open <tr>: cells seen so far in that row.
    let mut rows: Vec<usize> = Vec::new();
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if let Some(e) = node.value().as_element() {
                    let name = e.name();
                    if SKIPPED.contains(&name) {
                        skip += 1;
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "br" => w.newline(1, true),
                        "pre" => pre += 1,
                        "tr" => rows.push(0),
                        "td" | "th" => {
                            if let Some(count) = rows.last_mut() {
                                if *count > 0 {
                                    w.cell = true;
                                }
                                *count += 1;
                            } else {
                                w.cell = true;
                            }
                        }
                        "img" => {
                            // Images carry no text; alt text is usually decoration.
                        }
                        _ => {}
                    }
                    if BLOCKS.contains(&name) {
                        w.newline(if PARAGRAPHS.contains(&name) { 2 } else { 1 }, false);
                    }
                } else if let Some(t) = node.value().as_text()
                    && skip == 0
                {
                    w.text(t, pre > 0);
                }
            }
            Edge::Close(node) => {
                if let Some(e) = node.value().as_element() {
                    let name = e.name();
                    if SKIPPED.contains(&name) {
                        skip = skip.saturating_sub(1);
                        continue;
                    }
                    if skip > 0 {
                        continue;
                    }
                    match name {
                        "pre" => pre = pre.saturating_sub(1),
                        "tr" => {
                            rows.pop();
                        }
                        "td" | "th" => w.space = true,
                        _ => {}
                    }
                    if BLOCKS.contains(&name) {
                        w.newline(if PARAGRAPHS.contains(&name) { 2 } else { 1 }, false);
                    }
                }
            }
        }
    }
    let trimmed = w.out.trim_end().len();
    w.out.truncate(trimmed);
    w.out
}

/// Every `<meta name="..." content="...">` of the document, in document order, with the name
/// and content trimmed. Meta tags in the body count too (real lead emails put them there).
/// Tags without a `name` or without `content` are skipped.
pub fn meta_tags(doc: &Html) -> Vec<(String, String)> {
    doc.tree
        .root()
        .descendants()
        .filter_map(|n| n.value().as_element())
        .filter(|e| e.name() == "meta")
        .filter_map(|e| {
            let name = e.attr("name")?.trim();
            let content = e.attr("content")?.trim();
            (!name.is_empty()).then(|| (name.to_owned(), content.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(html: &str) -> String {
        text_view(&Html::parse_document(html))
    }

    #[test]
    fn table_cells_never_glue() {
        let html = "<table><tr><td>Name</td><td>Jane Doe</td></tr>\
                    <tr><th>Email</th><td><a href='mailto:x'>jane@example.com</a></td></tr>\
                    <tr><td></td><td>only second</td></tr>\
                    <tr><td>a<br>b</td><td>c</td></tr></table>";
        assert_eq!(
            view(html),
            "Name\tJane Doe\nEmail\tjane@example.com\nonly second\na\nb\tc"
        );
    }

    #[test]
    fn blocks_and_breaks() {
        let html = "<html><head><title>T</title><style>p{}</style><script>x()</script></head>\
                    <body><div>New   lead\n from <b>Portal</b></div><p>Para one</p><p>Para two</p>\
                    Line<br>Next<br><br><br><br>After gap<ul><li>one</li><li>two</li></ul></body></html>";
        assert_eq!(
            view(html),
            "New lead from Portal\n\nPara one\n\nPara two\n\nLine\nNext\n\nAfter gap\none\ntwo"
        );
    }

    #[test]
    fn entities_whitespace_and_invisible() {
        let html = "<p>Tom&nbsp;&amp;&nbsp;Jerry&#8203;&#x20AC;5 &lt;ok&gt;</p><p>   </p><p>\u{00A0}</p><p>end</p>";
        assert_eq!(view(html), "Tom & Jerry€5 <ok>\n\nend");
    }

    #[test]
    fn inline_elements_keep_words_apart_only_with_space() {
        assert_eq!(view("<p><b>Bold</b>text <i>it</i> x</p>"), "Boldtext it x");
        assert_eq!(view("<span>a</span>\n<span>b</span>"), "a b");
    }

    #[test]
    fn pre_keeps_lines() {
        assert_eq!(view("<pre>a  b\nc\n\n\n\nd</pre>x"), "a  b\nc\n\nd\n\nx");
    }

    #[test]
    fn nested_tables() {
        let html = "<table><tr><td><table><tr><td>in1</td><td>in2</td></tr></table></td><td>out2</td></tr></table>";
        assert_eq!(view(html), "in1\tin2\nout2");
    }

    #[test]
    fn meta_anywhere() {
        let doc = Html::parse_document(
            "<html><head><meta name='lead_name' content=' Jane Doe '><meta charset=utf-8></head>\
             <body><p>x</p><meta name=\"lead_email\" content=\"jane@example.com\">\
             <meta name='' content='x'><meta name='lead_phone'></body></html>",
        );
        assert_eq!(
            meta_tags(&doc),
            vec![
                ("lead_name".to_string(), "Jane Doe".to_string()),
                ("lead_email".to_string(), "jane@example.com".to_string())
            ]
        );
    }

    #[test]
    fn hostile_documents() {
        let deep =
            "<div><table><tr><td>".repeat(5_000) + "x" + &"</td></tr></table></div>".repeat(5_000);
        assert_eq!(view(&deep), "x");
        let many = "<td>c</td>".repeat(50_000);
        let v = view(&format!("<table><tr>{many}</tr></table>"));
        assert_eq!(v.matches('\t').count(), 49_999);
        assert_eq!(view(""), "");
        assert_eq!(view("\u{FFFD}<p>\u{FFFD}"), "\u{FFFD}\n\n\u{FFFD}");
        let _ = view("<<<>>></td></tr><td><br/></br></p></table>&#xFFFFFFFF;&bogus;");
    }
}
