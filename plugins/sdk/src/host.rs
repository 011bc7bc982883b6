//! Safe wrappers over the host primitives.
//!
//! Each function calls the host's implementation, the same one the rule DSL uses. They
//! only work inside mailex (a plugin instance): in a native `cargo test` of a plugin, a call
//! panics (an ordinary panic the test harness reports, naming the host function), and
//! `mailex test --plugin PLUGIN.wasm DIR` runs the whole plugin on real mail instead.

use crate::imports::{
    adf as raw_adf, attachments as raw_att, html as raw_html, normalize as raw_norm,
    regex as raw_re, text as raw_text,
};
use crate::{DateOrder, ExtractError, Money, PersonName};
use std::fmt;

/// A host primitive refused its input (an invalid regex or CSS selector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimitiveError {
    what: &'static str,
    message: String,
}

impl PrimitiveError {
    fn new(what: &'static str, message: String) -> Self {
        Self { what, message }
    }
}

impl fmt::Display for PrimitiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.what, self.message)
    }
}

impl std::error::Error for PrimitiveError {}

impl From<PrimitiveError> for ExtractError {
    fn from(e: PrimitiveError) -> Self {
        ExtractError::Internal(e.to_string())
    }
}

/// The capture groups of one regex match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures(Vec<Option<String>>);

impl Captures {
    /// Group `i` (0 is the whole match), if it took part in the match.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).and_then(|g| g.as_deref())
    }

    /// Number of groups, including group 0.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a real match (group 0 always exists).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The capture groups of the first match of `pattern` in `haystack`.
pub fn regex_capture(pattern: &str, haystack: &str) -> Result<Option<Captures>, PrimitiveError> {
    raw_re::regex_capture(pattern, haystack)
        .map(|m| m.map(Captures))
        .map_err(|e| PrimitiveError::new("regex", e))
}

/// Group `group` of the first match of `pattern` in `haystack`, trimmed.
pub fn regex_group(
    pattern: &str,
    haystack: &str,
    group: usize,
) -> Result<Option<String>, PrimitiveError> {
    Ok(regex_capture(pattern, haystack)?.and_then(|c| c.get(group).map(|s| s.trim().to_owned())))
}

/// All matches of `pattern` in `haystack`.
pub fn regex_find_all(pattern: &str, haystack: &str) -> Result<Vec<String>, PrimitiveError> {
    raw_re::regex_find_all(pattern, haystack).map_err(|e| PrimitiveError::new("regex", e))
}

/// The text of every element of the message HTML that `selector` matches.
pub fn css_select(selector: &str) -> Result<Vec<String>, PrimitiveError> {
    raw_html::css_select(selector).map_err(|e| PrimitiveError::new("CSS selector", e))
}

/// The text of the first non-empty element `selector` matches.
pub fn css_first(selector: &str) -> Result<Option<String>, PrimitiveError> {
    Ok(css_select(selector)?
        .into_iter()
        .find(|t| !t.trim().is_empty()))
}

/// The value of `attribute` on every element `selector` matches.
pub fn css_select_attr(selector: &str, attribute: &str) -> Result<Vec<String>, PrimitiveError> {
    raw_html::css_select_attr(selector, attribute)
        .map_err(|e| PrimitiveError::new("CSS selector", e))
}

/// The content of `<meta name="NAME" content="...">` in the message HTML.
pub fn meta(name: &str) -> Option<String> {
    raw_html::meta(name)
}

/// Every value at `path` in the message's ADF document (see the WIT for the syntax).
pub fn adf(path: &str) -> Vec<String> {
    raw_adf::adf_path(path)
}

/// The first non-empty value at `path` in the message's ADF document.
pub fn adf_first(path: &str) -> Option<String> {
    raw_adf::adf_path(path)
        .into_iter()
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
}

/// How many elements `path` matches in the message's ADF document.
pub fn adf_count(path: &str) -> u32 {
    raw_adf::adf_count(path)
}

/// The decoded bytes of attachment `index`.
pub fn attachment_bytes(index: u32) -> Option<Vec<u8>> {
    raw_att::attachment_bytes(index)
}

/// `html` (a piece of HTML source) without its tags and comments, character references
/// decoded, the source's line breaks kept; `<br>` and the end of `p`, `div`, `tr` and `li`
/// become line breaks. The rule language's `strip_tags` (contract 1.1).
pub fn strip_tags(html: &str) -> String {
    raw_text::strip_tags(html)
}

/// `text` on one line: every whitespace run (no-break spaces included) collapsed into one
/// space, zero-width characters dropped, trimmed. The rule language's `collapse`
/// (contract 1.1).
pub fn collapse_whitespace(text: &str) -> String {
    raw_text::collapse_whitespace(text)
}

/// The host normalisers (the same ones the rule DSL uses).
pub mod normalize {
    use super::*;

    /// A normalised email address, or `None`.
    pub fn email(input: &str) -> Option<String> {
        raw_norm::normalize_email(input)
    }

    /// A phone number in E.164, with `region` (e.g. `"US"`) for national numbers.
    pub fn phone(input: &str, region: Option<&str>) -> Option<String> {
        raw_norm::normalize_phone(input, region)
    }

    /// An absolute http(s) URL.
    pub fn url(input: &str) -> Option<String> {
        raw_norm::normalize_url(input)
    }

    /// An amount of money; `default_currency` (ISO 4217) applies when the input names none.
    pub fn money(input: &str, default_currency: Option<&str>) -> Option<Money> {
        raw_norm::normalize_money(input, default_currency)
    }

    /// A date as `YYYY-MM-DD`; an ambiguous numeric date (`03/04/2026`) is read month first.
    pub fn date(input: &str) -> Option<String> {
        raw_norm::normalize_date(input)
    }

    /// A date as `YYYY-MM-DD`, an ambiguous numeric date read in `order`: `03/04/2026` is
    /// `2026-03-04` with [`DateOrder::MonthFirst`] and `2026-04-03` with
    /// [`DateOrder::DayFirst`], as a rule file's `date(order: "mdy")` and
    /// `date(order: "dmy")` read it (contract 1.2).
    pub fn date_in_order(input: &str, order: DateOrder) -> Option<String> {
        raw_norm::normalize_date_in_order(input, order)
    }

    /// A person name split into first and last.
    pub fn name(input: &str) -> Option<PersonName> {
        raw_norm::normalize_name(input)
    }
}
