//! CSS selection on an email's HTML, shared by the DSL (`css("td.name").text`) and the plugin
//! host: a thread-safe cache of parsed selectors, element text and attributes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use ego_tree::iter::Edge;
use parking_lot::Mutex;
use scraper::{ElementRef, Html, Selector};
use thiserror::Error;

use crate::budget::{Budget, CappedString, Exceeded};

/// Longest selector accepted, in bytes.
pub(crate) const MAX_SELECTOR_LEN: usize = 1024;
/// Selectors kept by a [`SelectorCache`] before it starts over.
pub(crate) const SELECTOR_CACHE_CAPACITY: usize = 1024;

/// Why a selector could not be used. The message names the selector (configuration), never
/// document content.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub(crate) enum CssError {
    /// The selector does not parse.
    #[error("invalid CSS selector `{selector}`: {reason}")]
    Syntax {
        /// The selector as written.
        selector: String,
        /// The parser's explanation.
        reason: String,
    },
    /// The selector is longer than [`MAX_SELECTOR_LEN`].
    #[error("CSS selector is longer than {MAX_SELECTOR_LEN} bytes")]
    TooLong,
    /// The run's budget was spent during the selection.
    #[error(transparent)]
    Budget(#[from] Exceeded),
}

/// Parses `selector`, without caching. Use it to check selectors at load time.
pub(crate) fn parse_selector(selector: &str) -> Result<Selector, CssError> {
    if selector.len() > MAX_SELECTOR_LEN {
        return Err(CssError::TooLong);
    }
    Selector::parse(selector).map_err(|e| CssError::Syntax {
        selector: selector.to_owned(),
        reason: e.to_string(),
    })
}

/// A thread-safe cache of parsed selectors keyed by their text. Cloning shares the cache.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectorCache {
    inner: Arc<Mutex<HashMap<String, Arc<Selector>>>>,
}

impl SelectorCache {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        SelectorCache::default()
    }

    /// The parsed selector, parsing and caching it on first use.
    pub(crate) fn get(&self, selector: &str) -> Result<Arc<Selector>, CssError> {
        if let Some(s) = self.inner.lock().get(selector) {
            return Ok(Arc::clone(s));
        }
        let parsed = Arc::new(parse_selector(selector)?);
        let mut map = self.inner.lock();
        if map.len() >= SELECTOR_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(selector.to_owned(), Arc::clone(&parsed));
        Ok(parsed)
    }

    /// Every element of `doc` matching `selector`, in document order.
    pub(crate) fn select<'d>(
        &self,
        doc: &'d Html,
        selector: &str,
    ) -> Result<Vec<ElementRef<'d>>, CssError> {
        let sel = self.get(selector)?;
        Ok(select_within(doc, &sel, usize::MAX, &Budget::unlimited())?)
    }

    /// The first element of `doc` matching `selector`.
    #[cfg(test)]
    pub(crate) fn select_first<'d>(
        &self,
        doc: &'d Html,
        selector: &str,
    ) -> Result<Option<ElementRef<'d>>, CssError> {
        let sel = self.get(selector)?;
        Ok(select_within(doc, &sel, 1, &Budget::unlimited())?
            .into_iter()
            .next())
    }

    /// Number of cached selectors.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().len()
    }
}

static GLOBAL: LazyLock<SelectorCache> = LazyLock::new(SelectorCache::new);

/// The process-wide selector cache used by [`select`] (and the plugins' `html` functions).
#[cfg_attr(
    not(feature = "plugins"),
    expect(
        dead_code,
        reason = "the plugin host's; the DSL caches selectors at compile time"
    )
)]
pub(crate) fn global_cache() -> &'static SelectorCache {
    &GLOBAL
}

/// Every element of `doc` matching `selector`, in document order, using the process-wide cache.
pub(crate) fn select<'d>(doc: &'d Html, selector: &str) -> Result<Vec<ElementRef<'d>>, CssError> {
    GLOBAL.select(doc, selector)
}

/// Bytes of element text gathered before they are charged.
const TEXT_PIECE: usize = 4096;

/// Work units charged per element a selector is matched against (matching walks ancestors and
/// siblings, so it costs more than one byte of a scan).
const MATCH_UNITS: u64 = 16;

/// Every element of `doc` matching `selector`, in document order, at most `max` of them; each
/// element tried counts as work, and the result list as scratch memory.
pub(crate) fn select_within<'d>(
    doc: &'d Html,
    selector: &Selector,
    max: usize,
    budget: &Budget,
) -> Result<Vec<ElementRef<'d>>, Exceeded> {
    let mut found = Vec::new();
    if max == 0 {
        return Ok(found);
    }
    for node in doc.tree.nodes() {
        budget.work(MATCH_UNITS)?;
        let Some(element) = ElementRef::wrap(node) else {
            continue;
        };
        if element.parent().is_some() && selector.matches(&element) {
            budget.charge(std::mem::size_of::<ElementRef<'_>>() as u64)?;
            found.push(element);
            if found.len() >= max {
                break;
            }
        }
    }
    Ok(found)
}

/// The element's text content on one line: whitespace runs (including no-break spaces)
/// collapsed to one space, zero-width characters removed, and trimmed. `<br>`, block elements
/// and table cells separate words (`party.<br>Thank you` reads `party. Thank you`), as they
/// start a new line in the text view. `<script>` and `<style>` content is skipped.
pub(crate) fn text(element: &ElementRef<'_>) -> String {
    text_within(element, usize::MAX, &Budget::unlimited()).unwrap_or_default()
}

/// [`text`] under a budget: at most `max_len` bytes (cut on a character boundary; the rest of
/// the element is not read), each byte charged as scratch memory and each node visited as work.
pub(crate) fn text_within(
    element: &ElementRef<'_>,
    max_len: usize,
    budget: &Budget,
) -> Result<String, Exceeded> {
    let mut out = CappedString::new(budget, max_len);
    let mut pending_space = false;
    let mut skip_depth = 0usize;
    for edge in element.traverse() {
        budget.work(1)?;
        let (node, open) = match edge {
            Edge::Open(n) => (n, true),
            Edge::Close(n) => (n, false),
        };
        if let Some(e) = node.value().as_element() {
            if matches!(e.name(), "script" | "style" | "template") {
                if open {
                    skip_depth += 1;
                } else {
                    skip_depth = skip_depth.saturating_sub(1);
                }
            } else if skip_depth == 0 && crate::html::separates_text(e.name()) {
                pending_space = !out.is_empty();
            }
            continue;
        }
        let Some(t) = node.value().as_text() else {
            continue;
        };
        if !open || skip_depth > 0 {
            continue;
        }
        // Collapsed text is gathered in a small buffer and handed over (charged) a piece at a
        // time.
        let mut piece = String::new();
        for c in t.chars() {
            if crate::normalize::is_invisible(c) {
                continue;
            }
            if c.is_whitespace() {
                pending_space = !out.is_empty() || !piece.is_empty();
            } else {
                if pending_space {
                    piece.push(' ');
                    pending_space = false;
                }
                piece.push(c);
                if piece.len() >= TEXT_PIECE {
                    out.push_str(&piece)?;
                    piece.clear();
                    if out.is_full() {
                        break;
                    }
                }
            }
        }
        out.push_str(&piece)?;
        if out.is_full() {
            break;
        }
    }
    Ok(out.into_string())
}

/// The value of attribute `name` on the element (names compare case-insensitively, as HTML
/// attribute names are lower-cased by the parser), trimmed.
pub(crate) fn attr<'d>(element: &ElementRef<'d>, name: &str) -> Option<&'d str> {
    let name = name.to_ascii_lowercase();
    element.value().attr(&name).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = r#"<html><head><style>td { color: red }</style></head><body>
        <table><tr><td class="label">Name</td><td class="name">Jane&nbsp;&nbsp;<b>Q.</b>
        Doe</td></tr><tr><td class="label">Phone</td><td class="phone">202-555-0143</td></tr></table>
        <a class="listing" HREF=" https://example.com/l/1 ">Listing</a>
        <p id=x>a<script>var secret = 1;</script>b&#8203;c</p></body></html>"#;

    #[test]
    fn selects_and_reads() {
        let doc = Html::parse_document(HTML);
        let names = select(&doc, "td.name").unwrap();
        assert_eq!(names.len(), 1);
        assert_eq!(text(&names[0]), "Jane Q. Doe");
        assert_eq!(select(&doc, "td.label").unwrap().len(), 2);
        let links = select(&doc, "a.listing").unwrap();
        assert_eq!(attr(&links[0], "HREF"), Some("https://example.com/l/1"));
        assert_eq!(attr(&links[0], "title"), None);
        assert_eq!(text(&select(&doc, "#x").unwrap()[0]), "abc");
        assert!(select(&doc, "td.missing").unwrap().is_empty());
        let cache = SelectorCache::new();
        assert_eq!(
            cache
                .select_first(&doc, "td.phone")
                .unwrap()
                .map(|e| text(&e))
                .as_deref(),
            Some("202-555-0143")
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn line_breaks_blocks_and_cells_separate_words() {
        let doc = Html::parse_document(
            "<div id=a>Welcome to the party.<br>Thank you<br/>for asking</div>\
             <div id=b><p>One</p><p>Two</p><span>three</span><b>four</b></div>\
             <table id=c><tr><td>Name:</td><td>Jane</td></tr><tr><td>Phone:</td></tr></table>",
        );
        let read = |s: &str| text(&select(&doc, s).unwrap()[0]);
        assert_eq!(read("#a"), "Welcome to the party. Thank you for asking");
        assert_eq!(
            read("#b"),
            "One Two threefour",
            "inline elements do not separate"
        );
        assert_eq!(read("#c"), "Name: Jane Phone:");
    }

    #[test]
    fn bad_selectors() {
        for s in ["", "td[", ">>", "td:nth-child(", "a..b"] {
            assert!(parse_selector(s).is_err(), "selector {s:?}");
        }
        assert!(matches!(
            parse_selector(&"a".repeat(MAX_SELECTOR_LEN + 1)),
            Err(CssError::TooLong)
        ));
        let e = parse_selector("td[").unwrap_err().to_string();
        assert!(e.starts_with("invalid CSS selector `td[`"), "{e}");
    }

    #[test]
    fn hostile_documents() {
        let deep = "<div>".repeat(5_000) + "x" + &"</div>".repeat(5_000);
        let doc = Html::parse_document(&deep);
        let divs = select(&doc, "div").unwrap();
        assert!(!divs.is_empty());
        assert_eq!(text(&divs[0]), "x");
        let doc = Html::parse_document("<td>\u{FFFD}\u{FFFD}</td>");
        let _ = select(&doc, "td").unwrap();
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    use crate::css;

    #[test]
    fn selects_and_reads_text() {
        let doc = scraper::Html::parse_document(
            "<table><tr><td class=name> Jane\n Doe </td></tr></table>",
        );
        let cells = css::select(&doc, "td.name").unwrap();
        assert_eq!(css::text(&cells[0]), "Jane Doe");
        assert!(css::select(&doc, "td[").is_err());
    }
}
