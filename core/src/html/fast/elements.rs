//! Element classification for the tree emulation: which elements it tracks on its stack of
//! open elements, and each one's scope boundaries, categories and groups as bit flags.

/// Elements the tree emulation keeps on its stack of open elements. Inline and unknown elements
/// are not tracked: they produce no event of the text view and cannot close a tracked element.
pub(super) const TRACKED: &[&str] = &[
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

pub(super) const NT: usize = TRACKED.len();

// Bits of an element's classification: scope boundaries, categories and groups.
pub(super) const DEFAULT_SCOPE: u16 = 1 << 0;
pub(super) const BUTTON_SCOPE: u16 = 1 << 1;
pub(super) const LIST_SCOPE: u16 = 1 << 2;
pub(super) const TABLE_SCOPE: u16 = 1 << 3;
pub(super) const SELECT_SCOPE: u16 = 1 << 4;
pub(super) const SPECIAL: u16 = 1 << 5;
/// Special elements other than address, div and p: they stop the `<li>`/`<dd>` search.
pub(super) const LI_STOP: u16 = 1 << 6;
/// Elements that decide the insertion mode.
pub(super) const MODE: u16 = 1 << 7;
pub(super) const HEADING: u16 = 1 << 8;
pub(super) const CELL: u16 = 1 << 9;
pub(super) const TBODY: u16 = 1 << 10;
pub(super) const NK: usize = 11;

pub(super) fn classify(name: &str) -> u16 {
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
pub(super) fn classification() -> &'static [u16; NT] {
    pub(super) static TABLE: std::sync::OnceLock<[u16; NT]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|t| classify(TRACKED[t])))
}

pub(super) fn tracked_index(name: &str) -> Option<usize> {
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

/// The static name of a void element rendered for foster-parented content.
pub(super) fn tracked_void(name: &str) -> Option<&'static str> {
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

pub(super) fn bit(flag: u16) -> usize {
    flag.trailing_zeros() as usize
}

pub(super) fn is_table_structure_start(name: &str) -> bool {
    matches!(
        name,
        "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
    )
}

pub(super) fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}
