//! The text view's writer driven by the scanner's element events: it mirrors the traversal
//! of [`text_view`](crate::html::text_view) over a parsed document (skipped elements, blocks,
//! paragraphs, `<pre>`, rows and cells).

use crate::html::Writer;

/// Render classification of an element name: the `SKIPPED`, `BLOCKS` and `PARAGRAPHS` lists of
/// the parent module as one match (kept in sync by a test).
pub(super) fn render_flags(name: &str) -> u8 {
    match name {
        "script" | "style" | "head" | "title" | "template" | "noscript" | "object" | "iframe"
        | "svg" => R_SKIP,
        "blockquote" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr" | "p" | "pre" => {
            R_BLOCK | R_PARA
        }
        "address" | "article" | "aside" | "center" | "dd" | "details" | "dialog" | "dir"
        | "div" | "dl" | "dt" | "fieldset" | "figcaption" | "figure" | "footer" | "form"
        | "header" | "hgroup" | "li" | "main" | "menu" | "nav" | "ol" | "section" | "summary"
        | "table" | "tbody" | "tfoot" | "thead" | "tr" | "ul" | "caption" | "body" | "html"
        | "option" | "legend" | "textarea" | "select" => R_BLOCK,
        _ => 0,
    }
}

pub(super) const R_SKIP: u8 = 1;
pub(super) const R_BLOCK: u8 = 2;
pub(super) const R_PARA: u8 = 4;

pub(super) struct Render {
    pub(super) on: bool,
    pub(super) w: Writer,
    pub(super) skip: usize,
    pub(super) pre: usize,
    pub(super) rows: Vec<usize>,
}

impl Render {
    pub(super) fn open(&mut self, name: &str) {
        if !self.on {
            return;
        }
        let flags = render_flags(name);
        if flags & R_SKIP != 0 {
            self.skip += 1;
            return;
        }
        if self.skip > 0 {
            return;
        }
        match name {
            "br" => self.w.newline(1, true),
            "pre" => self.pre += 1,
            "tr" => self.rows.push(0),
            "td" | "th" => {
                if let Some(count) = self.rows.last_mut() {
                    if *count > 0 {
                        self.w.cell = true;
                    }
                    *count += 1;
                } else {
                    self.w.cell = true;
                }
            }
            _ => {}
        }
        if flags & R_BLOCK != 0 {
            self.w
                .newline(if flags & R_PARA != 0 { 2 } else { 1 }, false);
        }
    }

    pub(super) fn close(&mut self, name: &str) {
        if !self.on {
            return;
        }
        let flags = render_flags(name);
        if flags & R_SKIP != 0 {
            self.skip = self.skip.saturating_sub(1);
            return;
        }
        if self.skip > 0 {
            return;
        }
        match name {
            "pre" => self.pre = self.pre.saturating_sub(1),
            "tr" => {
                self.rows.pop();
            }
            "td" | "th" => self.w.space = true,
            _ => {}
        }
        if flags & R_BLOCK != 0 {
            self.w
                .newline(if flags & R_PARA != 0 { 2 } else { 1 }, false);
        }
    }

    pub(super) fn text(&mut self, t: &str) {
        if self.on && self.skip == 0 && !t.is_empty() {
            self.w.text(t, self.pre > 0);
        }
    }
}
