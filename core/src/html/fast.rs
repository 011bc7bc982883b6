//! A streaming HTML scanner that renders the same text view and finds the same `<meta>` tags as
//! [`text_view`](super::text_view) and [`meta_tags`](super::meta_tags), without building a DOM.
//!
//! The scanner tokenizes the input in one pass and emulates the parts of the HTML tree
//! construction rules that change what a reader sees: implied end tags (`<p>` closed by a block,
//! `<li>` by the next `<li>`, cells and rows by the next cell or row), the table insertion modes
//! (stray cells outside a table are ignored, rows and bodies are implied), quirks mode (a
//! `<table>` does not close an open `<p>` without a standards doctype), `<head>` content,
//! raw-text elements (`<script>`, `<style>`, `<title>`, `<textarea>`, ...), `<select>`, foreign
//! content (`<svg>`, `<math>`) and the leading newline dropped after `<pre>` and `<textarea>`.
//! The events it produces drive the same writer as [`text_view`](super::text_view), so spacing,
//! line breaks and table cells come out identically.
//!
//! What it does not reproduce: foster parenting (text or elements misplaced directly inside a
//! `<table>` are rendered where they appear instead of before the table) and the adoption agency
//! (misnested inline formatting, which has no effect on the text view).
//!
//! Every scope check and implied close is O(1) amortised, so time is linear in the input even for
//! absurd nesting, and nothing is ever sliced inside a character.
//!
//! The parts, one job each:
//!
//! - [`tokenizer`]: the one HTML tag scanner of mailex. One pass over the string finds tags,
//!   comments, doctypes, CDATA and raw-text content; [`markup_at`] gives the same reading of one
//!   tag to [`strip_tags`](super::strip_tags) and to the bounds checked before the DOM is
//!   parsed ([`parse_document_within`](super::parse_document_within)).
//! - [`char_ref`]: character references, decoded through html5ever's table of every named
//!   reference of the HTML standard (the one entity table, shared with the DOM, `strip_tags`
//!   and the ADF parser).
//! - [`doctype`]: whether a doctype puts the document in quirks mode.
//! - [`elements`]: the elements the tree emulation tracks and their scope and group flags.
//! - [`tree`]: the stack of open elements, the phases before `<body>`, token dispatch.
//! - [`modes`]: the insertion-mode rules once the body has started (body, table, select,
//!   foreign content).
//! - [`render`]: the text view's writer driven by the element events.
//!
//! # Why not html5ever's tokenizer (or lol_html)
//!
//! Issue 14 asked to measure this scanner against html5ever's tokenizer (compiled in already,
//! for CSS selection) and keep the faster one that is correct on every fixture.
//! `core/benches/html.rs` times, on the HTML bodies of every fixture mail, the whole text view
//! of this scanner against html5ever's tokenizer *alone* (a sink that only collects the
//! character tokens: a lower bound for any text view built on it, which would still need this
//! module's tree emulation and writer). Release build, 2026-11-30, a shared 2-vCPU machine under
//! load (ratios count, absolute times only illustrate):
//!
//! | inputs | median per mail: scanner | html5ever tokenizer alone | median of per-mail ratios | all mails |
//! |---|---|---|---|---|
//! | 79 fixture mails with HTML (629 KB) | 19.8 µs | 120.7 µs | 4.20x | 18.6 ms vs 53.9 ms |
//! | 50 corpus mails with HTML (612 KB, `/work/shared/corpus`) | 63.7 µs | 120.8 µs | 2.63x | 21.0 ms vs 45.6 ms |
//!
//! (The full html5ever parse into a DOM: 169.6 µs and 270.0 µs per mail.) The tokenizer alone
//! is 2.6 to 4.2 times slower than this whole text view, so the scanner stays; the corpus test
//! in `tests.rs` holds it to the DOM's text view on every fixture. What it took from html5ever
//! is the entity table ([`char_ref`]); the numbers above were measured with it.
//!
//! lol_html was not measured: it is not a dependency today (it would add its own CSS selector
//! and encoding stack), and as a streaming rewriter it has no tree construction either, so the
//! emulation of implied end tags and table modes would stay; only its tokenizer could replace
//! this one, and html5ever's is the one already compiled in.

use super::CELL_SEPARATOR;
pub(crate) use char_ref::{decode_references, lookup as named_reference};
use tokenizer::run;
pub(crate) use tokenizer::{Markup, find_end_tag, markup_at};
use tree::Builder;
#[cfg(test)]
use {elements::*, render::*, tree::MAX_OPEN};

/// Renders `html` as plain text, exactly as [`text_view`](super::text_view) renders the document
/// html5ever builds from it, in one linear pass and without building that document.
///
/// The parser's error recovery is emulated where it changes what a reader sees (implied end
/// tags, implied table rows and bodies, quirks mode, `<head>` content, raw-text elements,
/// `<select>`, `<svg>`/`<math>`). Two recoveries are not reproduced: text or inline markup
/// misplaced directly inside a `<table>` is moved before the table only while the table has
/// rendered nothing yet (otherwise it stays where it is), and misnested inline formatting (the
/// adoption agency) is ignored, which never changes the text view.
pub(crate) fn text_view_str(html: &str) -> String {
    let mut b = Builder::new(true);
    run(html, &mut b);
    let mut out = b.r.w.out;
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// Every `<meta name="..." content="...">` of `html`, in document order, with the name and
/// content decoded and trimmed, exactly as [`meta_tags`](super::meta_tags) finds them in the parsed
/// document. Meta tags in the body count too; tags without a `name` or without `content`, or with
/// an empty name, are skipped.
pub(crate) fn meta_tags_str(html: &str) -> Vec<(String, String)> {
    meta_tags_limited(html, usize::MAX).0
}

/// The first `max` meta tags [`meta_tags_str`] finds, and how many it finds in all: a million
/// tags cost only their count.
pub(crate) fn meta_tags_limited(html: &str, max: usize) -> (Vec<(String, String)>, usize) {
    let mut b = Builder::new(false);
    b.metas = Some(Vec::new());
    b.metas_max = max;
    run(html, &mut b);
    (b.metas.unwrap_or_default(), b.metas_found)
}

/// The charset the first `<meta charset="...">` or `<meta http-equiv="Content-Type"
/// content="...; charset=...">` of `html` declares, trimmed, as written (a label, not yet
/// resolved to an encoding).
///
/// Browsers only look at the first 1024 bytes for this declaration; callers pass that prefix.
pub(crate) fn meta_charset_str(html: &str) -> Option<String> {
    let mut b = Builder::new(false);
    b.charset = Some(None);
    run(html, &mut b);
    b.charset.flatten()
}

/// The charset of a `Content-Type` value given in an `http-equiv` meta tag, as the HTML
/// standard extracts it: after `charset`, optional spaces and `=`, a quoted or bare value.
fn charset_in_content_type(content: &str) -> Option<&str> {
    let lower = content.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower.get(from..)?.find("charset") {
        let mut rest = content.get(from + at + "charset".len()..)?;
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let Some(value) = rest.strip_prefix('=') else {
            from += at + "charset".len();
            continue;
        };
        let value = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value
                .get(1..)
                .unwrap_or_default()
                .split(q)
                .next()
                .unwrap_or_default(),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == ';')
                .next()
                .unwrap_or_default(),
        };
        return Some(value.trim()).filter(|v| !v.is_empty());
    }
    None
}

mod char_ref;
mod doctype;
mod elements;
mod modes;
mod render;
mod tokenizer;
mod tree;

// Keep the separator in sync with the writer: cells are joined by it.
const _: () = assert!(CELL_SEPARATOR == '\t');

#[cfg(test)]
mod tests;

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    use super::{meta_charset_str, meta_tags_limited, meta_tags_str, text_view_str};

    #[test]
    fn text_view_str_keeps_rows_and_cells() {
        let html = "<table><tr><td>Name:<td>Jane&nbsp;Doe<tr><td>Phone:<td>202-555-0143</table>";
        assert_eq!(text_view_str(html), "Name:\tJane Doe\nPhone:\t202-555-0143");
    }

    #[test]
    fn meta_tags_str_decodes() {
        let html = "<body><META NAME=lead_name CONTENT='Jos&eacute; Doe'><p>x";
        assert_eq!(
            meta_tags_str(html),
            vec![("lead_name".to_string(), "José Doe".to_string())]
        );
    }

    #[test]
    fn meta_tags_limited_counts_the_rest() {
        let html = "<meta name=a content=1><meta name=b content=2><meta name=c content=3>";
        let (tags, total) = meta_tags_limited(html, 2);
        assert_eq!((tags.len(), total), (2, 3));
    }

    #[test]
    fn meta_charset_str_reads_both_forms() {
        let html = r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">"#;
        assert_eq!(meta_charset_str(html).as_deref(), Some("Shift_JIS"));
        assert_eq!(
            meta_charset_str("<meta charset='euc-kr'>").as_deref(),
            Some("euc-kr")
        );
        assert_eq!(meta_charset_str("<p>no declaration</p>"), None);
    }
}
