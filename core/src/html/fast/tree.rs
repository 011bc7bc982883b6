//! Tree construction emulation: the stack of open elements with O(1) scope checks, the
//! document phases before `<body>`, and the dispatch of tokens (start and end tags, text, doctype,
//! end of input) to the insertion-mode rules of [`modes`](super::modes).

use super::charset_in_content_type;
use super::elements::*;
use super::render::Render;
use super::tokenizer::is_ascii_ws;
use crate::html::Writer;

pub(super) struct Entry {
    pub(super) name: &'static str,
    pub(super) tag: u8,
    pub(super) flags: u16,
    /// The element was removed from the stack (a misnested `</form>`); its end is emitted when
    /// everything above it has been closed.
    pub(super) dead: bool,
    pub(super) prev_tag: u32,
    pub(super) prev: [u32; NK],
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Initial, before html and before head: nothing seen but whitespace, comments, doctype.
    Initial,
    /// Before head, after a doctype or `<html>`.
    BeforeHead,
    InHead,
    AfterHead,
    Body,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Body,
    Table,
    TableBody,
    Row,
    Cell,
    Caption,
    ColGroup,
    Select,
    SelectInTable,
}

/// How the tokenizer reads the content of an element it just opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Raw {
    /// Raw text up to the matching end tag (`<style>`, `<script>`, `<xmp>`, ...).
    Text,
    /// Text with character references up to the matching end tag (`<title>`, `<textarea>`).
    Rcdata,
    /// Everything to the end of the input.
    Plaintext,
}

/// A start tag's attributes that matter: only `<meta>` and `<font>`/`<input>` look at them.
#[derive(Default)]
pub(super) struct Attrs {
    pub(super) name: Option<String>,
    pub(super) content: Option<String>,
    /// `<meta charset>`.
    pub(super) charset: Option<String>,
    /// `<meta http-equiv>`.
    pub(super) http_equiv: Option<String>,
    /// `<font>` with color, face or size breaks out of foreign content.
    pub(super) font_breakout: bool,
    /// `<input type=hidden>` stays inside a table.
    pub(super) hidden: bool,
}

pub(super) struct Builder {
    pub(super) r: Render,
    pub(super) stack: Vec<Entry>,
    /// Per tracked tag: 1 + index of its topmost open entry (0: none).
    pub(super) last_tag: [u32; NT],
    /// Per classification bit: 1 + index of the topmost open entry that has it (0: none).
    pub(super) last: [u32; NK],
    pub(super) phase: Phase,
    pub(super) quirks: bool,
    /// The form element pointer: set by `<form>`, cleared only by `</form>`.
    pub(super) form: Option<usize>,
    /// Counts pushes, to tell whether the form pointer still names an open element.
    pub(super) serial: usize,
    pub(super) form_serial: usize,
    pub(super) serials: Vec<usize>,
    pub(super) ignore_lf: bool,
    /// Open foreign elements (hashes of their names) inside the current `<svg>`/`<math>`.
    pub(super) foreign: Vec<u64>,
    /// How many times each hash occurs in `foreign` (so a stray end tag costs O(1)).
    pub(super) foreign_count: std::collections::HashMap<u64, u32>,
    /// Depth in `foreign` of open HTML integration points (svg foreignObject, desc, title).
    pub(super) integration: usize,
    /// The element whose raw content the tokenizer is reading, when it is not on the stack
    /// (head content).
    pub(super) raw_outside: bool,
    pub(super) metas: Option<Vec<(String, String)>>,
    /// The first charset a meta tag declares, when asked for (`Some(None)` until found).
    pub(super) charset: Option<Option<String>>,
    /// Most meta tags kept in `metas`.
    pub(super) metas_max: usize,
    /// Meta tags found, kept or not.
    pub(super) metas_found: usize,
    /// Per open table: the output length and pending writer state just before it opened, so
    /// text foster-parented before a table that has not rendered anything yet lands where
    /// the parser puts it.
    pub(super) tables: Vec<Saved>,
    /// Elements opened above [`MAX_OPEN`] open ones: counted, not stored (see [`MAX_OPEN`]).
    pub(super) overflow: usize,
}

/// Most open elements (and open foreign elements) the emulation stores. Deeper ones are only
/// counted: each is closed by the next pop, and an end tag that closes a stored element
/// closes them all. Real mail nests a few dozen levels; without this cap a 40 MB body of
/// `<div>`s held 2.5 million stack entries (about 300 MB) while its meta tags were read.
/// The DOM, for comparison, keeps [`crate::html::MAX_NESTING`] levels.
pub(crate) const MAX_OPEN: usize = 4096;

#[derive(Clone, Copy)]
pub(super) struct Saved {
    pub(super) len: usize,
    pub(super) newlines: u8,
    pub(super) space: bool,
    pub(super) cell: bool,
}

/// What the tokenizer does after a start tag.
pub(super) type Next = Option<(Raw, &'static str)>;

impl Builder {
    pub(super) fn new(render: bool) -> Self {
        Builder {
            r: Render {
                on: render,
                w: Writer {
                    out: String::new(),
                    newlines: 0,
                    space: false,
                    cell: false,
                },
                skip: 0,
                pre: 0,
                rows: Vec::new(),
            },
            stack: Vec::new(),
            last_tag: [0; NT],
            last: [0; NK],
            phase: Phase::Initial,
            quirks: true,
            form: None,
            serial: 0,
            form_serial: 0,
            serials: Vec::new(),
            ignore_lf: false,
            foreign: Vec::new(),
            foreign_count: std::collections::HashMap::new(),
            integration: 0,
            raw_outside: false,
            metas: None,
            charset: None,
            metas_max: usize::MAX,
            metas_found: 0,
            tables: Vec::new(),
            overflow: 0,
        }
    }

    // --- stack -------------------------------------------------------------------------------

    pub(super) fn push(&mut self, name: &str) {
        let Some(tag) = tracked_index(name) else {
            return;
        };
        if self.stack.len() >= MAX_OPEN {
            self.overflow += 1;
            return;
        }
        let name = TRACKED[tag];
        let idx = u32::try_from(self.stack.len() + 1).unwrap_or(u32::MAX);
        let flags = classification()[tag];
        let mut prev = [0; NK];
        for (k, p) in prev.iter_mut().enumerate() {
            if flags & (1 << k) != 0 {
                *p = self.last[k];
                self.last[k] = idx;
            }
        }
        let prev_tag = self.last_tag[tag];
        self.last_tag[tag] = idx;
        self.stack.push(Entry {
            name,
            tag: u8::try_from(tag).unwrap_or(u8::MAX),
            flags,
            dead: false,
            prev_tag,
            prev,
        });
        self.serial += 1;
        self.serials.push(self.serial);
        if name == "table" {
            let w = &self.r.w;
            self.tables.push(Saved {
                len: w.out.len(),
                newlines: w.newlines,
                space: w.space,
                cell: w.cell,
            });
        }
        self.r.open(name);
    }

    pub(super) fn pop(&mut self) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let Some(e) = self.stack.pop() else {
            return;
        };
        self.serials.pop();
        for k in 0..NK {
            if e.flags & (1 << k) != 0 {
                self.last[k] = e.prev[k];
            }
        }
        if let Some(slot) = self.last_tag.get_mut(usize::from(e.tag)) {
            *slot = e.prev_tag;
        }
        if e.name == "table" {
            self.tables.pop();
        }
        if matches!(e.name, "svg" | "math") {
            self.foreign.clear();
            self.foreign_count.clear();
            self.integration = 0;
        }
        self.r.close(e.name);
        // Elements removed earlier end once their content has ended.
        while self.stack.last().is_some_and(|e| e.dead) {
            self.pop();
        }
    }

    pub(super) fn current(&self) -> Option<&'static str> {
        self.stack.last().map(|e| e.name)
    }

    pub(super) fn current_is(&self, name: &str) -> bool {
        self.current() == Some(name)
    }

    pub(super) fn pos_of(&self, name: &str) -> u32 {
        tracked_index(name).map_or(0, |t| self.last_tag[t])
    }

    /// Whether `name` is open with no boundary of `scope` above it.
    pub(super) fn in_scope(&self, name: &str, scope: u16) -> bool {
        let p = self.pos_of(name);
        p != 0 && p >= self.boundary(scope)
    }

    pub(super) fn group_in_scope(&self, group: u16, scope: u16) -> bool {
        let p = self.last[bit(group)];
        p != 0 && p >= self.boundary(scope)
    }

    pub(super) fn boundary(&self, scope: u16) -> u32 {
        self.last[bit(scope)]
    }

    /// Pops elements until one called `name` has been popped.
    pub(super) fn pop_until(&mut self, name: &str) {
        let target = self.pos_of(name);
        while target != 0 && self.stack.len() >= target as usize {
            self.pop();
        }
    }

    /// Pops elements until one of `group` has been popped.
    pub(super) fn pop_until_group(&mut self, group: u16) {
        let target = self.last[bit(group)];
        while target != 0 && self.stack.len() >= target as usize {
            self.pop();
        }
    }

    pub(super) fn generate_implied_end_tags(&mut self, except: &str) {
        while let Some(cur) = self.current() {
            if cur != except && matches!(cur, "dd" | "dt" | "li" | "optgroup" | "option" | "p") {
                self.pop();
            } else {
                break;
            }
        }
    }

    pub(super) fn generate_all_implied_end_tags(&mut self) {
        while let Some(cur) = self.current() {
            if matches!(
                cur,
                "dd" | "dt"
                    | "li"
                    | "optgroup"
                    | "option"
                    | "p"
                    | "caption"
                    | "colgroup"
                    | "tbody"
                    | "td"
                    | "tfoot"
                    | "th"
                    | "thead"
                    | "tr"
            ) {
                self.pop();
            } else {
                break;
            }
        }
    }

    pub(super) fn close_p_in_button_scope(&mut self) {
        if self.in_scope("p", BUTTON_SCOPE) {
            self.generate_implied_end_tags("p");
            self.pop_until("p");
        }
    }

    pub(super) fn mode(&self) -> Mode {
        let p = self.last[bit(MODE)];
        if p == 0 {
            return Mode::Body;
        }
        match self.stack.get(p as usize - 1).map(|e| e.name) {
            Some("td" | "th") => Mode::Cell,
            Some("tr") => Mode::Row,
            Some("tbody" | "thead" | "tfoot") => Mode::TableBody,
            Some("caption") => Mode::Caption,
            Some("colgroup") => Mode::ColGroup,
            Some("table") => Mode::Table,
            Some("select") if self.pos_of("table") != 0 => Mode::SelectInTable,
            Some("select") => Mode::Select,
            _ => Mode::Body,
        }
    }

    pub(super) fn in_table_text_context(&self) -> bool {
        matches!(
            self.current(),
            Some("table" | "tbody" | "thead" | "tfoot" | "tr")
        )
    }

    /// Renders content the parser moves before the innermost open table. If the table has not
    /// rendered anything yet, the content goes before it (with the writer state the table found);
    /// otherwise it is rendered in place.
    pub(super) fn foster(&mut self, f: impl FnOnce(&mut Render)) {
        let Some(saved) = self.tables.last().copied() else {
            f(&mut self.r);
            return;
        };
        if !self.r.on || saved.len != self.r.w.out.len() || self.r.skip > 0 {
            f(&mut self.r);
            return;
        }
        let w = &mut self.r.w;
        w.newlines = saved.newlines;
        w.space = saved.space;
        w.cell = saved.cell;
        f(&mut self.r);
        let w = &self.r.w;
        let now = Saved {
            len: w.out.len(),
            newlines: w.newlines,
            space: w.space,
            cell: w.cell,
        };
        if let Some(last) = self.tables.last_mut() {
            *last = now;
        }
        // The table itself (and its row, if one is open) starts a line again.
        self.r.w.newline(1, false);
    }

    pub(super) fn in_foreign(&self) -> bool {
        matches!(self.current(), Some("svg" | "math"))
    }

    pub(super) fn void(&mut self, name: &str) {
        self.r.open(name);
        self.r.close(name);
    }

    pub(super) fn meta(&mut self, attrs: &mut Attrs) {
        if let Some(slot @ None) = self.charset.as_mut() {
            let declared = match attrs.charset.take() {
                Some(charset) => Some(charset.trim().to_owned()).filter(|c| !c.is_empty()),
                None => attrs
                    .http_equiv
                    .as_deref()
                    .filter(|h| h.trim().eq_ignore_ascii_case("content-type"))
                    .and(attrs.content.as_deref())
                    .and_then(charset_in_content_type)
                    .map(str::to_owned),
            };
            *slot = declared;
        }
        if let Some(metas) = self.metas.as_mut()
            && let (Some(name), Some(content)) = (attrs.name.take(), attrs.content.take())
        {
            let name = name.trim();
            if !name.is_empty() {
                self.metas_found += 1;
                if metas.len() < self.metas_max {
                    metas.push((name.to_owned(), content.trim().to_owned()));
                }
            }
        }
    }

    pub(super) fn enter_body(&mut self) {
        if self.phase == Phase::InHead {
            self.r.close("head");
        }
        if self.phase == Phase::Initial {
            self.quirks = true;
        }
        self.phase = Phase::Body;
    }

    // --- tokens ------------------------------------------------------------------------------

    pub(super) fn doctype(&mut self, quirks: bool) {
        if self.phase == Phase::Initial {
            self.quirks = quirks;
            self.phase = Phase::BeforeHead;
        }
    }

    pub(super) fn chars(&mut self, t: &str) {
        let mut t = t;
        if std::mem::take(&mut self.ignore_lf) {
            t = t.strip_prefix('\n').unwrap_or(t);
        }
        if t.is_empty() {
            return;
        }
        match self.phase {
            Phase::Body => {}
            Phase::Initial | Phase::BeforeHead | Phase::InHead | Phase::AfterHead => {
                let rest = t.trim_start_matches(is_ascii_ws);
                if rest.is_empty() {
                    return;
                }
                self.enter_body();
                t = rest;
            }
        }
        if self.in_foreign() {
            self.r.text(t);
            return;
        }
        match self.mode() {
            Mode::Table | Mode::TableBody | Mode::Row
                if matches!(
                    self.current(),
                    Some("table" | "tbody" | "thead" | "tfoot" | "tr")
                ) =>
            {
                // Whitespace stays in the table; other text is foster-parented before it.
                if t.trim_start_matches(is_ascii_ws).is_empty() {
                    self.r.text(t);
                } else {
                    self.foster(|r| r.text(t));
                }
            }
            Mode::ColGroup => {
                let rest = t.trim_start_matches(is_ascii_ws);
                self.r.text(&t[..t.len() - rest.len()]);
                if !rest.is_empty() && self.current_is("colgroup") {
                    self.pop();
                    self.chars(rest);
                }
            }
            _ => self.r.text(t),
        }
    }

    /// Handles a start tag; returns how its content must be read.
    pub(super) fn start(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
        self.ignore_lf = false;
        match self.phase {
            Phase::Body => self.start_in_body_phase(name, self_closing, attrs),
            Phase::Initial | Phase::BeforeHead => match name {
                "html" => {
                    if self.phase == Phase::Initial {
                        self.quirks = true;
                    }
                    self.phase = Phase::BeforeHead;
                    None
                }
                "head" => {
                    self.phase = Phase::InHead;
                    self.r.open("head");
                    None
                }
                "base" | "basefont" | "bgsound" | "link" | "meta" | "noframes" | "script"
                | "style" | "template" | "title" | "noscript" => {
                    self.phase = Phase::InHead;
                    self.r.open("head");
                    self.start(name, self_closing, attrs)
                }
                _ => {
                    self.enter_body();
                    self.start(name, self_closing, attrs)
                }
            },
            Phase::InHead | Phase::AfterHead => match name {
                "html" | "head" => None,
                "body" => {
                    self.enter_body();
                    None
                }
                "base" | "basefont" | "bgsound" | "link" => None,
                "meta" => {
                    self.meta(attrs);
                    None
                }
                "title" => self.head_raw(Raw::Rcdata, "title"),
                "noframes" | "style" => self.head_raw(Raw::Text, name),
                "noscript" if self.phase == Phase::InHead => self.head_raw(Raw::Text, "noscript"),
                "script" => self.head_raw(Raw::Text, "script"),
                "template" => {
                    // Template content is never shown: parse it as body markup under a
                    // skipped element.
                    self.enter_body();
                    self.push("template");
                    None
                }
                _ => {
                    self.enter_body();
                    self.start(name, self_closing, attrs)
                }
            },
        }
    }

    pub(super) fn head_raw(&mut self, raw: Raw, name: &str) -> Next {
        self.raw_outside = true;
        tracked_index(name).map(|t| (raw, TRACKED[t]))
    }

    pub(super) fn end(&mut self, name: &str) {
        self.ignore_lf = false;
        match self.phase {
            Phase::Body => self.end_in_body_phase(name),
            Phase::Initial | Phase::BeforeHead | Phase::AfterHead => {
                if matches!(name, "body" | "html" | "br") {
                    self.enter_body();
                    self.end(name);
                }
            }
            Phase::InHead => match name {
                "head" => {
                    self.r.close("head");
                    self.phase = Phase::AfterHead;
                }
                "body" | "html" | "br" => {
                    self.enter_body();
                    self.end(name);
                }
                _ => {}
            },
        }
    }

    /// The end of a raw-text element's content.
    pub(super) fn raw_end(&mut self) {
        if std::mem::take(&mut self.raw_outside) {
            return;
        }
        self.pop();
    }

    pub(super) fn raw_text(&mut self, t: &str) {
        if self.raw_outside {
            return;
        }
        self.chars_unchecked(t);
    }

    /// Text inside an element (raw text): no table or head logic applies.
    pub(super) fn chars_unchecked(&mut self, t: &str) {
        let mut t = t;
        if std::mem::take(&mut self.ignore_lf) {
            t = t.strip_prefix('\n').unwrap_or(t);
        }
        self.r.text(t);
    }

    pub(super) fn eof(&mut self) {
        while !self.stack.is_empty() {
            self.pop();
        }
        if self.phase == Phase::InHead {
            self.r.close("head");
        }
    }
}
