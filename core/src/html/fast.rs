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

use super::{CELL_SEPARATOR, Writer};

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

// ---------------------------------------------------------------------------------------------
// Rendering: mirrors the traversal of `text_view`.
// ---------------------------------------------------------------------------------------------

/// Render classification of an element name: the `SKIPPED`, `BLOCKS` and `PARAGRAPHS` lists of
/// the parent module as one match (kept in sync by a test).
fn render_flags(name: &str) -> u8 {
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

const R_SKIP: u8 = 1;
const R_BLOCK: u8 = 2;
const R_PARA: u8 = 4;

struct Render {
    on: bool,
    w: Writer,
    skip: usize,
    pre: usize,
    rows: Vec<usize>,
}

impl Render {
    fn open(&mut self, name: &str) {
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

    fn close(&mut self, name: &str) {
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

    fn text(&mut self, t: &str) {
        if self.on && self.skip == 0 && !t.is_empty() {
            self.w.text(t, self.pre > 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Element classification.
// ---------------------------------------------------------------------------------------------

/// Elements the tree emulation keeps on its stack of open elements. Inline and unknown elements
/// are not tracked: they produce no event of the text view and cannot close a tracked element.
const TRACKED: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "li",
    "dd",
    "dt",
    "plaintext",
    "button",
    "applet",
    "marquee",
    "object",
    "table",
    "caption",
    "colgroup",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "td",
    "th",
    "textarea",
    "xmp",
    "iframe",
    "noembed",
    "noscript",
    "noframes",
    "style",
    "script",
    "title",
    "template",
    "select",
    "option",
    "optgroup",
    "legend",
    "svg",
    "math",
];

const NT: usize = TRACKED.len();

// Bits of an element's classification: scope boundaries, categories and groups.
const DEFAULT_SCOPE: u16 = 1 << 0;
const BUTTON_SCOPE: u16 = 1 << 1;
const LIST_SCOPE: u16 = 1 << 2;
const TABLE_SCOPE: u16 = 1 << 3;
const SELECT_SCOPE: u16 = 1 << 4;
const SPECIAL: u16 = 1 << 5;
/// Special elements other than address, div and p: they stop the `<li>`/`<dd>` search.
const LI_STOP: u16 = 1 << 6;
/// Elements that decide the insertion mode.
const MODE: u16 = 1 << 7;
const HEADING: u16 = 1 << 8;
const CELL: u16 = 1 << 9;
const TBODY: u16 = 1 << 10;
const NK: usize = 11;

fn classify(name: &str) -> u16 {
    let mut f = 0;
    if matches!(
        name,
        "applet" | "caption" | "table" | "td" | "th" | "marquee" | "object" | "template"
    ) {
        f |= DEFAULT_SCOPE | BUTTON_SCOPE | LIST_SCOPE;
    }
    if name == "button" {
        f |= BUTTON_SCOPE;
    }
    if matches!(name, "ol" | "ul") {
        f |= LIST_SCOPE;
    }
    if matches!(name, "table" | "template") {
        f |= TABLE_SCOPE;
    }
    if !matches!(name, "option" | "optgroup") {
        f |= SELECT_SCOPE;
    }
    if !matches!(
        name,
        "dialog" | "legend" | "option" | "optgroup" | "svg" | "math"
    ) {
        f |= SPECIAL;
        if !matches!(name, "address" | "div" | "p") {
            f |= LI_STOP;
        }
    }
    if matches!(
        name,
        "td" | "th"
            | "tr"
            | "tbody"
            | "thead"
            | "tfoot"
            | "caption"
            | "colgroup"
            | "table"
            | "select"
            | "template"
    ) {
        f |= MODE;
    }
    if matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
        f |= HEADING;
    }
    if matches!(name, "td" | "th") {
        f |= CELL;
    }
    if matches!(name, "tbody" | "thead" | "tfoot") {
        f |= TBODY;
    }
    f
}

/// `classify` of every tracked element, computed once.
fn classification() -> &'static [u16; NT] {
    static TABLE: std::sync::OnceLock<[u16; NT]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|t| classify(TRACKED[t])))
}

fn tracked_index(name: &str) -> Option<usize> {
    // Must list TRACKED in order (checked by a test).
    Some(match name {
        "address" => 0,
        "article" => 1,
        "aside" => 2,
        "blockquote" => 3,
        "center" => 4,
        "details" => 5,
        "dialog" => 6,
        "dir" => 7,
        "div" => 8,
        "dl" => 9,
        "fieldset" => 10,
        "figcaption" => 11,
        "figure" => 12,
        "footer" => 13,
        "header" => 14,
        "hgroup" => 15,
        "main" => 16,
        "menu" => 17,
        "nav" => 18,
        "ol" => 19,
        "p" => 20,
        "search" => 21,
        "section" => 22,
        "summary" => 23,
        "ul" => 24,
        "h1" => 25,
        "h2" => 26,
        "h3" => 27,
        "h4" => 28,
        "h5" => 29,
        "h6" => 30,
        "pre" => 31,
        "listing" => 32,
        "form" => 33,
        "li" => 34,
        "dd" => 35,
        "dt" => 36,
        "plaintext" => 37,
        "button" => 38,
        "applet" => 39,
        "marquee" => 40,
        "object" => 41,
        "table" => 42,
        "caption" => 43,
        "colgroup" => 44,
        "tbody" => 45,
        "thead" => 46,
        "tfoot" => 47,
        "tr" => 48,
        "td" => 49,
        "th" => 50,
        "textarea" => 51,
        "xmp" => 52,
        "iframe" => 53,
        "noembed" => 54,
        "noscript" => 55,
        "noframes" => 56,
        "style" => 57,
        "script" => 58,
        "title" => 59,
        "template" => 60,
        "select" => 61,
        "option" => 62,
        "optgroup" => 63,
        "legend" => 64,
        "svg" => 65,
        "math" => 66,
        _ => return None,
    })
}

fn is_ascii_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

fn is_ascii_ws_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

// ---------------------------------------------------------------------------------------------
// Tree construction emulation.
// ---------------------------------------------------------------------------------------------

struct Entry {
    name: &'static str,
    tag: u8,
    flags: u16,
    /// The element was removed from the stack (a misnested `</form>`); its end is emitted when
    /// everything above it has been closed.
    dead: bool,
    prev_tag: u32,
    prev: [u32; NK],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Initial, before html and before head: nothing seen but whitespace, comments, doctype.
    Initial,
    /// Before head, after a doctype or `<html>`.
    BeforeHead,
    InHead,
    AfterHead,
    Body,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
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
enum Raw {
    /// Raw text up to the matching end tag (`<style>`, `<script>`, `<xmp>`, ...).
    Text,
    /// Text with character references up to the matching end tag (`<title>`, `<textarea>`).
    Rcdata,
    /// Everything to the end of the input.
    Plaintext,
}

/// A start tag's attributes that matter: only `<meta>` and `<font>`/`<input>` look at them.
#[derive(Default)]
struct Attrs {
    name: Option<String>,
    content: Option<String>,
    /// `<meta charset>`.
    charset: Option<String>,
    /// `<meta http-equiv>`.
    http_equiv: Option<String>,
    /// `<font>` with color, face or size breaks out of foreign content.
    font_breakout: bool,
    /// `<input type=hidden>` stays inside a table.
    hidden: bool,
}

struct Builder {
    r: Render,
    stack: Vec<Entry>,
    /// Per tracked tag: 1 + index of its topmost open entry (0: none).
    last_tag: [u32; NT],
    /// Per classification bit: 1 + index of the topmost open entry that has it (0: none).
    last: [u32; NK],
    phase: Phase,
    quirks: bool,
    /// The form element pointer: set by `<form>`, cleared only by `</form>`.
    form: Option<usize>,
    /// Counts pushes, to tell whether the form pointer still names an open element.
    serial: usize,
    form_serial: usize,
    serials: Vec<usize>,
    ignore_lf: bool,
    /// Open foreign elements (hashes of their names) inside the current `<svg>`/`<math>`.
    foreign: Vec<u64>,
    /// How many times each hash occurs in `foreign` (so a stray end tag costs O(1)).
    foreign_count: std::collections::HashMap<u64, u32>,
    /// Depth in `foreign` of open HTML integration points (svg foreignObject, desc, title).
    integration: usize,
    /// The element whose raw content the tokenizer is reading, when it is not on the stack
    /// (head content).
    raw_outside: bool,
    metas: Option<Vec<(String, String)>>,
    /// The first charset a meta tag declares, when asked for (`Some(None)` until found).
    charset: Option<Option<String>>,
    /// Most meta tags kept in `metas`.
    metas_max: usize,
    /// Meta tags found, kept or not.
    metas_found: usize,
    /// Per open table: the output length and pending writer state just before it opened, so
    /// text foster-parented before a table that has not rendered anything yet lands where
    /// the parser puts it.
    tables: Vec<Saved>,
    /// Elements opened above [`MAX_OPEN`] open ones: counted, not stored (see [`MAX_OPEN`]).
    overflow: usize,
}

/// Most open elements (and open foreign elements) the emulation stores. Deeper ones are only
/// counted: each is closed by the next pop, and an end tag that closes a stored element
/// closes them all. Real mail nests a few dozen levels; without this cap a 40 MB body of
/// `<div>`s held 2.5 million stack entries (about 300 MB) while its meta tags were read.
/// The DOM, for comparison, keeps [`crate::html::MAX_NESTING`] levels.
pub(crate) const MAX_OPEN: usize = 4096;

#[derive(Clone, Copy)]
struct Saved {
    len: usize,
    newlines: u8,
    space: bool,
    cell: bool,
}

/// What the tokenizer does after a start tag.
type Next = Option<(Raw, &'static str)>;

impl Builder {
    fn new(render: bool) -> Self {
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

    fn push(&mut self, name: &str) {
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

    fn pop(&mut self) {
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

    fn current(&self) -> Option<&'static str> {
        self.stack.last().map(|e| e.name)
    }

    fn current_is(&self, name: &str) -> bool {
        self.current() == Some(name)
    }

    fn pos_of(&self, name: &str) -> u32 {
        tracked_index(name).map_or(0, |t| self.last_tag[t])
    }

    /// Whether `name` is open with no boundary of `scope` above it.
    fn in_scope(&self, name: &str, scope: u16) -> bool {
        let p = self.pos_of(name);
        p != 0 && p >= self.boundary(scope)
    }

    fn group_in_scope(&self, group: u16, scope: u16) -> bool {
        let p = self.last[bit(group)];
        p != 0 && p >= self.boundary(scope)
    }

    fn boundary(&self, scope: u16) -> u32 {
        self.last[bit(scope)]
    }

    /// Pops elements until one called `name` has been popped.
    fn pop_until(&mut self, name: &str) {
        let target = self.pos_of(name);
        while target != 0 && self.stack.len() >= target as usize {
            self.pop();
        }
    }

    /// Pops elements until one of `group` has been popped.
    fn pop_until_group(&mut self, group: u16) {
        let target = self.last[bit(group)];
        while target != 0 && self.stack.len() >= target as usize {
            self.pop();
        }
    }

    fn generate_implied_end_tags(&mut self, except: &str) {
        while let Some(cur) = self.current() {
            if cur != except && matches!(cur, "dd" | "dt" | "li" | "optgroup" | "option" | "p") {
                self.pop();
            } else {
                break;
            }
        }
    }

    fn generate_all_implied_end_tags(&mut self) {
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

    fn close_p_in_button_scope(&mut self) {
        if self.in_scope("p", BUTTON_SCOPE) {
            self.generate_implied_end_tags("p");
            self.pop_until("p");
        }
    }

    fn mode(&self) -> Mode {
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

    fn in_table_text_context(&self) -> bool {
        matches!(
            self.current(),
            Some("table" | "tbody" | "thead" | "tfoot" | "tr")
        )
    }

    /// Renders content the parser moves before the innermost open table. If the table has not
    /// rendered anything yet, the content goes before it (with the writer state the table found);
    /// otherwise it is rendered in place.
    fn foster(&mut self, f: impl FnOnce(&mut Render)) {
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

    fn in_foreign(&self) -> bool {
        matches!(self.current(), Some("svg" | "math"))
    }

    fn void(&mut self, name: &str) {
        self.r.open(name);
        self.r.close(name);
    }

    fn meta(&mut self, attrs: &mut Attrs) {
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

    fn enter_body(&mut self) {
        if self.phase == Phase::InHead {
            self.r.close("head");
        }
        if self.phase == Phase::Initial {
            self.quirks = true;
        }
        self.phase = Phase::Body;
    }

    // --- tokens ------------------------------------------------------------------------------

    fn doctype(&mut self, quirks: bool) {
        if self.phase == Phase::Initial {
            self.quirks = quirks;
            self.phase = Phase::BeforeHead;
        }
    }

    fn chars(&mut self, t: &str) {
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
    fn start(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
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

    fn head_raw(&mut self, raw: Raw, name: &str) -> Next {
        self.raw_outside = true;
        tracked_index(name).map(|t| (raw, TRACKED[t]))
    }

    fn end(&mut self, name: &str) {
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
    fn raw_end(&mut self) {
        if std::mem::take(&mut self.raw_outside) {
            return;
        }
        self.pop();
    }

    fn raw_text(&mut self, t: &str) {
        if self.raw_outside {
            return;
        }
        self.chars_unchecked(t);
    }

    /// Text inside an element (raw text): no table or head logic applies.
    fn chars_unchecked(&mut self, t: &str) {
        let mut t = t;
        if std::mem::take(&mut self.ignore_lf) {
            t = t.strip_prefix('\n').unwrap_or(t);
        }
        self.r.text(t);
    }

    fn eof(&mut self) {
        while !self.stack.is_empty() {
            self.pop();
        }
        if self.phase == Phase::InHead {
            self.r.close("head");
        }
    }

    // --- body --------------------------------------------------------------------------------

    fn start_in_body_phase(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
        if self.in_foreign() {
            let breakout = matches!(
                name,
                "b" | "big"
                    | "blockquote"
                    | "body"
                    | "br"
                    | "center"
                    | "code"
                    | "dd"
                    | "div"
                    | "dl"
                    | "dt"
                    | "em"
                    | "embed"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "head"
                    | "hr"
                    | "i"
                    | "img"
                    | "li"
                    | "listing"
                    | "menu"
                    | "meta"
                    | "nobr"
                    | "ol"
                    | "p"
                    | "pre"
                    | "ruby"
                    | "s"
                    | "small"
                    | "span"
                    | "strong"
                    | "strike"
                    | "sub"
                    | "sup"
                    | "table"
                    | "tt"
                    | "u"
                    | "ul"
                    | "var"
            ) || (name == "font" && attrs.font_breakout);
            if breakout && self.integration == 0 {
                while self.in_foreign() {
                    self.pop();
                }
            } else {
                if !self_closing && self.foreign.len() < MAX_OPEN {
                    if self.integration > 0
                        || matches!(name, "foreignobject" | "desc" | "title")
                            && self.current_is("svg")
                    {
                        self.integration += 1;
                    }
                    let h = hash(name);
                    self.foreign.push(h);
                    *self.foreign_count.entry(h).or_insert(0) += 1;
                }
                if name == "meta" {
                    self.meta(attrs);
                }
                return None;
            }
        }
        match self.mode() {
            Mode::Body => self.start_in_body(name, self_closing, attrs),
            Mode::Cell => {
                if is_table_structure_start(name) {
                    if self.group_in_scope(CELL, TABLE_SCOPE) {
                        self.close_cell();
                        return self.start(name, self_closing, attrs);
                    }
                    return None;
                }
                self.start_in_body(name, self_closing, attrs)
            }
            Mode::Caption => {
                if is_table_structure_start(name) {
                    if self.in_scope("caption", TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("caption");
                        return self.start(name, self_closing, attrs);
                    }
                    return None;
                }
                self.start_in_body(name, self_closing, attrs)
            }
            Mode::ColGroup => match name {
                "html" => None,
                "col" => None,
                "template" => {
                    self.push("template");
                    None
                }
                _ => {
                    if self.current_is("colgroup") {
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
            },
            Mode::Row => match name {
                "th" | "td" => {
                    self.clear_to(&["tr", "template"]);
                    self.push(name);
                    None
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" | "tr" => {
                    if self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
                _ => self.start_in_table(name, self_closing, attrs),
            },
            Mode::TableBody => match name {
                "tr" => {
                    self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                    self.push("tr");
                    None
                }
                "th" | "td" => {
                    self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                    self.push("tr");
                    self.start(name, self_closing, attrs)
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" => {
                    if self.group_in_scope(TBODY, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
                _ => self.start_in_table(name, self_closing, attrs),
            },
            Mode::Table => self.start_in_table(name, self_closing, attrs),
            Mode::Select | Mode::SelectInTable => {
                if self.mode() == Mode::SelectInTable
                    && matches!(
                        name,
                        "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    )
                {
                    self.pop_until("select");
                    return self.start(name, self_closing, attrs);
                }
                self.start_in_select(name, self_closing, attrs)
            }
        }
    }

    fn start_in_select(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
        match name {
            "option" => {
                if self.current_is("option") {
                    self.pop();
                }
                self.push("option");
                None
            }
            "optgroup" => {
                if self.current_is("option") {
                    self.pop();
                }
                if self.current_is("optgroup") {
                    self.pop();
                }
                self.push("optgroup");
                None
            }
            "hr" => {
                if self.current_is("option") {
                    self.pop();
                }
                if self.current_is("optgroup") {
                    self.pop();
                }
                self.void("hr");
                None
            }
            "select" => {
                if self.in_scope("select", SELECT_SCOPE) {
                    self.pop_until("select");
                }
                None
            }
            "input" | "keygen" | "textarea" => {
                if self.in_scope("select", SELECT_SCOPE) {
                    self.pop_until("select");
                    return self.start(name, self_closing, attrs);
                }
                None
            }
            "script" => self.push_raw(Raw::Text, "script"),
            "template" => {
                self.push("template");
                None
            }
            "html" => None,
            _ => None,
        }
    }

    fn start_in_table(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
        match name {
            "caption" => {
                self.clear_to(&["table", "template"]);
                self.push("caption");
                None
            }
            "colgroup" => {
                self.clear_to(&["table", "template"]);
                self.push("colgroup");
                None
            }
            "col" => {
                self.clear_to(&["table", "template"]);
                self.push("colgroup");
                self.start(name, self_closing, attrs)
            }
            "tbody" | "tfoot" | "thead" => {
                self.clear_to(&["table", "template"]);
                self.push(name);
                None
            }
            "td" | "th" | "tr" => {
                self.clear_to(&["table", "template"]);
                self.push("tbody");
                self.start(name, self_closing, attrs)
            }
            "table" => {
                if self.in_scope("table", TABLE_SCOPE) {
                    self.pop_until("table");
                    return self.start(name, self_closing, attrs);
                }
                None
            }
            "style" => self.push_raw(Raw::Text, "style"),
            "script" => self.push_raw(Raw::Text, "script"),
            "template" => {
                self.push("template");
                None
            }
            "input" if attrs.hidden => None,
            "form" => {
                if self.form.is_none() && self.pos_of("template") == 0 {
                    self.push("form");
                    self.form = Some(self.stack.len() - 1);
                    self.form_serial = self.serial;
                    self.pop();
                }
                None
            }
            "br" | "img" | "image" | "input" | "wbr" | "area" | "embed" | "keygen"
                if self.in_table_text_context() =>
            {
                let name = if name == "image" { "img" } else { name };
                if let Some(t) = tracked_void(name) {
                    self.foster(|r| {
                        r.open(t);
                        r.close(t);
                    });
                }
                None
            }
            // Other foster-parented elements are rendered in place: blocks start new lines
            // anyway, inline elements have no events (their text is fostered above).
            _ => self.start_in_body(name, self_closing, attrs),
        }
    }

    fn start_in_body(&mut self, name: &str, self_closing: bool, attrs: &mut Attrs) -> Next {
        match name {
            "html" | "body" | "frameset" | "head" => None,
            "base" | "basefont" | "bgsound" | "link" => None,
            "meta" => {
                self.meta(attrs);
                None
            }
            "noframes" | "style" => self.push_raw(Raw::Text, name),
            "script" => self.push_raw(Raw::Text, "script"),
            "title" => self.push_raw(Raw::Rcdata, "title"),
            "template" => {
                self.push("template");
                None
            }
            "address" | "article" | "aside" | "blockquote" | "center" | "details" | "dialog"
            | "dir" | "div" | "dl" | "fieldset" | "figcaption" | "figure" | "footer" | "header"
            | "hgroup" | "main" | "nav" | "ol" | "p" | "search" | "section" | "summary" | "ul"
            | "menu" => {
                self.close_p_in_button_scope();
                self.push(name);
                None
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.close_p_in_button_scope();
                if matches!(
                    self.current(),
                    Some("h1" | "h2" | "h3" | "h4" | "h5" | "h6")
                ) {
                    self.pop();
                }
                self.push(name);
                None
            }
            "pre" | "listing" => {
                self.close_p_in_button_scope();
                self.push(name);
                self.ignore_lf = true;
                None
            }
            "form" => {
                let template = self.pos_of("template") != 0;
                if self.form.is_some() && !template {
                    return None;
                }
                self.close_p_in_button_scope();
                self.push("form");
                if !template {
                    self.form = Some(self.stack.len() - 1);
                    self.form_serial = self.serial;
                }
                None
            }
            "li" => {
                let li = self.pos_of("li");
                if li != 0 && li >= self.last[bit(LI_STOP)] {
                    self.generate_implied_end_tags("li");
                    self.pop_until("li");
                }
                self.close_p_in_button_scope();
                self.push("li");
                None
            }
            "dd" | "dt" => {
                let dd = self.pos_of("dd");
                let dt = self.pos_of("dt");
                let top = dd.max(dt);
                if top != 0 && top >= self.last[bit(LI_STOP)] {
                    let which = if dd > dt { "dd" } else { "dt" };
                    self.generate_implied_end_tags(which);
                    self.pop_until(which);
                }
                self.close_p_in_button_scope();
                self.push(name);
                None
            }
            "plaintext" => {
                self.close_p_in_button_scope();
                self.push("plaintext");
                Some((Raw::Plaintext, "plaintext"))
            }
            "button" => {
                if self.in_scope("button", DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until("button");
                }
                self.push("button");
                None
            }
            "applet" | "marquee" | "object" => {
                self.push(name);
                None
            }
            "table" => {
                if !self.quirks {
                    self.close_p_in_button_scope();
                }
                self.push("table");
                None
            }
            "area" | "br" | "embed" | "img" | "keygen" | "wbr" | "input" | "param" | "source"
            | "track" => {
                self.void(name);
                None
            }
            "image" => {
                self.void("img");
                None
            }
            "hr" => {
                self.close_p_in_button_scope();
                self.void("hr");
                None
            }
            "textarea" => {
                self.push("textarea");
                self.ignore_lf = true;
                Some((Raw::Rcdata, "textarea"))
            }
            "xmp" => {
                self.close_p_in_button_scope();
                self.push_raw(Raw::Text, "xmp")
            }
            "iframe" | "noembed" | "noscript" => self.push_raw(Raw::Text, name),
            "select" => {
                self.push("select");
                None
            }
            "optgroup" | "option" => {
                if self.current_is("option") {
                    self.pop();
                }
                self.push(name);
                None
            }
            "svg" | "math" => {
                self.push(name);
                if self_closing {
                    self.pop();
                }
                None
            }
            "caption" | "col" | "colgroup" | "frame" | "tbody" | "td" | "tfoot" | "th"
            | "thead" | "tr" => None,
            "legend" => {
                self.push("legend");
                None
            }
            _ => None,
        }
    }

    fn push_raw(&mut self, raw: Raw, name: &str) -> Next {
        let t = tracked_index(name)?;
        self.push(TRACKED[t]);
        // The tokenizer reads the content and pops the element at its end tag.
        Some((raw, TRACKED[t]))
    }

    fn close_cell(&mut self) {
        self.generate_implied_end_tags("");
        self.pop_until_group(CELL);
    }

    /// Pops until the current node is one of `names` (or the stack is empty).
    fn clear_to(&mut self, names: &[&str]) {
        while let Some(cur) = self.current() {
            if names.contains(&cur) {
                break;
            }
            self.pop();
        }
    }

    fn end_in_body_phase(&mut self, name: &str) {
        if self.in_foreign() {
            if name == "br" || name == "p" {
                while self.in_foreign() {
                    self.pop();
                }
            } else {
                let h = hash(name);
                let open = self.foreign_count.get(&h).is_some_and(|&n| n > 0);
                if open && let Some(k) = self.foreign.iter().rposition(|&x| x == h) {
                    for x in self.foreign.drain(k..) {
                        if let Some(n) = self.foreign_count.get_mut(&x) {
                            *n = n.saturating_sub(1);
                        }
                    }
                    self.integration = self.integration.min(self.foreign.len());
                    return;
                }
                if self.current_is(name) {
                    self.pop();
                    return;
                }
            }
        }
        match self.mode() {
            Mode::Body => self.end_in_body(name),
            Mode::Cell => match name {
                "td" | "th" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" => {}
                "table" | "tbody" | "tfoot" | "thead" | "tr" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.close_cell();
                        self.end(name);
                    }
                }
                _ => self.end_in_body(name),
            },
            Mode::Caption => match name {
                "caption" | "table" => {
                    if self.in_scope("caption", TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("caption");
                        if name == "table" {
                            self.end(name);
                        }
                    }
                }
                "body" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th"
                | "thead" | "tr" => {}
                _ => self.end_in_body(name),
            },
            Mode::ColGroup => match name {
                "colgroup" => {
                    if self.current_is("colgroup") {
                        self.pop();
                    }
                }
                "col" => {}
                "template" => self.end_in_body(name),
                _ => {
                    if self.current_is("colgroup") {
                        self.pop();
                        self.end(name);
                    }
                }
            },
            Mode::Row => match name {
                "tr" | "table" => {
                    if self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        if name == "table" {
                            self.end(name);
                        }
                    }
                }
                "tbody" | "tfoot" | "thead" => {
                    if self.in_scope(name, TABLE_SCOPE) && self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        self.end(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" => {}
                _ => self.end_in_table(name),
            },
            Mode::TableBody => match name {
                "tbody" | "tfoot" | "thead" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                    }
                }
                "table" => {
                    if self.group_in_scope(TBODY, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                        self.end(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" | "tr" => {}
                _ => self.end_in_table(name),
            },
            Mode::Table => self.end_in_table(name),
            Mode::Select | Mode::SelectInTable => {
                if self.mode() == Mode::SelectInTable
                    && matches!(
                        name,
                        "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    )
                {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.pop_until("select");
                        self.end(name);
                    }
                    return;
                }
                match name {
                    "optgroup" => {
                        let n = self.stack.len();
                        if self.current_is("option")
                            && n >= 2
                            && self.stack.get(n - 2).is_some_and(|e| e.name == "optgroup")
                        {
                            self.pop();
                        }
                        if self.current_is("optgroup") {
                            self.pop();
                        }
                    }
                    "option" if self.current_is("option") => self.pop(),
                    "select" if self.in_scope("select", SELECT_SCOPE) => self.pop_until("select"),
                    "template" => self.end_in_body(name),
                    _ => {}
                }
            }
        }
    }

    fn end_in_table(&mut self, name: &str) {
        match name {
            "table" => {
                if self.in_scope("table", TABLE_SCOPE) {
                    self.pop_until("table");
                }
            }
            "body" | "caption" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th"
            | "thead" | "tr" => {}
            _ => self.end_in_body(name),
        }
    }

    fn end_in_body(&mut self, name: &str) {
        match name {
            "template" => {
                if self.pos_of("template") != 0 {
                    self.generate_all_implied_end_tags();
                    self.pop_until("template");
                }
            }
            "body" | "html" => {}
            "address" | "article" | "aside" | "blockquote" | "button" | "center" | "details"
            | "dialog" | "dir" | "div" | "dl" | "fieldset" | "figcaption" | "figure" | "footer"
            | "header" | "hgroup" | "listing" | "main" | "menu" | "nav" | "ol" | "pre"
            | "search" | "section" | "summary" | "ul" | "applet" | "marquee" | "object" => {
                if self.in_scope(name, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until(name);
                }
            }
            "form" => {
                if self.pos_of("template") != 0 {
                    if self.in_scope("form", DEFAULT_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("form");
                    }
                    return;
                }
                let Some(idx) = self.form.take() else {
                    return;
                };
                // The pointer must still name an open element, in scope.
                let open = self.serials.get(idx) == Some(&self.form_serial)
                    && self
                        .stack
                        .get(idx)
                        .is_some_and(|e| e.name == "form" && !e.dead);
                let idx1 = u32::try_from(idx + 1).unwrap_or(u32::MAX);
                if !open || idx1 < self.boundary(DEFAULT_SCOPE) {
                    return;
                }
                self.generate_implied_end_tags("");
                if self.stack.len() == idx + 1 {
                    self.pop();
                } else if let Some(e) = self.stack.get_mut(idx) {
                    e.dead = true;
                }
            }
            "p" => {
                if !self.in_scope("p", BUTTON_SCOPE) {
                    self.push("p");
                }
                self.generate_implied_end_tags("p");
                self.pop_until("p");
            }
            "li" => {
                if self.in_scope("li", LIST_SCOPE) {
                    self.generate_implied_end_tags("li");
                    self.pop_until("li");
                }
            }
            "dd" | "dt" => {
                if self.in_scope(name, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags(name);
                    self.pop_until(name);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                if self.group_in_scope(HEADING, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until_group(HEADING);
                }
            }
            "br" => {
                self.void("br");
            }
            _ => {
                // Any other end tag: close the element if no special element is above it.
                let p = self.pos_of(name);
                if p != 0 && p >= self.last[bit(SPECIAL)] {
                    self.generate_implied_end_tags(name);
                    self.pop_until(name);
                }
            }
        }
    }
}

/// The static name of a void element rendered for foster-parented content.
fn tracked_void(name: &str) -> Option<&'static str> {
    Some(match name {
        "br" => "br",
        "img" => "img",
        "input" => "input",
        "wbr" => "wbr",
        "area" => "area",
        "embed" => "embed",
        "keygen" => "keygen",
        _ => return None,
    })
}

fn bit(flag: u16) -> usize {
    flag.trailing_zeros() as usize
}

fn is_table_structure_start(name: &str) -> bool {
    matches!(
        name,
        "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
    )
}

fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---------------------------------------------------------------------------------------------
// Tokenizer.
// ---------------------------------------------------------------------------------------------

fn run(html: &str, b: &mut Builder) {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let mut buf = String::new();
    let mut name_buf = String::new();
    let mut i = 0;
    while i < len {
        let lt = find_byte(bytes, i, b'<').unwrap_or(len);
        // Text only matters to the rendering (meta tags do not depend on it).
        if lt > i && b.r.on {
            emit_text(b, &html[i..lt], &mut buf);
        }
        if lt >= len {
            break;
        }
        i = lt;
        // `i` is at '<', an ASCII byte: every slice below starts and ends at ASCII bytes.
        let next = bytes.get(i + 1).copied();
        match next {
            Some(b'!') => {
                i = markup_declaration(html, i, b, &mut buf);
            }
            Some(b'/') => match bytes.get(i + 2).copied() {
                Some(c) if c.is_ascii_alphabetic() => {
                    let name_end = tag_name_end(bytes, i + 2);
                    lower_into(&html[i + 2..name_end], &mut name_buf);
                    match skip_attributes(html, name_end, None) {
                        Some((end, _)) => {
                            b.end(&name_buf);
                            i = end;
                        }
                        None => i = len,
                    }
                }
                Some(b'>') => i += 3,
                None => {
                    emit_text(b, "</", &mut buf);
                    i = len;
                }
                Some(_) => i = bogus_comment(bytes, i + 2),
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let name_end = tag_name_end(bytes, i + 1);
                lower_into(&html[i + 1..name_end], &mut name_buf);
                let want = match name_buf.as_str() {
                    "meta" => AttrWant::Meta,
                    "font" => AttrWant::Font,
                    "input" => AttrWant::Input,
                    _ => AttrWant::None,
                };
                let mut attrs = Attrs::default();
                let Some((end, self_closing)) =
                    skip_attributes(html, name_end, Some((want, &mut attrs)))
                else {
                    break;
                };
                i = end;
                if let Some((raw, name)) = b.start(&name_buf, self_closing, &mut attrs) {
                    i = raw_content(html, i, raw, name, b, &mut buf);
                }
            }
            Some(b'?') => i = bogus_comment(bytes, i + 1),
            _ => {
                emit_text(b, "<", &mut buf);
                i += 1;
            }
        }
    }
    b.eof();
}

/// Reads the content of a raw-text element starting at `from`, up to and including its end tag;
/// returns where scanning continues.
fn raw_content(
    html: &str,
    from: usize,
    raw: Raw,
    name: &str,
    b: &mut Builder,
    buf: &mut String,
) -> usize {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let end = if raw == Raw::Plaintext {
        len
    } else {
        find_end_tag(bytes, from, name.as_bytes()).unwrap_or(len)
    };
    let content = &html[from..end];
    if !content.is_empty() && b.r.on {
        if raw == Raw::Rcdata {
            buf.clear();
            decode(content, false, buf, true);
            let t = std::mem::take(buf);
            b.raw_text(&t);
            *buf = t;
        } else if content.contains(['\r', '\0']) {
            buf.clear();
            normalize_raw(content, buf);
            let t = std::mem::take(buf);
            b.raw_text(&t);
            *buf = t;
        } else {
            b.raw_text(content);
        }
    }
    if end >= len {
        return len;
    }
    // At "</name": skip the end tag (its attributes, if any) and close the element.
    let after = end + 2 + name.len();
    b.raw_end();
    match skip_attributes(html, after, None) {
        Some((e, _)) => e,
        None => len,
    }
}

/// The start of the first `</name` (case-insensitive) at or after `from` that is followed by
/// whitespace, `/` or `>`.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find_byte(bytes, i, b'<') {
        if bytes.get(p + 1) == Some(&b'/') {
            let s = p + 2;
            let e = s + name.len();
            if let Some(candidate) = bytes.get(s..e)
                && candidate.eq_ignore_ascii_case(name)
                && bytes
                    .get(e)
                    .is_some_and(|&c| is_ascii_ws_byte(c) || c == b'/' || c == b'>')
            {
                return Some(p);
            }
        }
        i = p + 1;
    }
    None
}

fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| from + p)
}

fn tag_name_end(bytes: &[u8], from: usize) -> usize {
    let mut j = from;
    while let Some(&c) = bytes.get(j) {
        if is_ascii_ws_byte(c) || c == b'/' || c == b'>' {
            break;
        }
        j += 1;
    }
    j
}

fn lower_into(name: &str, out: &mut String) {
    out.clear();
    if !name.bytes().any(|c| c.is_ascii_uppercase() || c == 0) {
        out.push_str(name);
        return;
    }
    for c in name.chars() {
        out.push(match c {
            '\0' => '\u{FFFD}',
            c => c.to_ascii_lowercase(),
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AttrWant {
    None,
    Meta,
    Font,
    Input,
}

/// Skips the attributes of a tag whose name ends at `from`; returns the byte after its `>` and
/// whether it was self-closing, or `None` if the input ends inside the tag (the tag is dropped).
/// Collects what `want` asks for.
fn skip_attributes(
    html: &str,
    from: usize,
    mut want: Option<(AttrWant, &mut Attrs)>,
) -> Option<(usize, bool)> {
    let bytes = html.as_bytes();
    let mut j = from;
    let mut seen_name = false;
    let mut seen_content = false;
    let mut seen_charset = false;
    let mut seen_http_equiv = false;
    let mut seen_type = false;
    loop {
        while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
            j += 1;
        }
        match bytes.get(j)? {
            b'>' => return Some((j + 1, false)),
            b'/' => {
                j += 1;
                if bytes.get(j) == Some(&b'>') {
                    return Some((j + 1, true));
                }
                continue;
            }
            _ => {}
        }
        // Attribute name: the first character may be anything (even '=').
        let ns = j;
        j += 1;
        while let Some(&c) = bytes.get(j) {
            if is_ascii_ws_byte(c) || matches!(c, b'/' | b'>' | b'=') {
                break;
            }
            j += 1;
        }
        // `ns` is an ASCII-or-lead byte position; advance `j` to a char boundary.
        while !html.is_char_boundary(j) {
            j += 1;
        }
        let name = &html[ns..j];
        while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
            j += 1;
        }
        let mut value: Option<&str> = None;
        if bytes.get(j) == Some(&b'=') {
            j += 1;
            while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
                j += 1;
            }
            match *bytes.get(j)? {
                q @ (b'"' | b'\'') => {
                    let close = find_byte(bytes, j + 1, q)?;
                    value = Some(&html[j + 1..close]);
                    j = close + 1;
                }
                b'>' => value = Some(""),
                _ => {
                    let vs = j;
                    while let Some(&c) = bytes.get(j) {
                        if is_ascii_ws_byte(c) || c == b'>' {
                            break;
                        }
                        j += 1;
                    }
                    value = Some(&html[vs..j]);
                }
            }
        }
        if let Some((kind, attrs)) = want.as_mut() {
            let value = value.unwrap_or("");
            match kind {
                AttrWant::Meta => {
                    if name.eq_ignore_ascii_case("name") {
                        if !std::mem::replace(&mut seen_name, true) {
                            attrs.name = Some(decoded_attr(value));
                        }
                    } else if name.eq_ignore_ascii_case("content")
                        && !std::mem::replace(&mut seen_content, true)
                    {
                        attrs.content = Some(decoded_attr(value));
                    } else if name.eq_ignore_ascii_case("charset")
                        && !std::mem::replace(&mut seen_charset, true)
                    {
                        attrs.charset = Some(decoded_attr(value));
                    } else if name.eq_ignore_ascii_case("http-equiv")
                        && !std::mem::replace(&mut seen_http_equiv, true)
                    {
                        attrs.http_equiv = Some(decoded_attr(value));
                    }
                }
                AttrWant::Font => {
                    if ["color", "face", "size"]
                        .iter()
                        .any(|a| name.eq_ignore_ascii_case(a))
                    {
                        attrs.font_breakout = true;
                    }
                }
                AttrWant::Input => {
                    if name.eq_ignore_ascii_case("type") && !std::mem::replace(&mut seen_type, true)
                    {
                        attrs.hidden = decoded_attr(value).eq_ignore_ascii_case("hidden");
                    }
                }
                AttrWant::None => {}
            }
        }
    }
}

fn decoded_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    decode(value, true, &mut out, true);
    out
}

/// Handles a comment, doctype, CDATA section or bogus comment at `i` (`<!`); returns where
/// scanning continues.
fn markup_declaration(html: &str, i: usize, b: &mut Builder, buf: &mut String) -> usize {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let rest = &bytes[i + 2..];
    b.ignore_lf = false;
    if rest.starts_with(b"--") {
        let mut j = i + 4;
        if bytes.get(j) == Some(&b'>') {
            return j + 1;
        }
        if bytes.get(j..j + 2) == Some(b"->") {
            return j + 2;
        }
        while let Some(k) = find_byte(bytes, j, b'-') {
            if bytes.get(k + 1) == Some(&b'-') {
                match bytes.get(k + 2) {
                    Some(b'>') => return k + 3,
                    Some(b'!') if bytes.get(k + 3) == Some(&b'>') => return k + 4,
                    _ => {}
                }
            }
            j = k + 1;
        }
        return len;
    }
    if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
        let end = find_byte(bytes, i + 9, b'>');
        let body = &html[i + 9..end.unwrap_or(len)];
        b.doctype(end.is_none() || doctype_quirks(body));
        return end.map_or(len, |e| e + 1);
    }
    if rest.starts_with(b"[CDATA[") && b.in_foreign() {
        let start = i + 9;
        let end = find_sub(bytes, start, b"]]>");
        let text = &html[start..end.unwrap_or(len)];
        if text.contains(['\r', '\0']) {
            buf.clear();
            normalize_raw(text, buf);
            let t = std::mem::take(buf);
            b.chars(&t);
            *buf = t;
        } else {
            b.chars(text);
        }
        return end.map_or(len, |e| e + 3);
    }
    bogus_comment(bytes, i + 2)
}

fn find_sub(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find_byte(bytes, i, needle[0]) {
        if bytes.get(p..p + needle.len()) == Some(needle) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

fn bogus_comment(bytes: &[u8], from: usize) -> usize {
    find_byte(bytes, from, b'>').map_or(bytes.len(), |e| e + 1)
}

/// Whether a doctype (the text after `<!DOCTYPE`, without `>`) puts the document in quirks mode.
fn doctype_quirks(body: &str) -> bool {
    let s = body.trim_start_matches(is_ascii_ws);
    let name_end = s.find(is_ascii_ws).unwrap_or(s.len());
    let name = &s[..name_end];
    if !name.eq_ignore_ascii_case("html") {
        return true;
    }
    let rest = s[name_end..].trim_start_matches(is_ascii_ws);
    if rest.is_empty() {
        return false;
    }
    let (public, system) = if rest.len() >= 6
        && rest.is_char_boundary(6)
        && rest[..6].eq_ignore_ascii_case("public")
    {
        let Some((public, after)) = quoted(&rest[6..]) else {
            return true;
        };
        let after = after.trim_start_matches(is_ascii_ws);
        if after.is_empty() {
            (Some(public), None)
        } else {
            match quoted(after) {
                Some((system, tail)) if tail.trim_matches(is_ascii_ws).is_empty() => {
                    (Some(public), Some(system))
                }
                _ => return true,
            }
        }
    } else if rest.len() >= 6
        && rest.is_char_boundary(6)
        && rest[..6].eq_ignore_ascii_case("system")
    {
        match quoted(&rest[6..]) {
            Some((system, tail)) if tail.trim_matches(is_ascii_ws).is_empty() => {
                (None, Some(system))
            }
            _ => return true,
        }
    } else {
        return true;
    };
    let public = public.map(str::to_ascii_lowercase);
    let system = system.map(str::to_ascii_lowercase);
    if let Some(p) = public.as_deref() {
        if QUIRKY_PUBLIC_MATCHES.contains(&p)
            || QUIRKY_PUBLIC_PREFIXES.iter().any(|x| p.starts_with(x))
        {
            return true;
        }
        if system.is_none() && HTML4_PUBLIC_PREFIXES.iter().any(|x| p.starts_with(x)) {
            return true;
        }
    }
    if system.as_deref() == Some("http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd") {
        return true;
    }
    false
}

/// A quoted identifier at the start of `s` (after optional whitespace): its text and the rest.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_ascii_ws);
    let q = s.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some((&body[..end], &body[end + 1..]))
}

static QUIRKY_PUBLIC_PREFIXES: &[&str] = &[
    "-//advasoft ltd//dtd html 3.0 aswedit + extensions//",
    "-//as//dtd html 3.0 aswedit + extensions//",
    "-//ietf//dtd html 2.0 level 1//",
    "-//ietf//dtd html 2.0 level 2//",
    "-//ietf//dtd html 2.0 strict level 1//",
    "-//ietf//dtd html 2.0 strict level 2//",
    "-//ietf//dtd html 2.0 strict//",
    "-//ietf//dtd html 2.0//",
    "-//ietf//dtd html 2.1e//",
    "-//ietf//dtd html 3.0//",
    "-//ietf//dtd html 3.2 final//",
    "-//ietf//dtd html 3.2//",
    "-//ietf//dtd html 3//",
    "-//ietf//dtd html level 0//",
    "-//ietf//dtd html level 1//",
    "-//ietf//dtd html level 2//",
    "-//ietf//dtd html level 3//",
    "-//ietf//dtd html strict level 0//",
    "-//ietf//dtd html strict level 1//",
    "-//ietf//dtd html strict level 2//",
    "-//ietf//dtd html strict level 3//",
    "-//ietf//dtd html strict//",
    "-//ietf//dtd html//",
    "-//metrius//dtd metrius presentational//",
    "-//microsoft//dtd internet explorer 2.0 html strict//",
    "-//microsoft//dtd internet explorer 2.0 html//",
    "-//microsoft//dtd internet explorer 2.0 tables//",
    "-//microsoft//dtd internet explorer 3.0 html strict//",
    "-//microsoft//dtd internet explorer 3.0 html//",
    "-//microsoft//dtd internet explorer 3.0 tables//",
    "-//netscape comm. corp.//dtd html//",
    "-//netscape comm. corp.//dtd strict html//",
    "-//o'reilly and associates//dtd html 2.0//",
    "-//o'reilly and associates//dtd html extended 1.0//",
    "-//o'reilly and associates//dtd html extended relaxed 1.0//",
    "-//softquad software//dtd hotmetal pro 6.0::19990601::extensions to html 4.0//",
    "-//softquad//dtd hotmetal pro 4.0::19971010::extensions to html 4.0//",
    "-//spyglass//dtd html 2.0 extended//",
    "-//sq//dtd html 2.0 hotmetal + extensions//",
    "-//sun microsystems corp.//dtd hotjava html//",
    "-//sun microsystems corp.//dtd hotjava strict html//",
    "-//w3c//dtd html 3 1995-03-24//",
    "-//w3c//dtd html 3.2 draft//",
    "-//w3c//dtd html 3.2 final//",
    "-//w3c//dtd html 3.2//",
    "-//w3c//dtd html 3.2s draft//",
    "-//w3c//dtd html 4.0 frameset//",
    "-//w3c//dtd html 4.0 transitional//",
    "-//w3c//dtd html experimental 19960712//",
    "-//w3c//dtd html experimental 970421//",
    "-//w3c//dtd w3 html//",
    "-//w3o//dtd w3 html 3.0//",
    "-//webtechs//dtd mozilla html 2.0//",
    "-//webtechs//dtd mozilla html//",
];

static QUIRKY_PUBLIC_MATCHES: &[&str] = &[
    "-//w3o//dtd w3 html strict 3.0//en//",
    "-/w3c/dtd html 4.0 transitional/en",
    "html",
];

static HTML4_PUBLIC_PREFIXES: &[&str] = &[
    "-//w3c//dtd html 4.01 frameset//",
    "-//w3c//dtd html 4.01 transitional//",
];

/// Decodes a run of character data and hands it to the builder.
fn emit_text(b: &mut Builder, raw: &str, buf: &mut String) {
    if raw.contains(['&', '\r', '\0']) {
        buf.clear();
        decode(raw, false, buf, false);
        let t = std::mem::take(buf);
        b.chars(&t);
        *buf = t;
    } else {
        b.chars(raw);
    }
}

/// Normalises newlines and replaces NUL in raw text.
fn normalize_raw(s: &str, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Decodes character references in `s` into `out`, normalising newlines (CR LF and CR become LF).
/// In attribute values (`attr`) a legacy reference without `;` followed by `=` or an alphanumeric
/// is kept literally. NUL is dropped in text and replaced by U+FFFD elsewhere (`nul_replace`).
fn decode(s: &str, attr: bool, out: &mut String, nul_replace: bool) {
    let bytes = s.as_bytes();
    let len = bytes.len();
    let mut i = 0;
    let mut last = 0;
    while i < len {
        match bytes[i] {
            b'\r' => {
                out.push_str(&s[last..i]);
                if bytes.get(i + 1) != Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
                last = i;
            }
            0 => {
                out.push_str(&s[last..i]);
                if nul_replace {
                    out.push('\u{FFFD}');
                }
                i += 1;
                last = i;
            }
            b'&' => {
                out.push_str(&s[last..i]);
                let (consumed, decoded) = char_ref(&bytes[i + 1..], attr);
                match decoded {
                    Some(Decoded::One(c)) => out.push(c),
                    None => out.push('&'),
                }
                i += 1 + consumed;
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[last..]);
}

enum Decoded {
    One(char),
}

/// Parses a character reference after `&`; returns the bytes consumed (all ASCII) and what they
/// decode to (`None`: the `&` is literal and nothing is consumed).
fn char_ref(rest: &[u8], attr: bool) -> (usize, Option<Decoded>) {
    match rest.first() {
        Some(b'#') => {
            let (hex, start) = match rest.get(1) {
                Some(b'x' | b'X') => (true, 2),
                _ => (false, 1),
            };
            let mut j = start;
            let mut value: u32 = 0;
            let mut too_big = false;
            while let Some(&c) = rest.get(j) {
                let d = match (hex, c) {
                    (_, b'0'..=b'9') => u32::from(c - b'0'),
                    (true, b'a'..=b'f') => u32::from(c - b'a' + 10),
                    (true, b'A'..=b'F') => u32::from(c - b'A' + 10),
                    _ => break,
                };
                value = value
                    .saturating_mul(if hex { 16 } else { 10 })
                    .saturating_add(d);
                if value > 0x10FFFF {
                    too_big = true;
                }
                j += 1;
            }
            if j == start {
                return (0, None);
            }
            if rest.get(j) == Some(&b';') {
                j += 1;
            }
            (j, Some(Decoded::One(numeric(value, too_big))))
        }
        Some(c) if c.is_ascii_alphanumeric() => {
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            // Names are ASCII, so this slice is valid UTF-8.
            let name = std::str::from_utf8(&rest[..n]).unwrap_or("");
            if rest.get(n) == Some(&b';')
                && let Some(d) = named(name)
            {
                return (n + 1, Some(d));
            }
            // Longest legacy name (no semicolon needed) that prefixes the run.
            for l in (2..=n.min(6)).rev() {
                let prefix = &name[..l];
                if let Some(d) = legacy(prefix) {
                    let next = rest.get(l).copied();
                    if attr && next.is_some_and(|c| c == b'=' || c.is_ascii_alphanumeric()) {
                        return (0, None);
                    }
                    return (l, Some(d));
                }
            }
            (0, None)
        }
        _ => (0, None),
    }
}

fn numeric(n: u32, too_big: bool) -> char {
    if too_big || n == 0 || n > 0x10FFFF || (0xD800..=0xDFFF).contains(&n) {
        return '\u{FFFD}';
    }
    if (0x80..=0x9F).contains(&n)
        && let Some(c) = C1_REPLACEMENTS[(n - 0x80) as usize]
    {
        return c;
    }
    char::from_u32(n).unwrap_or('\u{FFFD}')
}

/// Windows-1252 meanings of numeric references to C1 controls (HTML standard).
const C1_REPLACEMENTS: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// Latin-1 entity names for U+00A0..=U+00FF, in code point order (HTML 4, all legacy: they are
/// recognised without a semicolon too).
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// A legacy entity name, recognised without a trailing semicolon.
fn legacy(name: &str) -> Option<Decoded> {
    let c = match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "COPY" => '\u{A9}',
        "REG" => '\u{AE}',
        _ => return latin1(name).map(Decoded::One),
    };
    Some(Decoded::One(c))
}

fn latin1(name: &str) -> Option<char> {
    let k = LATIN1.iter().position(|&n| n == name)?;
    char::from_u32(0xA0 + u32::try_from(k).ok()?)
}

/// A named character reference (the name without `&` and `;`): HTML 4 and common HTML 5 names.
fn named(name: &str) -> Option<Decoded> {
    if let Some(d) = legacy(name) {
        return Some(d);
    }
    let c: u32 = match name {
        "apos" => 0x27,
        "OElig" => 0x152,
        "oelig" => 0x153,
        "Scaron" => 0x160,
        "scaron" => 0x161,
        "Yuml" => 0x178,
        "fnof" => 0x192,
        "circ" => 0x2C6,
        "tilde" => 0x2DC,
        "Alpha" => 0x391,
        "Beta" => 0x392,
        "Gamma" => 0x393,
        "Delta" => 0x394,
        "Epsilon" => 0x395,
        "Zeta" => 0x396,
        "Eta" => 0x397,
        "Theta" => 0x398,
        "Iota" => 0x399,
        "Kappa" => 0x39A,
        "Lambda" => 0x39B,
        "Mu" => 0x39C,
        "Nu" => 0x39D,
        "Xi" => 0x39E,
        "Omicron" => 0x39F,
        "Pi" => 0x3A0,
        "Rho" => 0x3A1,
        "Sigma" => 0x3A3,
        "Tau" => 0x3A4,
        "Upsilon" => 0x3A5,
        "Phi" => 0x3A6,
        "Chi" => 0x3A7,
        "Psi" => 0x3A8,
        "Omega" => 0x3A9,
        "alpha" => 0x3B1,
        "beta" => 0x3B2,
        "gamma" => 0x3B3,
        "delta" => 0x3B4,
        "epsilon" => 0x3B5,
        "zeta" => 0x3B6,
        "eta" => 0x3B7,
        "theta" => 0x3B8,
        "iota" => 0x3B9,
        "kappa" => 0x3BA,
        "lambda" => 0x3BB,
        "mu" => 0x3BC,
        "nu" => 0x3BD,
        "xi" => 0x3BE,
        "omicron" => 0x3BF,
        "pi" => 0x3C0,
        "rho" => 0x3C1,
        "sigmaf" => 0x3C2,
        "sigma" => 0x3C3,
        "tau" => 0x3C4,
        "upsilon" => 0x3C5,
        "phi" => 0x3C6,
        "chi" => 0x3C7,
        "psi" => 0x3C8,
        "omega" => 0x3C9,
        "thetasym" => 0x3D1,
        "upsih" => 0x3D2,
        "piv" => 0x3D6,
        "ensp" => 0x2002,
        "emsp" => 0x2003,
        "thinsp" => 0x2009,
        "zwnj" => 0x200C,
        "zwj" => 0x200D,
        "lrm" => 0x200E,
        "rlm" => 0x200F,
        "ndash" => 0x2013,
        "mdash" => 0x2014,
        "lsquo" => 0x2018,
        "rsquo" | "rsquor" => 0x2019,
        "sbquo" | "lsquor" => 0x201A,
        "ldquo" => 0x201C,
        "rdquo" | "rdquor" => 0x201D,
        "bdquo" | "ldquor" => 0x201E,
        "dagger" => 0x2020,
        "Dagger" | "ddagger" => 0x2021,
        "bull" | "bullet" => 0x2022,
        "hellip" | "mldr" => 0x2026,
        "permil" => 0x2030,
        "prime" => 0x2032,
        "Prime" => 0x2033,
        "lsaquo" => 0x2039,
        "rsaquo" => 0x203A,
        "oline" => 0x203E,
        "frasl" => 0x2044,
        "euro" => 0x20AC,
        "image" => 0x2111,
        "weierp" => 0x2118,
        "real" => 0x211C,
        "trade" | "TRADE" => 0x2122,
        "alefsym" => 0x2135,
        "larr" => 0x2190,
        "uarr" => 0x2191,
        "rarr" => 0x2192,
        "darr" => 0x2193,
        "harr" => 0x2194,
        "crarr" => 0x21B5,
        "lArr" => 0x21D0,
        "uArr" => 0x21D1,
        "rArr" => 0x21D2,
        "dArr" => 0x21D3,
        "hArr" => 0x21D4,
        "forall" => 0x2200,
        "part" => 0x2202,
        "exist" => 0x2203,
        "empty" => 0x2205,
        "nabla" => 0x2207,
        "isin" => 0x2208,
        "notin" => 0x2209,
        "ni" => 0x220B,
        "prod" => 0x220F,
        "sum" => 0x2211,
        "minus" => 0x2212,
        "lowast" => 0x2217,
        "radic" => 0x221A,
        "prop" => 0x221D,
        "infin" => 0x221E,
        "ang" => 0x2220,
        "and" => 0x2227,
        "or" => 0x2228,
        "cap" => 0x2229,
        "cup" => 0x222A,
        "int" => 0x222B,
        "there4" => 0x2234,
        "sim" => 0x223C,
        "cong" => 0x2245,
        "asymp" => 0x2248,
        "ne" => 0x2260,
        "equiv" => 0x2261,
        "le" => 0x2264,
        "ge" => 0x2265,
        "sub" => 0x2282,
        "sup" => 0x2283,
        "nsub" => 0x2284,
        "sube" => 0x2286,
        "supe" => 0x2287,
        "oplus" => 0x2295,
        "otimes" => 0x2297,
        "perp" => 0x22A5,
        "sdot" => 0x22C5,
        "lceil" => 0x2308,
        "rceil" => 0x2309,
        "lfloor" => 0x230A,
        "rfloor" => 0x230B,
        "lang" => 0x27E8,
        "rang" => 0x27E9,
        "loz" => 0x25CA,
        "spades" => 0x2660,
        "clubs" => 0x2663,
        "hearts" => 0x2665,
        "diams" => 0x2666,
        // Common HTML 5 additions.
        "Tab" => 0x09,
        "NewLine" => 0x0A,
        "excl" => 0x21,
        "num" => 0x23,
        "dollar" => 0x24,
        "percnt" => 0x25,
        "lpar" => 0x28,
        "rpar" => 0x29,
        "ast" | "midast" => 0x2A,
        "plus" => 0x2B,
        "comma" => 0x2C,
        "period" => 0x2E,
        "sol" => 0x2F,
        "colon" => 0x3A,
        "semi" => 0x3B,
        "equals" => 0x3D,
        "quest" => 0x3F,
        "commat" => 0x40,
        "lsqb" | "lbrack" => 0x5B,
        "bsol" => 0x5C,
        "rsqb" | "rbrack" => 0x5D,
        "Hat" => 0x5E,
        "lowbar" | "UnderBar" => 0x5F,
        "grave" | "DiacriticalGrave" => 0x60,
        "lcub" | "lbrace" => 0x7B,
        "verbar" | "vert" | "VerticalLine" => 0x7C,
        "rcub" | "rbrace" => 0x7D,
        "NonBreakingSpace" => 0xA0,
        "half" => 0xBD,
        "centerdot" | "CenterDot" => 0xB7,
        "die" | "Dot" | "DoubleDot" => 0xA8,
        "circledR" => 0xAE,
        "pm" | "PlusMinus" => 0xB1,
        "div" => 0xF7,
        "numsp" => 0x2007,
        "puncsp" => 0x2008,
        "hairsp" | "VeryThinSpace" => 0x200A,
        "ZeroWidthSpace"
        | "NegativeVeryThinSpace"
        | "NegativeThinSpace"
        | "NegativeMediumSpace"
        | "NegativeThickSpace" => 0x200B,
        "MediumSpace" => 0x205F,
        "ThinSpace" => 0x2009,
        "emsp13" => 0x2004,
        "emsp14" => 0x2005,
        "NoBreak" => 0x2060,
        "hyphen" | "dash" => 0x2010,
        "horbar" => 0x2015,
        "Vert" | "Verbar" => 0x2016,
        "nldr" => 0x2025,
        "tprime" => 0x2034,
        "bprime" | "backprime" => 0x2035,
        "caret" => 0x2041,
        "hybull" => 0x2043,
        "incare" => 0x2105,
        "numero" => 0x2116,
        "copysr" => 0x2117,
        "check" | "checkmark" => 0x2713,
        "cross" => 0x2717,
        "star" => 0x2606,
        "starf" | "bigstar" => 0x2605,
        "phone" => 0x260E,
        "female" => 0x2640,
        "male" => 0x2642,
        "sung" => 0x266A,
        "flat" => 0x266D,
        "natural" => 0x266E,
        "sharp" => 0x266F,
        "squ" | "square" | "Square" => 0x25A1,
        "squf" | "squarf" | "blacksquare" => 0x25AA,
        "rect" => 0x25AD,
        "utri" => 0x25B5,
        "utrif" => 0x25B4,
        "rtri" => 0x25B9,
        "rtrif" => 0x25B8,
        "dtri" => 0x25BF,
        "dtrif" => 0x25BE,
        "ltri" => 0x25C3,
        "ltrif" => 0x25C2,
        "cir" => 0x25CB,
        "rightarrow" | "RightArrow" | "srarr" => 0x2192,
        "leftarrow" | "LeftArrow" | "slarr" => 0x2190,
        "uparrow" | "UpArrow" => 0x2191,
        "downarrow" | "DownArrow" => 0x2193,
        "Rightarrow" | "Implies" | "DoubleRightArrow" => 0x21D2,
        "Leftarrow" | "DoubleLeftArrow" => 0x21D0,
        "lozenge" => 0x25CA,
        "spadesuit" => 0x2660,
        "clubsuit" => 0x2663,
        "heartsuit" => 0x2665,
        "diamondsuit" => 0x2666,
        "inodot" | "imath" => 0x131,
        "Amacr" => 0x100,
        "amacr" => 0x101,
        "Abreve" => 0x102,
        "abreve" => 0x103,
        "Aogon" => 0x104,
        "aogon" => 0x105,
        "Cacute" => 0x106,
        "cacute" => 0x107,
        "Ccaron" => 0x10C,
        "ccaron" => 0x10D,
        "Dcaron" => 0x10E,
        "dcaron" => 0x10F,
        "Dstrok" => 0x110,
        "dstrok" => 0x111,
        "Emacr" => 0x112,
        "emacr" => 0x113,
        "Eogon" => 0x118,
        "eogon" => 0x119,
        "Ecaron" => 0x11A,
        "ecaron" => 0x11B,
        "Gbreve" => 0x11E,
        "gbreve" => 0x11F,
        "Idot" => 0x130,
        "Lstrok" => 0x141,
        "lstrok" => 0x142,
        "Nacute" => 0x143,
        "nacute" => 0x144,
        "Ncaron" => 0x147,
        "ncaron" => 0x148,
        "Odblac" => 0x150,
        "odblac" => 0x151,
        "Rcaron" => 0x158,
        "rcaron" => 0x159,
        "Sacute" => 0x15A,
        "sacute" => 0x15B,
        "Scedil" => 0x15E,
        "scedil" => 0x15F,
        "Tcaron" => 0x164,
        "tcaron" => 0x165,
        "Uring" => 0x16E,
        "uring" => 0x16F,
        "Udblac" => 0x170,
        "udblac" => 0x171,
        "Zacute" => 0x179,
        "zacute" => 0x17A,
        "Zdot" => 0x17B,
        "zdot" => 0x17C,
        "Zcaron" => 0x17D,
        "zcaron" => 0x17E,
        _ => return None,
    };
    char::from_u32(c).map(Decoded::One)
}

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
