//! A plain-text view of HTML that keeps the layout extractors rely on, and the `<meta>` tags.
//!
//! [`text_view`] renders a parsed document the way a person reads it: block elements and `<br>`
//! start new lines, table cells on one row are separated by a tab (a cell never glues onto its
//! neighbour), `<script>`, `<style>`, `<head>` and `<template>` are skipped, entities are decoded
//! (by the HTML parser), whitespace runs collapse to one space, `<pre>` keeps its line breaks, and
//! there is never more than one blank line in a row.

use std::borrow::Cow;

#[cfg(test)]
use ego_tree::iter::Edge;
use scraper::Html;

use crate::budget::{Budget, Exceeded};

mod fast;

pub(crate) use fast::{meta_charset_str, meta_tags_limited, meta_tags_str, text_view_str};

/// Most meta tags an email's view keeps ([`crate::Email::meta_tags`]).
pub(crate) const MAX_META_TAGS: usize = 1_000;

/// Elements whose content is not text a reader sees.
#[cfg(test)]
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
#[cfg(test)]
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

/// Whether element `name` separates the text around it: `<br>`, a block element or a table cell.
/// [`text_view`] starts a new line (or cell) there; [`crate::css::text`], which renders one
/// line, puts a space.
pub(crate) fn separates_text(name: &str) -> bool {
    matches!(name, "br" | "td" | "th") || BLOCKS.contains(&name)
}

/// Separator between adjacent table cells.
pub(crate) const CELL_SEPARATOR: char = '\t';

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
        let mut rest = t;
        while let Some(c) = rest.chars().next() {
            // Words of ASCII letters, digits and punctuation with single spaces between them
            // (most text): the first character settles what is pending (breaks, a space, a cell
            // separator), and the rest would each be put as they are, so they are copied whole.
            let run = ascii_words(rest.as_bytes());
            if run > 0 {
                self.put(c);
                self.out.push_str(&rest[1..run]);
                rest = &rest[run..];
                continue;
            }
            rest = &rest[c.len_utf8()..];
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
        if c == ' ' && (self.newlines > 0 || self.at_line_start()) {
            // A preformatted space at the start of a line is dropped; it must not flush the
            // pending line breaks either, or they would be emitted twice.
            return;
        }
        if !self.out.is_empty() && self.newlines > 0 {
            // Trim trailing spaces of the finished line.
            let trimmed = self.out.trim_end_matches([' ', '\t']).len();
            self.out.truncate(trimmed);
            let have = self.out.len() - self.out.trim_end_matches('\n').len();
            for _ in have..usize::from(self.newlines) {
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

/// Length of the run at the start of `bytes` of ASCII graphic characters and single spaces
/// between them; 0 when it does not start with a graphic character.
fn ascii_words(bytes: &[u8]) -> usize {
    if !bytes.first().is_some_and(u8::is_ascii_graphic) {
        return 0;
    }
    let mut end = 1;
    while let Some(&b) = bytes.get(end) {
        if b.is_ascii_graphic() {
            end += 1;
        } else if b == b' ' && bytes.get(end + 1).is_some_and(u8::is_ascii_graphic) {
            end += 2;
        } else {
            break;
        }
    }
    end
}

/// Renders `doc` as plain text (see the [module documentation](self)).
#[cfg(test)]
pub(crate) fn text_view(doc: &Html) -> String {
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

/// Removes tags and comments from a piece of HTML source and decodes its character references
/// (every name of the HTML standard, as the text view does; a no-break space becomes a space),
/// keeping the source's own line breaks; `<br>` and the end of `p`, `div`, `tr` and `li` become
/// line breaks. Tags and comments are found by the text view's tokenizer ([`fast::markup_at`]), so a
/// `>` inside a quoted attribute value does not end a tag and a `<` that starts no tag
/// (`a < b`) is text; a tag the input cuts off (`<td class`) stays as written. The rule
/// language's `strip_tags` and the plugins' `text.strip-tags` call it.
pub(crate) fn strip_tags(s: &str) -> String {
    use fast::{Markup, markup_at};
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut text_from = 0;
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[i..]) {
        let lt = i + offset;
        let Some((markup, end)) = markup_at(s, lt) else {
            if bytes
                .get(lt + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'/')
            {
                // A tag the input cuts off: the rest is text (and no later `<` is read again).
                break;
            }
            i = lt + 1;
            continue;
        };
        fast::decode_references(&s[text_from..lt], &mut out, true);
        let breaks = match markup {
            Markup::Start { name, .. } => name.eq_ignore_ascii_case("br"),
            Markup::End(name) => ["br", "p", "div", "tr", "li"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n)),
            Markup::Other => false,
        };
        if breaks {
            out.push('\n');
        }
        i = end;
        text_from = end;
    }
    fast::decode_references(&s[text_from..], &mut out, true);
    out
}

/// The characters the named character reference `name` (without `&` and `;`) stands for, from
/// the one entity table the text view and the DOM use (the ADF parser resolves the HTML
/// entities of HTML-flavoured ADF with it).
pub(crate) fn named_reference(name: &str) -> Option<String> {
    let (first, second) = fast::named_reference(name)?;
    Some(std::iter::once(first).chain(second).collect())
}

/// Deepest element nesting [`parse_document`] lets through to the HTML parser.
pub(crate) const MAX_NESTING: usize = 128;

/// Most start tags [`parse_document`] lets through to the HTML parser; the document is cut
/// before the next one. A DOM node costs a few hundred bytes, many times the `<b>` it came
/// from; real emails have a few thousand elements.
pub(crate) const MAX_ELEMENTS: usize = 100_000;

/// Most attributes a start tag keeps in [`parse_document`] (html5ever compares every attribute
/// with all before it, so its time grows with the square of their number).
pub(crate) const MAX_ATTRIBUTES: usize = 256;

/// Longest start tag, in bytes, whose attributes [`parse_document`] keeps (a class list of
/// millions of names costs far more than its bytes once CSS selection splits it).
pub(crate) const MAX_TAG_BYTES: usize = 1024 * 1024;

/// What was removed from an email's HTML before it was parsed into the document CSS selection
/// reads ([`crate::Email::html_trimmed`]); all `false` for real emails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HtmlTrimmed {
    /// Start tags nested deeper than 128 levels (`MAX_NESTING`) and their end tags were removed.
    pub nesting: bool,
    /// The document was cut after 100 000 start tags (`MAX_ELEMENTS`).
    pub elements: bool,
    /// Start tags with more than 256 attributes (`MAX_ATTRIBUTES`), or longer than 1 MiB
    /// (`MAX_TAG_BYTES`), lost their attributes.
    pub attributes: bool,
}

impl HtmlTrimmed {
    /// Whether anything was removed.
    pub fn any(&self) -> bool {
        self.nesting || self.elements || self.attributes
    }

    /// The record warnings that say what was removed (`html_nesting_trimmed`,
    /// `html_elements_trimmed`, `html_attributes_trimmed`); none for real emails.
    pub fn warnings(&self) -> Vec<crate::record::Issue> {
        use crate::record::{Issue, IssueCode};
        let mut warnings = Vec::new();
        if self.nesting {
            warnings.push(Issue::new(
                IssueCode::HtmlNestingTrimmed,
                format!("the HTML body nests elements deeper than {MAX_NESTING} levels; deeper elements were ignored"),
            ));
        }
        if self.elements {
            warnings.push(Issue::new(
                IssueCode::HtmlElementsTrimmed,
                format!("the HTML body has more than {MAX_ELEMENTS} elements; CSS selection saw the first {MAX_ELEMENTS} only"),
            ));
        }
        if self.attributes {
            warnings.push(Issue::new(
                IssueCode::HtmlAttributesTrimmed,
                format!("an HTML element has more than {MAX_ATTRIBUTES} attributes or a start tag over {MAX_TAG_BYTES} bytes; CSS selection saw it without attributes"),
            ));
        }
        warnings
    }
}

/// Parses an HTML document with bounded cost: start tags that would nest deeper than
/// [`MAX_NESTING`] (and their end tags) are removed, the document is cut after
/// [`MAX_ELEMENTS`] start tags, and start tags with more than [`MAX_ATTRIBUTES`] attributes
/// or more than [`MAX_TAG_BYTES`] bytes lose their attributes, all before parsing.
///
/// html5ever's tree builder scans the stack of open elements for many tags, so its time grows
/// with the square of the nesting depth: 40 000 nested `<div>`s (200 KB) take seconds, a hostile
/// 40 MB email would take hours; and every element costs a few hundred bytes of DOM. Real emails
/// stay far below the caps, so for them the input is parsed unchanged. The second value says
/// what was removed.
#[cfg(test)]
pub(crate) fn parse_document(html: &str) -> (Html, HtmlTrimmed) {
    match parse_document_within(html, &Budget::unlimited()) {
        Ok(parsed) => parsed,
        // An unlimited budget is never spent.
        Err(_) => (Html::new_document(), HtmlTrimmed::default()),
    }
}

/// Worst time [`text_view_str`] takes per byte of HTML, about (measured on hostile markup in a
/// release build, rounded up).
pub(crate) const TEXT_VIEW_NS_PER_BYTE: u64 = 10;

/// Whether rendering `html` with [`text_view_str`] (linear, but in one go) fits `budget`: its
/// worst-case time ([`TEXT_VIEW_NS_PER_BYTE`]) must fit the time left and the view (at most
/// about as long as the HTML) the memory left; otherwise the budget fails before it starts.
pub(crate) fn admit_text_view(html: &str, budget: &Budget) -> Result<(), Exceeded> {
    admit_text_view_of(html.len(), budget)
}

/// [`admit_text_view`] for `bytes` of HTML not at hand yet (the HTML parts of an email whose
/// text view is rendered on first use).
pub(crate) fn admit_text_view_of(bytes: usize, budget: &Budget) -> Result<(), Exceeded> {
    budget.check()?;
    let bytes = bytes as u64;
    let worst = std::time::Duration::from_nanos(bytes.saturating_mul(TEXT_VIEW_NS_PER_BYTE));
    if worst > budget.remaining_time() {
        return Err(budget.fail(Exceeded::Time));
    }
    if !budget.fits(bytes) {
        return Err(budget.fail(Exceeded::Memory));
    }
    budget.work(bytes)
}

/// Bytes of memory one node of a parsed document takes, about (the node, its links in the tree,
/// its element data; text and attribute bytes are counted apart, one byte per input byte).
/// Measured on documents of many small elements, rounded up.
pub(crate) const DOCUMENT_NODE_BYTES: u64 = 256;

/// Bytes of HTML handed to the parser between two budget checks (so a document overshoots its
/// allowance by at most the nodes of one chunk).
const PARSE_CHUNK: usize = 16 * 1024;

/// [`parse_document`] under a budget: the document's memory ([`DOCUMENT_NODE_BYTES`] per node
/// plus the input) is charged as retained memory as it grows, and parsing stops as soon as the
/// budget is spent: the input is fed to the parser in chunks, with a budget check after each.
pub(crate) fn parse_document_within(
    html: &str,
    budget: &Budget,
) -> Result<(Html, HtmlTrimmed), Exceeded> {
    use html5ever::tendril::{StrTendril, TendrilSink};

    budget.check()?;
    budget.work(html.len() as u64)?;
    let scratch = budget.scratch_mark();
    let (bounded, trimmed) = bound_document(html, MAX_NESTING, MAX_ELEMENTS, budget)?;
    let mut parser = html5ever::parse_document(
        scraper::HtmlTreeSink::new(Html::new_document()),
        Default::default(),
    );
    let mut charged = 0u64;
    let mut rest: &str = &bounded;
    while !rest.is_empty() {
        let cut = crate::budget::floor_char_boundary(rest, PARSE_CHUNK);
        let (chunk, tail) = rest.split_at(cut);
        rest = tail;
        parser.process(StrTendril::from_slice(chunk));
        let nodes = parser.tokenizer.sink.sink.0.borrow().tree.nodes().len() as u64;
        let size = nodes
            .saturating_mul(DOCUMENT_NODE_BYTES)
            .saturating_add((bounded.len() - rest.len()) as u64);
        budget.retain(size.saturating_sub(charged))?;
        charged = charged.max(size);
        budget.work(chunk.len() as u64)?;
    }
    let document = parser.finish();
    budget.release_scratch(scratch);
    Ok((document, trimmed))
}

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "basefont", "bgsound", "frame", "keygen",
];
/// Elements whose end tag is optional (the parser closes them implicitly); they are not counted,
/// because a run of unclosed `<li>` or `<p>` does not nest.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "td", "th", "tr", "option", "optgroup", "dt", "dd", "tbody", "thead", "tfoot",
    "colgroup", "rt", "rp", "html", "head", "body",
];
/// Elements whose content is raw text, not markup.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp", "plaintext"];

/// The input with the changes [`parse_document`] describes (nesting estimated from the tag
/// stream), built only when something changes; the input itself otherwise. The scan is charged
/// to `budget` as work, the edited copy as memory.
fn bound_document<'h>(
    html: &'h str,
    max_depth: usize,
    max_elements: usize,
    budget: &Budget,
) -> Result<(Cow<'h, str>, HtmlTrimmed), Exceeded> {
    let bytes = html.as_bytes();
    let mut trimmed = HtmlTrimmed::default();
    let mut depth = 0usize;
    let mut elements = 0usize;
    // Start tags dropped and not yet matched by a dropped end tag.
    let mut dropped = 0usize;
    let mut edits = Edits::default();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &bytes[i..]) {
        let start = i + off;
        // Tags as the text view's tokenizer reads them (quotes, comments, bogus comments).
        let Some((markup, end)) = fast::markup_at(html, start) else {
            if bytes
                .get(start + 1)
                .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'/')
            {
                // The input ends inside this tag: the parser drops it, nothing follows.
                break;
            }
            i = start + 1;
            continue;
        };
        budget.work((end - start) as u64)?;
        i = end;
        let (name, is_end, attributes, self_closing) = match markup {
            fast::Markup::Start {
                name,
                attributes,
                self_closing,
            } => (name, false, attributes, self_closing),
            fast::Markup::End(name) => (name, true, 0, false),
            fast::Markup::Other => continue,
        };
        let name = name.to_ascii_lowercase();
        if is_end {
            if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) {
                continue;
            }
            if dropped > 0 {
                dropped -= 1;
                edits.replace(html, start..end, "", budget)?;
            } else {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        elements += 1;
        if elements > max_elements {
            trimmed.elements = true;
            edits.replace(html, start..bytes.len(), "", budget)?;
            break;
        }
        let raw_text = RAW_TEXT.contains(&name.as_str()) && !self_closing;
        let nests = !(VOID.contains(&name.as_str())
            || OPTIONAL_END.contains(&name.as_str())
            || self_closing);
        if nests && !raw_text && depth >= max_depth {
            trimmed.nesting = true;
            dropped += 1;
            edits.replace(html, start..end, "", budget)?;
            continue;
        }
        if attributes > MAX_ATTRIBUTES || end - start > MAX_TAG_BYTES {
            trimmed.attributes = true;
            let bare = format!("<{name}{}>", if self_closing { "/" } else { "" });
            edits.replace(html, start..end, &bare, budget)?;
        }
        if !nests {
            continue;
        }
        depth += 1;
        if raw_text {
            // Skip to the matching end tag; its content is not markup.
            i = fast::find_end_tag(bytes, end, name.as_bytes()).unwrap_or(bytes.len());
        }
    }
    Ok((edits.finish(html), trimmed))
}

/// The edited copy of a document, built only once something changes.
#[derive(Default)]
struct Edits {
    out: Option<String>,
    /// How far the input has been copied into `out`.
    copied: usize,
}

impl Edits {
    /// Replaces `range` of `html` (after everything replaced so far) with `with`; the copy,
    /// made at the first change, is charged to `budget`.
    fn replace(
        &mut self,
        html: &str,
        range: std::ops::Range<usize>,
        with: &str,
        budget: &Budget,
    ) -> Result<(), Exceeded> {
        if self.out.is_none() {
            budget.charge(html.len() as u64)?;
        }
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(html.len()));
        out.push_str(&html[self.copied..range.start]);
        out.push_str(with);
        self.copied = range.end;
        Ok(())
    }

    fn finish(self, html: &str) -> Cow<'_, str> {
        match self.out {
            None => Cow::Borrowed(html),
            Some(mut out) => {
                out.push_str(&html[self.copied..]);
                Cow::Owned(out)
            }
        }
    }
}

/// Every `<meta name="..." content="...">` of the document, in document order, with the name
/// and content trimmed. Meta tags in the body count too (real lead emails put them there).
/// Tags without a `name` or without `content` are skipped.
#[cfg(test)]
pub(crate) fn meta_tags(doc: &Html) -> Vec<(String, String)> {
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

    /// `Writer::text` copies runs of ASCII words whole; putting the same text one character
    /// at a time must give the same output, from every state the writer can be in.
    #[test]
    fn text_copies_runs_as_putting_each_character_would() {
        fn by_char(w: &mut Writer, t: &str, pre: bool) {
            for c in t.chars() {
                if crate::normalize::is_invisible(c) {
                } else if pre && c == '\n' {
                    w.newline(1, true);
                } else if c.is_whitespace() && !(pre && c == ' ') {
                    w.space = true;
                } else {
                    w.put(c);
                }
            }
        }
        const PIECES: [&str; 8] = ["ab", " ", "  ", "\n", "\t", "é", "\u{200B}", "-1"];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| PIECES.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            for out in ["", "x", "x ", "x\n", "x\t", "x\u{2003}"] {
                for (newlines, space, cell, pre) in
                    (0..16).map(|i| (i & 1, i & 2 != 0, i & 4 != 0, i & 8 != 0))
                {
                    let writer = || Writer {
                        out: out.to_owned(),
                        newlines: newlines as u8,
                        space,
                        cell,
                    };
                    let (mut fast, mut slow) = (writer(), writer());
                    fast.text(text, pre);
                    by_char(&mut slow, text, pre);
                    assert_eq!(
                        (&fast.out, fast.newlines, fast.space, fast.cell),
                        (&slow.out, slow.newlines, slow.space, slow.cell),
                        "{text:?} after {out:?}, newlines {newlines}, space {space}, cell {cell}, pre {pre}"
                    );
                }
            }
        }
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
    fn bounded_parsing() {
        // Ordinary documents are parsed unchanged.
        let normal = "<html><body><div><table><tr><td><p>a<br>b</td></tr></table></div><script>if (a<b) {}</script></body></html>";
        assert!(matches!(
            bound_document(normal, MAX_NESTING, MAX_ELEMENTS, &Budget::unlimited())
                .unwrap()
                .0,
            Cow::Borrowed(_)
        ));
        let many_li = "<ul>".to_string() + &"<li>x".repeat(10_000) + "</ul>";
        assert!(matches!(
            bound_document(&many_li, MAX_NESTING, MAX_ELEMENTS, &Budget::unlimited())
                .unwrap()
                .0,
            Cow::Borrowed(_)
        ));
        // Deep nesting is cut at the limit, and what follows is still there.
        let deep = "<div>".repeat(1_000) + "deep" + &"</div>".repeat(1_000) + "<p>after</p>";
        let (doc, trimmed) = parse_document(&deep);
        assert!(trimmed.nesting && !trimmed.elements && !trimmed.attributes);
        assert_eq!(text_view(&doc), "deep\n\nafter");
        let depth = doc
            .tree
            .root()
            .descendants()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap_or(0);
        assert!(depth <= MAX_NESTING + 4, "depth {depth}");
        // Quotes and comments do not confuse the scan.
        let tricky = "<a title='>'>x</a><!-- <div><div> -->".to_string() + &"<b>".repeat(200);
        let bounded = bound_document(&tricky, MAX_NESTING, MAX_ELEMENTS, &Budget::unlimited())
            .unwrap()
            .0;
        assert_eq!(bounded.matches("<b>").count(), MAX_NESTING);
        // Unclosed and truncated markup.
        for junk in [
            "<",
            "<div",
            "</",
            "<div title=\"",
            "<!--",
            "<script>",
            "<1>",
            "<\u{FFFD}>",
        ] {
            let _ = parse_document(junk);
        }
    }

    #[test]
    fn deep_nesting_is_trimmed_not_followed() {
        // The trim is what keeps html5ever linear here; time itself is measured by the
        // release-mode hostile-input run, never asserted in a test.
        let deep = "<div>".repeat(100_000) + "x";
        let (doc, trimmed) = parse_document(&deep);
        assert!(trimmed.nesting);
        assert_eq!(text_view(&doc), "x");
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

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    #[test]
    fn random_markup_never_panics() {
        const PIECES: &[&str] = &[
            "<table>",
            "</table>",
            "<tr>",
            "</tr>",
            "<td>",
            "</td>",
            "<th>",
            "<br>",
            "<p>",
            "</p>",
            "<pre>",
            "</pre>",
            "<div>",
            "</div>",
            "<script>",
            "</script>",
            "<style>",
            "<!--",
            "-->",
            "<meta name='lead_x' content='",
            "'>",
            "&nbsp;",
            "&amp;",
            "&#",
            ";",
            "x",
            " ",
            "\n",
            "\t",
            "\u{FFFD}",
            "\u{200B}",
            "<",
            ">",
            "\"",
            "<b>",
            "</b>",
            "<head>",
            "<title>",
        ];
        for s in crate::testing::random_documents(0xfeed, PIECES, 40, 1_500) {
            let (doc, _) = parse_document(&s);
            let view = text_view(&doc);
            assert!(
                !view.contains("\n\n\n"),
                "more than one blank line for {s:?}"
            );
            assert!(
                !view.starts_with('\n') && !view.ends_with([' ', '\n', '\t']),
                "untrimmed view for {s:?}: {view:?}"
            );
            let _ = meta_tags(&doc);
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    use std::time::Duration;

    use crate::budget::{Budget, Exceeded};
    use crate::html::{parse_document_within, strip_tags, text_view};

    #[test]
    fn text_view_keeps_rows_and_cells() {
        let doc = scraper::Html::parse_document(
            "<table><tr><td>Name:</td><td>Jane&nbsp;Doe</td></tr><tr><td>Phone:</td><td>202-555-0143</td></tr></table>",
        );
        assert_eq!(text_view(&doc), "Name:\tJane Doe\nPhone:\t202-555-0143");
    }

    #[test]
    fn strip_tags_decodes_and_breaks_lines() {
        assert_eq!(
            strip_tags("Tom &amp; Jerry<br><b>Hi</b>&#33;"),
            "Tom & Jerry\nHi!"
        );
        // The one entity table; `&nbsp;` (not `&#160;`) becomes a space.
        assert_eq!(
            strip_tags("O&rsquo;Brien&nbsp;&copy 2026 &#160;&hookrightarrow; AT&T &bogus;"),
            "O\u{2019}Brien \u{A9} 2026 \u{A0}\u{21AA} AT&T &bogus;"
        );
        // The text view's tokenizer finds the tags: quotes, comments, text `<`, cut-off tags.
        assert_eq!(
            strip_tags("<a title='x > y'>link</a> a < b <!-- <p> --></p>x</DIV>y<td class"),
            "link a < b \nx\ny<td class"
        );
        assert_eq!(strip_tags("a</br>b<br/>c</"), "a\nb\nc</");
        // A cut-off tag stops the scan: the rest is text, read once.
        let cut = "<b".repeat(50_000);
        assert_eq!(strip_tags(&cut), cut);
    }

    #[test]
    fn parse_document_within_stops_when_the_budget_is_spent() {
        let html = "<div class=name>x</div>".repeat(10_000);
        let small = Budget::new(Duration::from_secs(10), 1 << 20);
        assert_eq!(
            parse_document_within(&html, &small).err(),
            Some(Exceeded::Memory)
        );
        let (doc, _) = parse_document_within(&html, &Budget::unlimited()).unwrap();
        assert_eq!(crate::css::select(&doc, "div.name").unwrap().len(), 10_000);
    }
}
