//! A tolerant parser for ADF/XML 1.0 (Auto-lead Data Format) into a small tree with path lookup.
//!
//! Car-dealer lead systems emit ADF with well-known faults, so [`AdfDocument::parse`] accepts:
//! - a missing XML declaration, leading garbage (mail text, a BOM) before `<adf>` or
//!   `<?xml ...?>`, trailing garbage after `</adf>`;
//! - unescaped `&` (`Smith & Sons`), HTML entities such as `&nbsp;` and `&eacute;`;
//! - ADF wrapped in HTML (`<html><body><pre><adf>...`, with `<br>` line breaks), or
//!   entity-escaped in an HTML body (`&lt;adf&gt;...`);
//! - a document without the `<adf>` root (starting at `<prospect>`), unclosed or mis-nested
//!   elements, element names in any case;
//! - bytes that are not UTF-8 (read as Latin-1, which old dealer systems send).
//!
//! Parsing never panics. It fails only when no ADF can be found at all; recovered faults are
//! reported as [`AdfWarning`]s next to the tree.
//!
//! Paths are element names separated by `/`, relative to `<adf>` (a leading `adf/` is allowed).
//! Each step may carry `[attribute=value]` filters (`[@attribute=value]` and `[attribute]` work
//! too) and a 1-based index over all matches so far (`vehicle#2` or `vehicle[2]`); a final
//! `@attribute` step reads an attribute instead of the text. Names compare case-insensitively.
//! [`find_in_email`] is the one place that locates the ADF in an email:
//!
//! ```
//! use mailex_core::adf::AdfDocument;
//! let doc = AdfDocument::parse(
//!     "Lead below\n<adf><prospect><customer><contact>\
//!      <name part=\"first\">Jane</name><name part=\"last\">Doe</name>\
//!      <email>jane@example.com</email><phone type=\"voice\">202-555-0143</phone>\
//!      </contact><comments>Call after 5 & ask for Bob</comments></customer></prospect></adf>",
//! )
//! .unwrap();
//! assert_eq!(doc.get("prospect/customer/contact/email"), Some("jane@example.com"));
//! assert_eq!(doc.get("prospect/customer/contact/name[part=last]"), Some("Doe"));
//! assert_eq!(doc.get("prospect/customer/comments"), Some("Call after 5 & ask for Bob"));
//! assert_eq!(doc.get("prospect/customer/contact/phone/@type"), Some("voice"));
//! assert_eq!(doc.values("prospect/customer/contact/name#2"), vec!["Doe"]);
//! ```

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use thiserror::Error;

use crate::budget::{Budget, Exceeded};
use crate::message::Email;
use crate::record::IssueCode;

/// Deepest element nesting kept; deeper elements are flattened into their ancestor at this depth.
pub const MAX_DEPTH: usize = 64;
/// Most elements kept in one document; the rest is dropped with a warning.
pub const MAX_ELEMENTS: usize = 20_000;
/// Largest input searched for ADF, in bytes.
pub const MAX_INPUT: usize = 8 * 1024 * 1024;

/// Why no ADF tree could be produced.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AdfError {
    /// Neither `<adf>` nor `<prospect>` occurs in the input (plain or entity-escaped).
    #[error("no ADF document found (no <adf> or <prospect> element)")]
    NotFound,
    /// The input is larger than [`MAX_INPUT`].
    #[error("input is larger than {MAX_INPUT} bytes")]
    TooLarge,
    /// The run's budget was spent while parsing.
    #[error(transparent)]
    Budget(#[from] Exceeded),
}

/// A fault that was recovered from while parsing. Messages give byte positions, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdfWarning {
    /// Stable code, as `builtin:adf` records it: `adf_leading_garbage`, `adf_html_wrapped`,
    /// `adf_entity_escaped`, `adf_no_adf_root`, `adf_unclosed_element`, `adf_mismatched_end`,
    /// `adf_xml_error`, `adf_too_deep`, `adf_too_many_elements`, `adf_latin1`.
    pub code: IssueCode,
    /// Human-readable explanation.
    pub message: String,
}

/// An element of the ADF tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdfNode {
    /// Element name, lower-cased, without namespace prefix.
    pub name: String,
    /// Attributes in document order, names lower-cased, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// The element's own text (CDATA included), whitespace-collapsed and trimmed.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<AdfNode>,
}

impl AdfNode {
    /// The value of attribute `name` (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first child element called `name` (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&AdfNode> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Every node matching `path` below this node, in document order. A path ending in `@attr`
    /// selects the nodes that have that attribute. A malformed path selects nothing.
    pub fn find_all(&self, path: &str) -> Vec<&AdfNode> {
        let Some(path) = parse_path(path) else {
            return Vec::new();
        };
        let mut current: Vec<&AdfNode> = vec![self];
        for step in &path.steps {
            current = current
                .into_iter()
                .flat_map(|n| n.children.iter().filter(|c| step.matches(c)))
                .take(MAX_ELEMENTS)
                .collect();
            if let Some(i) = step.index {
                current = current
                    .into_iter()
                    .nth(i.wrapping_sub(1))
                    .into_iter()
                    .collect();
            }
            if current.is_empty() {
                break;
            }
        }
        if let Some(attr) = path.attr {
            current.retain(|n| n.attr(attr).is_some());
        }
        current
    }

    /// The first node matching `path` below this node.
    pub fn find(&self, path: &str) -> Option<&AdfNode> {
        self.find_all(path).into_iter().next()
    }

    /// The values `path` selects, in document order: the text of each matching element, or the
    /// attribute when the path ends in `@attr`. Empty values are kept.
    pub fn values(&self, path: &str) -> Vec<&str> {
        let attr = parse_path(path).and_then(|p| p.attr);
        self.find_all(path)
            .into_iter()
            .filter_map(|n| match attr {
                Some(a) => n.attr(a),
                None => Some(n.text.as_str()),
            })
            .collect()
    }

    /// The first non-empty value `path` selects (see [`AdfNode::values`]).
    pub fn get(&self, path: &str) -> Option<&str> {
        self.values(path).into_iter().find(|t| !t.is_empty())
    }
}

/// A parsed ADF document: the `<adf>` element and the faults recovered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdfDocument {
    /// The `<adf>` element (synthesised when the input lacks it).
    pub root: AdfNode,
    /// Faults recovered from, in the order met.
    pub warnings: Vec<AdfWarning>,
}

impl AdfDocument {
    /// Finds and parses ADF in `input` (see the [module documentation](self) for what is
    /// tolerated).
    pub fn parse(input: &str) -> Result<AdfDocument, AdfError> {
        Self::parse_within(input, &Budget::unlimited())
    }

    /// [`AdfDocument::parse`] under a budget: the parse counts as work, element by element, and
    /// stops when the budget is spent ([`AdfError::Budget`]); the document is charged as
    /// retained memory (about its input's size).
    pub fn parse_within(input: &str, budget: &Budget) -> Result<AdfDocument, AdfError> {
        if input.len() > MAX_INPUT {
            return Err(AdfError::TooLarge);
        }
        budget.work(input.len() as u64)?;
        let mut warnings = Vec::new();
        let located = locate(input, &mut warnings).ok_or(AdfError::NotFound)?;
        budget.retain(located.len() as u64)?;
        let root = build_tree(&located, &mut warnings, budget)?;
        Ok(AdfDocument { root, warnings })
    }

    /// Like [`AdfDocument::parse`] for raw bytes: UTF-8 (with or without BOM), or Latin-1 when
    /// the bytes are not valid UTF-8.
    pub fn parse_bytes(bytes: &[u8]) -> Result<AdfDocument, AdfError> {
        Self::parse_bytes_within(bytes, &Budget::unlimited())
    }

    /// [`AdfDocument::parse_bytes`] under a budget (see [`AdfDocument::parse_within`]).
    pub fn parse_bytes_within(bytes: &[u8], budget: &Budget) -> Result<AdfDocument, AdfError> {
        if bytes.len() > MAX_INPUT {
            return Err(AdfError::TooLarge);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Self::parse_within(s, budget),
            Err(_) => {
                let s: String = bytes.iter().map(|&b| char::from(b)).collect();
                let mut doc = Self::parse_within(&s, budget)?;
                doc.warnings.insert(
                    0,
                    AdfWarning {
                        code: IssueCode::AdfLatin1,
                        message: "input is not valid UTF-8; read as Latin-1".into(),
                    },
                );
                Ok(doc)
            }
        }
    }

    /// Whether `input` looks like it contains ADF (cheap check, no parsing).
    pub fn sniff(input: &str) -> bool {
        sniff_bytes(input.as_bytes())
    }

    /// The first non-empty value `path` selects (relative to `<adf>`; `adf/` may prefix it).
    pub fn get(&self, path: &str) -> Option<&str> {
        self.root.get(strip_root(path))
    }

    /// Every value `path` selects (see [`AdfNode::values`]).
    pub fn values(&self, path: &str) -> Vec<&str> {
        self.root.values(strip_root(path))
    }

    /// Every element matching `path`.
    pub fn find_all(&self, path: &str) -> Vec<&AdfNode> {
        self.root.find_all(strip_root(path))
    }

    /// The first element matching `path`.
    pub fn find(&self, path: &str) -> Option<&AdfNode> {
        self.root.find(strip_root(path))
    }

    /// Checks the syntax of `path` without a document (for load-time validation of rule files
    /// and plugin calls). Returns a short explanation of the first problem.
    pub fn check_path(path: &str) -> Result<(), &'static str> {
        parse_path(strip_root(path)).map(|_| ()).ok_or(
            "malformed ADF path (expected `name/name[attr=value]#2/@attr`: names separated by `/`, \
             optional `[attr=value]` filters, an optional 1-based `#N` index, an optional final `@attr`)",
        )
    }
}

/// Where [`find_in_email`] found the ADF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdfOrigin {
    /// The n-th attachment (1-based, in [`Email::attachments`] order).
    Attachment(usize),
    /// The HTML body (HTML-wrapped or entity-escaped ADF).
    HtmlBody,
    /// The text body.
    TextBody,
    /// Inside a forwarded `message/rfc822` part.
    Forwarded(Box<AdfOrigin>),
}

impl std::fmt::Display for AdfOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdfOrigin::Attachment(n) => write!(f, "attachment {n}"),
            AdfOrigin::HtmlBody => f.write_str("html body"),
            AdfOrigin::TextBody => f.write_str("text body"),
            AdfOrigin::Forwarded(inner) => write!(f, "forwarded message: {inner}"),
        }
    }
}

/// Finds and parses the ADF of an email. The one lookup shared by `builtin:adf`, the DSL's
/// `adf(...)` and the plugin host, in this order:
///
/// 1. attachments declared as XML (`*/xml` type, `.xml` or `.adf` name) that contain ADF;
/// 2. any other attachment that contains ADF;
/// 3. the HTML body (ADF wrapped in `<pre>`, or entity-escaped);
/// 4. the text body;
/// 5. forwarded `message/rfc822` parts, two levels deep at most.
pub fn find_in_email(email: &Email<'_>) -> Option<(AdfDocument, AdfOrigin)> {
    find_in_email_within(email, &Budget::unlimited()).unwrap_or_default()
}

/// [`find_in_email`] under a budget: every candidate searched and parsed draws from it, and
/// the search stops when it is spent.
pub fn find_in_email_within(
    email: &Email<'_>,
    budget: &Budget,
) -> Result<Option<(AdfDocument, AdfOrigin)>, Exceeded> {
    find_at_depth(email, 0, budget)
}

/// A parse that failed for want of budget ends the search; any other failure tries the next
/// candidate.
fn parsed(result: Result<AdfDocument, AdfError>) -> Result<Option<AdfDocument>, Exceeded> {
    match result {
        Ok(doc) => Ok(Some(doc)),
        Err(AdfError::Budget(spent)) => Err(spent),
        Err(_) => Ok(None),
    }
}

fn find_at_depth(
    email: &Email<'_>,
    depth: usize,
    budget: &Budget,
) -> Result<Option<(AdfDocument, AdfOrigin)>, Exceeded> {
    let attachments = email.attachments();
    let xmlish = |a: &crate::message::Attachment<'_>| {
        let name = a.name.as_deref().unwrap_or_default().to_ascii_lowercase();
        a.content_type.ends_with("/xml")
            || a.content_type.ends_with("+xml")
            || name.ends_with(".xml")
            || name.ends_with(".adf")
    };
    for declared in [true, false] {
        for (i, a) in attachments.iter().enumerate() {
            if declared != xmlish(a) || a.bytes.len() > MAX_INPUT {
                continue;
            }
            budget.work(a.bytes.len() as u64)?;
            if !sniff_bytes(a.bytes) {
                continue;
            }
            if let Some(doc) = parsed(AdfDocument::parse_bytes_within(a.bytes, budget))? {
                return Ok(Some((doc, AdfOrigin::Attachment(i + 1))));
            }
        }
    }
    if let Some(html) = email.html() {
        budget.work(html.len() as u64)?;
        if AdfDocument::sniff(html)
            && let Some(doc) = parsed(AdfDocument::parse_within(html, budget))?
        {
            return Ok(Some((doc, AdfOrigin::HtmlBody)));
        }
    }
    let text = email.text();
    budget.work(text.len() as u64)?;
    if AdfDocument::sniff(text)
        && let Some(doc) = parsed(AdfDocument::parse_within(text, budget))?
    {
        return Ok(Some((doc, AdfOrigin::TextBody)));
    }
    if depth < 2 {
        for nested in email.nested() {
            if let Some((doc, origin)) = find_at_depth(&nested, depth + 1, budget)? {
                return Ok(Some((doc, AdfOrigin::Forwarded(Box::new(origin)))));
            }
        }
    }
    Ok(None)
}

fn strip_root(path: &str) -> &str {
    let p = path.trim().trim_start_matches('/');
    if p.eq_ignore_ascii_case("adf") {
        ""
    } else if p.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("adf/")) {
        &p[4..]
    } else {
        p
    }
}

/// One step of a path: a name (or `*`), attribute filters and an optional 1-based index.
struct Step<'p> {
    name: &'p str,
    filters: Vec<(&'p str, Option<&'p str>)>,
    index: Option<usize>,
}

impl Step<'_> {
    fn matches(&self, n: &AdfNode) -> bool {
        (self.name == "*" || n.name.eq_ignore_ascii_case(self.name))
            && self.filters.iter().all(|(k, v)| match (n.attr(k), v) {
                (Some(actual), Some(want)) => actual.trim().eq_ignore_ascii_case(want),
                (Some(_), None) => true,
                (None, _) => false,
            })
    }
}

/// A parsed path: element steps and an optional final attribute.
struct Path<'p> {
    steps: Vec<Step<'p>>,
    attr: Option<&'p str>,
}

/// Most steps a path may have.
const MAX_STEPS: usize = 64;

/// Parses `a/b[k=v][k2="v 2"]#2/c/@attr` (`[2]` is the same as `#2`); `None` if malformed. An
/// empty path selects the node itself.
fn parse_path(path: &str) -> Option<Path<'_>> {
    let mut steps = Vec::new();
    let mut attr = None;
    let mut rest = path.trim();
    while !rest.is_empty() {
        if steps.len() >= MAX_STEPS {
            return None;
        }
        if let Some(a) = rest.strip_prefix('@') {
            let a = a.trim();
            if a.is_empty() || a.contains(['/', '[', ']', '#', '@']) {
                return None;
            }
            attr = Some(a);
            break;
        }
        let end = rest.find(['/', '[', '#']).unwrap_or(rest.len());
        let name = rest[..end].trim();
        if name.is_empty() || name.contains(['@', ']', '=']) {
            return None;
        }
        rest = &rest[end..];
        let mut filters = Vec::new();
        let mut index = None;
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = r[..close].trim();
            rest = &r[close + 1..];
            if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                index = Some(inner.parse().ok().filter(|&i| i > 0)?);
                continue;
            }
            let inner = inner.trim_start_matches('@');
            let filter = match inner.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().trim_matches(['"', '\'']))),
                None => (inner.trim(), None),
            };
            if filter.0.is_empty() {
                return None;
            }
            filters.push(filter);
        }
        if let Some(r) = rest.strip_prefix('#') {
            let end = r.find('/').unwrap_or(r.len());
            index = Some(r[..end].trim().parse().ok().filter(|&i: &usize| i > 0)?);
            rest = &r[end..];
        }
        steps.push(Step {
            name,
            filters,
            index,
        });
        rest = match rest.strip_prefix('/') {
            Some(r) if !r.trim().is_empty() => r,
            Some(_) => return None,
            None if rest.is_empty() => rest,
            None => return None,
        };
    }
    Some(Path { steps, attr })
}

/// ASCII-case-insensitive search.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    crate::textops::find_ci(hay, needle)
}

/// [`AdfDocument::sniff`] over bytes that need not be UTF-8 (an attachment): what the sniff of
/// their lossy decoding says, without decoding them. The needles are ASCII, and an invalid
/// sequence never takes part in one or is whitespace after it.
fn sniff_bytes(input: &[u8]) -> bool {
    find_tag_ci(input, b"adf").is_some()
        || crate::textops::find_ci_bytes(input, b"&lt;adf").is_some()
        || find_tag_ci(input, b"prospect").is_some()
}

/// Finds `<name` (`name` in ASCII) followed by `>`, `/`, whitespace or the end of the input.
/// Works on bytes, so it reads an attachment as is; on a `str` the index is a char boundary.
fn find_tag_ci(hay: impl AsRef<[u8]>, name: &[u8]) -> Option<usize> {
    let hay = hay.as_ref();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'<', &hay[from..]) {
        let at = from + i;
        let after = at + 1 + name.len();
        if hay
            .get(at + 1..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && starts_with_tag_end(&hay[after..])
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether `rest` is empty or starts with `>`, `/` or a whitespace character (Unicode's, as
/// `char::is_whitespace`; an invalid UTF-8 sequence is none).
fn starts_with_tag_end(rest: &[u8]) -> bool {
    let Some(&first) = rest.first() else {
        return true;
    };
    if first.is_ascii() {
        return first == b'>' || first == b'/' || char::from(first).is_whitespace();
    }
    // A character is at most 4 bytes; a window that cuts the one after it off still holds it.
    let window = &rest[..rest.len().min(4)];
    let valid = match std::str::from_utf8(window) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
    };
    valid.chars().next().is_some_and(char::is_whitespace)
}

/// Finds the ADF in `input` and returns it as XML text ready for the reader.
fn locate<'a>(input: &'a str, warnings: &mut Vec<AdfWarning>) -> Option<Cow<'a, str>> {
    let html_wrapped = find_tag_ci(input, b"html").is_some()
        || find_tag_ci(input, b"body").is_some()
        || find_tag_ci(input, b"pre").is_some();
    let (text, escaped): (Cow<'a, str>, bool) = match find_tag_ci(input, b"adf")
        .or_else(|| find_tag_ci(input, b"prospect"))
    {
        Some(_) => (Cow::Borrowed(input), false),
        None => {
            let start = find_ci(input, "&lt;adf").or_else(|| find_ci(input, "&lt;prospect"))?;
            let end =
                rfind_ci(input, "&lt;/adf&gt;").map_or(input.len(), |e| e + "&lt;/adf&gt;".len());
            let slice = input.get(start..end.max(start))?;
            warnings.push(AdfWarning {
                code: IssueCode::AdfEntityEscaped,
                message: format!("ADF is entity-escaped inside other markup (from byte {start})"),
            });
            (Cow::Owned(unescape_html_markup(&strip_tags(slice))), true)
        }
    };
    let (start, has_root) = match find_tag_ci(&*text, b"adf") {
        Some(i) => (i, true),
        None => (find_tag_ci(&*text, b"prospect")?, false),
    };
    // Keep an XML declaration or <?adf?> PI directly before the root out of the garbage check.
    if !only_prolog(&text[..start]) && !escaped {
        warnings.push(AdfWarning {
            code: if html_wrapped {
                IssueCode::AdfHtmlWrapped
            } else {
                IssueCode::AdfLeadingGarbage
            },
            message: format!("{} bytes before the ADF root were ignored", start),
        });
    }
    if !has_root {
        warnings.push(AdfWarning {
            code: IssueCode::AdfNoAdfRoot,
            message: "no <adf> root element; parsed from <prospect>".into(),
        });
    }
    let end = if has_root {
        rfind_ci(&text, "</adf>").map(|e| e + "</adf>".len())
    } else {
        rfind_ci(&text, "</prospect>").map(|e| e + "</prospect>".len())
    };
    let end = end.filter(|&e| e > start).unwrap_or(text.len());
    let body = match text {
        Cow::Borrowed(b) => Cow::Borrowed(&b[start..end]),
        Cow::Owned(o) => Cow::Owned(o[start..end].to_owned()),
    };
    Some(body)
}

/// Whether `s` holds nothing but whitespace, a BOM, processing instructions (`<?xml ...?>`,
/// `<?adf ...?>`), comments and a doctype.
fn only_prolog(s: &str) -> bool {
    let mut rest = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    while !rest.is_empty() {
        let end = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            None
        };
        match end {
            Some(e) => rest = rest[e..].trim_start(),
            None => return false,
        }
    }
    true
}

fn rfind_ci(hay: &str, needle: &str) -> Option<usize> {
    let lower_n = needle.to_ascii_lowercase();
    let n = lower_n.as_bytes();
    let h = hay.as_bytes();
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len())
        .rev()
        .find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n) && hay.is_char_boundary(i))
}

/// Removes real HTML tags (`<br>`, `<span ...>`) from an entity-escaped ADF region.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the markup entities of an escaped region: `&lt;` `&gt;` `&quot;` `&#39;` `&nbsp;`;
/// `&amp;` becomes `&amp;` again only when it was escaping an entity-like sequence.
fn unescape_html_markup(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&LT;", "<")
        .replace("&gt;", ">")
        .replace("&GT;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// HTML void elements that may appear inside HTML-wrapped ADF and never have an end tag.
const VOID: &[&str] = &["br", "hr", "img", "wbr", "meta", "link", "input"];
/// HTML elements ignored entirely (treated as transparent) inside HTML-wrapped ADF.
const TRANSPARENT: &[&str] = &[
    "font", "span", "b", "i", "u", "strong", "em", "p", "div", "pre", "a", "tt", "code",
];

fn build_tree(
    xml: &str,
    warnings: &mut Vec<AdfWarning>,
    budget: &Budget,
) -> Result<AdfNode, Exceeded> {
    let mut reader = Reader::from_str(xml);
    {
        let config = reader.config_mut();
        config.allow_dangling_amp = true;
        config.allow_unmatched_ends = true;
        config.check_end_names = false;
        config.check_comments = false;
        config.trim_text(false);
    }
    // Stack of open elements; index 0 is a synthetic document node.
    let mut stack: Vec<AdfNode> = vec![AdfNode::default()];
    let mut texts: Vec<String> = vec![String::new()];
    let mut count = 0usize;
    let mut too_many = false;
    let mut too_deep = false;
    let mut read = 0u64;
    loop {
        let at = reader.buffer_position();
        budget.work(at.saturating_sub(read) + 1)?;
        read = at;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(_) => {
                warnings.push(AdfWarning {
                    code: IssueCode::AdfXmlError,
                    message: format!(
                        "malformed XML near byte {}; the rest was ignored",
                        reader.buffer_position()
                    ),
                });
                break;
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local_name(e);
                if TRANSPARENT.contains(&name.as_str()) {
                    continue;
                }
                if count >= MAX_ELEMENTS {
                    too_many = true;
                    continue;
                }
                count += 1;
                if VOID.contains(&name.as_str()) {
                    if name == "br"
                        && let Some(t) = texts.last_mut()
                    {
                        t.push(' ');
                    }
                    continue;
                }
                let node = AdfNode {
                    name,
                    attrs: attributes(e),
                    text: String::new(),
                    children: Vec::new(),
                };
                if empty {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    }
                } else if stack.len() > MAX_DEPTH {
                    too_deep = true;
                } else {
                    stack.push(node);
                    texts.push(String::new());
                }
            }
            Event::End(ref e) => {
                // Compared without a lower-cased copy: names are stored lower-cased, and only
                // ASCII letters are folded.
                let local = e.local_name();
                let name = local.as_ref();
                let is = |known: &&str| known.as_bytes().eq_ignore_ascii_case(name);
                if TRANSPARENT.iter().any(is) || VOID.iter().any(is) {
                    continue;
                }
                match stack
                    .iter()
                    .rposition(|n| n.name.as_bytes().eq_ignore_ascii_case(name))
                {
                    Some(pos) if pos > 0 => {
                        if pos != stack.len() - 1 {
                            warnings.push(AdfWarning {
                                code: IssueCode::AdfUnclosedElement,
                                message: format!(
                                    "element(s) left open before byte {}",
                                    reader.buffer_position()
                                ),
                            });
                        }
                        while stack.len() > pos {
                            close_top(&mut stack, &mut texts);
                        }
                    }
                    _ => warnings.push(AdfWarning {
                        code: IssueCode::AdfMismatchedEnd,
                        message: format!(
                            "end tag without start tag near byte {}",
                            reader.buffer_position()
                        ),
                    }),
                }
            }
            Event::Text(t) => {
                if let Ok(s) = t.decode() {
                    push_text(&mut texts, &s);
                }
            }
            Event::CData(t) => {
                push_text(&mut texts, &String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => crate::html::named_reference(&name).unwrap_or_else(|| format!("&{name};")),
                };
                push_text(&mut texts, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() > 2 {
        warnings.push(AdfWarning {
            code: IssueCode::AdfUnclosedElement,
            message: format!(
                "{} element(s) not closed at the end of the input",
                stack.len() - 2
            ),
        });
    }
    while stack.len() > 1 {
        close_top(&mut stack, &mut texts);
    }
    if too_deep {
        warnings.push(AdfWarning {
            code: IssueCode::AdfTooDeep,
            message: format!("elements nested deeper than {MAX_DEPTH} were flattened"),
        });
    }
    if too_many {
        warnings.push(AdfWarning {
            code: IssueCode::AdfTooManyElements,
            message: format!("more than {MAX_ELEMENTS} elements; the rest was dropped"),
        });
    }
    let mut doc = stack.pop().unwrap_or_default();
    // The document node holds the root element(s).
    Ok(match doc.children.iter().position(|c| c.name == "adf") {
        Some(i) => doc.children.swap_remove(i),
        None => AdfNode {
            name: "adf".into(),
            attrs: Vec::new(),
            text: String::new(),
            children: std::mem::take(&mut doc.children),
        },
    })
}

fn push_text(texts: &mut [String], s: &str) {
    if let Some(t) = texts.last_mut()
        && t.len() < 64 * 1024
    {
        t.push_str(s);
    }
}

fn close_top(stack: &mut Vec<AdfNode>, texts: &mut Vec<String>) {
    let (Some(mut node), Some(text)) = (stack.pop(), texts.pop()) else {
        return;
    };
    node.text = crate::normalize::collapse_ws(&text);
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}

fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase()
}

fn attributes(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.html_attributes()
        .with_checks(false)
        .flatten()
        .take(64)
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).to_ascii_lowercase();
            let value = match a.unescape_value() {
                Ok(v) => crate::normalize::collapse_ws(&v),
                Err(_) => crate::normalize::collapse_ws(&String::from_utf8_lossy(&a.value)),
            };
            (key, value)
        })
        .collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    /// The sniff as it was before it read bytes: the input decoded lossily, then `<name` found
    /// and the character after it checked.
    fn sniff_by_decoding(bytes: &[u8]) -> bool {
        let s = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        let tag = |name: &str| {
            let pat = format!("<{name}");
            s.match_indices(&pat).any(|(at, _)| {
                s[at + pat.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == '>' || c == '/' || c.is_whitespace())
            })
        };
        tag("adf") || s.contains("&lt;adf") || tag("prospect")
    }

    #[test]
    fn sniffing_bytes_agrees_with_sniffing_their_lossy_decoding() {
        const PIECES: &[&str] = &[
            "<adf",
            "<ADF",
            "<Prospect",
            "<adfx",
            "&lt;adf",
            "&LT;ADF",
            "<",
            ">",
            "/",
            " ",
            "\t",
            "x",
            "\u{a0}",
            "\u{3000}",
            "\u{2028}",
            "é",
            "\u{1}",
            "\u{2}",
            "\u{3}",
        ];
        let mut agreed = [0usize; 2];
        for doc in crate::testing::random_documents(0xADF, PIECES, 8, 20_000) {
            // Placeholders for bytes that are not UTF-8: a stray byte, a lead byte cut off
            // before its end, half of a three-byte sequence.
            let mut bytes = Vec::new();
            for c in doc.chars() {
                match c {
                    '\u{1}' => bytes.push(0xFF),
                    '\u{2}' => bytes.push(0xC2),
                    '\u{3}' => bytes.extend([0xE3, 0x80]),
                    c => bytes.extend(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            let expected = sniff_by_decoding(&bytes);
            assert_eq!(sniff_bytes(&bytes), expected, "{bytes:?}");
            agreed[usize::from(expected)] += 1;
        }
        // Both answers were exercised.
        assert!(agreed.iter().all(|&n| n > 0), "{agreed:?}");
    }

    #[test]
    fn random_markup_never_panics() {
        const PIECES: &[&str] = &[
            "<adf>",
            "</adf>",
            "<prospect>",
            "</prospect>",
            "<name part=\"first\">",
            "</name>",
            "&",
            "&amp;",
            "&#x",
            "&#",
            ";",
            "<![CDATA[",
            "]]>",
            "<!--",
            "-->",
            "<?xml version=\"1.0\"?>",
            "<?",
            "?>",
            "\"",
            "'",
            "=",
            "Jane",
            " ",
            "\n",
            "<x a='",
            ">",
            "</",
            "/>",
            "<br>",
            "&lt;adf&gt;",
            "&lt;/adf&gt;",
            "<html>",
            "<pre>",
            "\u{FFFD}",
            "é",
            "<!DOCTYPE adf [",
            "]>",
        ];
        for s in crate::testing::random_documents(0x5eed, PIECES, 40, 3_000) {
            if let Ok(doc) = AdfDocument::parse(&s) {
                let _ = doc.get("prospect/name[part=first]");
                let _ = doc.values("prospect/*#2/@part");
            }
            let _ = AdfDocument::parse_bytes(s.as_bytes());
        }
    }
}
