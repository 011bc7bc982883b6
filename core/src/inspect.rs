//! Looks into an email's HTML for tools that write rules (`mailex draft`) and for the fuzz
//! targets, in mailex's own types: which elements hold a text and what a CSS selector can name
//! them by ([`Email::elements_with_text`]), whether a selector parses ([`is_css_selector`]),
//! and the text view and meta tags of a bare HTML string ([`html_text_view`],
//! [`html_meta_tags`]). The HTML parser behind them (html5ever through scraper) stays out of
//! the public API, so upgrading it breaks no caller.

use scraper::ElementRef;

use crate::message::Email;

/// An element of an email's HTML document, described by what a CSS selector can name it by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HtmlElement {
    /// The tag name, lower-case (`td`).
    pub tag: String,
    /// The `id` attribute, when the element has one.
    pub id: Option<String>,
    /// The classes of its `class` attribute, sorted, without repeats.
    pub classes: Vec<String>,
    /// The way down to the element from below `<body>` (or `<html>`), outermost first, ending
    /// with the element itself.
    pub path: Vec<PathStep>,
}

/// One step of an [`HtmlElement`]'s path: what `TAG:nth-of-type(INDEX)` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathStep {
    /// The tag name, lower-case.
    pub tag: String,
    /// The element's position among its siblings of the same tag, from 1.
    pub index: usize,
}

impl Email<'_> {
    /// The innermost elements below `<body>` whose text, read as the rule language's
    /// `css(...).text` reads it (whitespace collapsed, trimmed), equals `text` ignoring ASCII
    /// case; at most `max`, in document order. "Innermost": no element inside it has that
    /// text too. Empty when the email has no HTML.
    ///
    /// ```
    /// let raw = b"From: a@x.example\r\nContent-Type: text/html\r\n\r\n\
    ///     <table><tr><td>Name</td><td class='name lead' id=n>Jane <b></b>Doe</td></tr></table>";
    /// let email = mailex_core::Email::parse(raw).unwrap();
    /// let found = email.elements_with_text("jane   doe", 4);
    /// assert_eq!(found.len(), 1);
    /// assert_eq!((found[0].tag.as_str(), found[0].id.as_deref()), ("td", Some("n")));
    /// assert_eq!(found[0].classes, ["lead", "name"]);
    /// let path: Vec<_> = found[0].path.iter().map(|s| format!("{}:{}", s.tag, s.index)).collect();
    /// assert_eq!(path, ["table:1", "tbody:1", "tr:1", "td:2"]);
    /// ```
    pub fn elements_with_text(&self, text: &str, max: usize) -> Vec<HtmlElement> {
        let Some(document) = self.html_document() else {
            return Vec::new();
        };
        let Ok(all) = crate::css::select(document, "body *") else {
            return Vec::new();
        };
        let wanted = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let holds = |e: &ElementRef<'_>| crate::css::text(e).eq_ignore_ascii_case(&wanted);
        all.iter()
            .filter(|e| holds(e))
            .filter(|e| {
                !e.descendants()
                    .skip(1)
                    .filter_map(ElementRef::wrap)
                    .any(|d| holds(&d))
            })
            .take(max)
            .map(|e| describe(*e))
            .collect()
    }
}

/// What a selector can name `element` by.
fn describe(element: ElementRef<'_>) -> HtmlElement {
    let value = element.value();
    let mut path = Vec::new();
    let mut current = Some(element);
    while let Some(e) = current {
        let tag = e.value().name();
        if tag == "body" || tag == "html" {
            break;
        }
        let index = e
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .filter(|s| s.value().name() == tag)
            .count()
            + 1;
        path.push(PathStep {
            tag: tag.to_owned(),
            index,
        });
        current = e.parent().and_then(ElementRef::wrap);
    }
    path.reverse();
    HtmlElement {
        tag: value.name().to_owned(),
        id: value.id().map(str::to_owned),
        classes: value.classes().map(str::to_owned).collect(),
        path,
    }
}

/// Whether `selector` is a CSS selector the rule language and the plugins' `html` functions
/// accept (it parses, and is not over the length limit).
///
/// ```
/// assert!(mailex_core::is_css_selector("table > tr:nth-of-type(2) > td.name"));
/// assert!(!mailex_core::is_css_selector("td["));
/// ```
pub fn is_css_selector(selector: &str) -> bool {
    crate::css::parse_selector(selector).is_ok()
}

/// The plain-text view of an HTML string, as [`Email::text`] renders an HTML-only body: block
/// elements and `<br>` start lines, table cells on a row are separated by a tab, entities are
/// decoded, whitespace runs collapse (a linear scanner; no document is built).
///
/// ```
/// let html = "<table><tr><td>Name:<td>Jane&nbsp;Doe<tr><td>Phone:<td>202-555-0143</table>";
/// assert_eq!(mailex_core::html_text_view(html), "Name:\tJane Doe\nPhone:\t202-555-0143");
/// ```
pub fn html_text_view(html: &str) -> String {
    crate::html::text_view_str(html)
}

/// Every `<meta name="..." content="...">` of an HTML string, in document order, name and
/// content decoded and trimmed, as [`Email::meta_tags`] reads them (without its cap).
///
/// ```
/// let html = "<body><META NAME=lead_name CONTENT='Jos&eacute; Doe'><p>x";
/// assert_eq!(
///     mailex_core::html_meta_tags(html),
///     vec![("lead_name".to_string(), "José Doe".to_string())]
/// );
/// ```
pub fn html_meta_tags(html: &str) -> Vec<(String, String)> {
    crate::html::meta_tags_str(html)
}
