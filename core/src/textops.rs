//! Text operations shared by the DSL and the plugin host: `after`, `before`, `between`, `line`,
//! `lines`, and regex capture through a thread-safe cache of compiled patterns.
//!
//! The substring operations return slices of their input and never allocate. Their `_ci`
//! variants match the needle ignoring ASCII case (so byte offsets stay exact; non-ASCII letters
//! must match exactly).
//!
//! ```
//! use mailex_core::textops::{self, Group, RegexCache};
//! let text = "Lead details\nName:  Jane Doe\nPhone: 202-555-0143\n";
//! assert_eq!(textops::after(text, "Name:").and_then(textops::line), Some("Jane Doe"));
//! let cache = RegexCache::new();
//! let phone = cache.capture(r"Phone:\s*(?P<v>[\d-]+)", text, Group::Auto).unwrap();
//! assert_eq!(phone.as_deref(), Some("202-555-0143"));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use regex::{Regex, RegexBuilder};
use thiserror::Error;

/// The text after the first occurrence of `needle`, or `None` if `needle` does not occur.
pub fn after<'h>(hay: &'h str, needle: &str) -> Option<&'h str> {
    hay.find(needle).map(|i| &hay[i + needle.len()..])
}

/// The text before the first occurrence of `needle`, or `None` if `needle` does not occur.
pub fn before<'h>(hay: &'h str, needle: &str) -> Option<&'h str> {
    hay.find(needle).map(|i| &hay[..i])
}

/// The text between the first `start` and the first `end` after it; `None` if either is
/// missing.
pub fn between<'h>(hay: &'h str, start: &str, end: &str) -> Option<&'h str> {
    after(hay, start).and_then(|rest| before(rest, end))
}

/// [`after`], matching `needle` ignoring ASCII case.
pub fn after_ci<'h>(hay: &'h str, needle: &str) -> Option<&'h str> {
    find_ci(hay, needle).map(|i| &hay[i + needle.len()..])
}

/// [`before`], matching `needle` ignoring ASCII case.
pub fn before_ci<'h>(hay: &'h str, needle: &str) -> Option<&'h str> {
    find_ci(hay, needle).map(|i| &hay[..i])
}

/// [`between`], matching both markers ignoring ASCII case.
pub fn between_ci<'h>(hay: &'h str, start: &str, end: &str) -> Option<&'h str> {
    after_ci(hay, start).and_then(|rest| before_ci(rest, end))
}

/// Byte offset of the first ASCII-case-insensitive occurrence of `needle` in `hay`.
///
/// Because only ASCII letters fold, a match has exactly `needle.len()` bytes and starts on a
/// character boundary.
pub fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    if n.len() > h.len() {
        return None;
    }
    let first = n[0].to_ascii_lowercase();
    (0..=h.len() - n.len()).find(|&i| {
        h[i].to_ascii_lowercase() == first
            && hay.is_char_boundary(i)
            && h[i..i + n.len()].eq_ignore_ascii_case(n)
    })
}

/// The first line that is not blank, trimmed; `None` if every line is blank.
pub fn line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

/// Every line that is not blank, trimmed, in order.
pub fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// Longest regex pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;
/// Compiled-program size limit for one regex (`RegexBuilder::size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// Lazy-DFA cache limit for one regex (`RegexBuilder::dfa_size_limit`).
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// Deepest nesting of groups and repetitions in one regex (`RegexBuilder::nest_limit`).
pub const REGEX_NEST_LIMIT: u32 = 100;
/// Patterns kept by a [`RegexCache`] before it starts over.
pub const REGEX_CACHE_CAPACITY: usize = 1024;

/// Why a regex operation failed. Messages name the pattern (configuration), never the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegexError {
    /// The pattern does not compile; the message is the `regex` crate's.
    #[error("invalid regular expression: {0}")]
    Syntax(String),
    /// The compiled pattern would exceed the size limits.
    #[error("regular expression is too large (compiled size limit {limit} bytes)")]
    TooBig {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The pattern text is longer than [`MAX_PATTERN_LEN`].
    #[error("regular expression is longer than {MAX_PATTERN_LEN} bytes")]
    PatternTooLong,
    /// The requested capture group does not exist in the pattern.
    #[error("the regular expression has no capture group `{0}`")]
    NoSuchGroup(String),
}

/// Which capture group [`RegexCache::capture`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group<'a> {
    /// The group named `v` if the pattern has one, else group 1 if there is one, else the whole
    /// match.
    Auto,
    /// A group by index (0 is the whole match).
    Index(usize),
    /// A group by name.
    Name(&'a str),
}

/// A thread-safe cache of compiled regexes, keyed by pattern text.
///
/// Every pattern is compiled with size limits ([`REGEX_SIZE_LIMIT`], [`REGEX_DFA_SIZE_LIMIT`]) so
/// an untrusted rule file or plugin cannot exhaust memory; the `regex` crate guarantees linear
/// matching time. The cache holds at most [`REGEX_CACHE_CAPACITY`] patterns and is cleared when
/// full. Cloning is cheap and shares the cache.
#[derive(Debug, Clone, Default)]
pub struct RegexCache {
    inner: Arc<Mutex<HashMap<String, Arc<Regex>>>>,
}

impl RegexCache {
    /// An empty cache.
    pub fn new() -> Self {
        RegexCache::default()
    }

    /// Compiles `pattern` with the crate's limits, without caching. Use it to check a pattern
    /// at load time.
    pub fn compile(pattern: &str) -> Result<Regex, RegexError> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(RegexError::PatternTooLong);
        }
        RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(limit) => RegexError::TooBig { limit },
                other => RegexError::Syntax(other.to_string()),
            })
    }

    /// The compiled regex for `pattern`, compiling and caching it on first use.
    pub fn get(&self, pattern: &str) -> Result<Arc<Regex>, RegexError> {
        if let Some(re) = self.inner.lock().get(pattern) {
            return Ok(Arc::clone(re));
        }
        // Compile outside the lock: compilation can take milliseconds.
        let re = Arc::new(Self::compile(pattern)?);
        let mut map = self.inner.lock();
        if map.len() >= REGEX_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(pattern.to_owned(), Arc::clone(&re));
        Ok(re)
    }

    /// Number of cached patterns.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `pattern` matches anywhere in `hay`.
    pub fn is_match(&self, pattern: &str, hay: &str) -> Result<bool, RegexError> {
        Ok(self.get(pattern)?.is_match(hay))
    }

    /// The text of `group` in the first match of `pattern` in `hay`.
    ///
    /// `Ok(None)` means no match, or the group did not take part in the match. A group that
    /// does not exist in the pattern is an error (a mistake in the rule, not in the email).
    pub fn capture(
        &self,
        pattern: &str,
        hay: &str,
        group: Group<'_>,
    ) -> Result<Option<String>, RegexError> {
        let re = self.get(pattern)?;
        let index = group_index(&re, group)?;
        Ok(re
            .captures(hay)
            .and_then(|c| c.get(index))
            .map(|m| m.as_str().to_owned()))
    }

    /// The text of `group` in every non-overlapping match, at most `limit` of them.
    pub fn capture_all(
        &self,
        pattern: &str,
        hay: &str,
        group: Group<'_>,
        limit: usize,
    ) -> Result<Vec<String>, RegexError> {
        let re = self.get(pattern)?;
        let index = group_index(&re, group)?;
        Ok(re
            .captures_iter(hay)
            .filter_map(|c| c.get(index).map(|m| m.as_str().to_owned()))
            .take(limit)
            .collect())
    }
}

/// Resolves `group` to an index of `re`, checking that it exists.
pub fn group_index(re: &Regex, group: Group<'_>) -> Result<usize, RegexError> {
    let by_name = |name: &str| re.capture_names().position(|n| n == Some(name));
    match group {
        Group::Auto => Ok(by_name("v").unwrap_or(if re.captures_len() > 1 { 1 } else { 0 })),
        Group::Index(i) if i < re.captures_len() => Ok(i),
        Group::Index(i) => Err(RegexError::NoSuchGroup(i.to_string())),
        Group::Name(name) => by_name(name).ok_or_else(|| RegexError::NoSuchGroup(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "New lead\n\n  Name:  Jane Doe  \nEmail: jane@example.com\nMessage:\nHi there\n----\nfooter";

    #[test]
    fn substring_ops() {
        assert_eq!(after(TEXT, "Name:").and_then(line), Some("Jane Doe"));
        assert_eq!(before(TEXT, "\n"), Some("New lead"));
        assert_eq!(
            between(TEXT, "Message:", "----").map(str::trim),
            Some("Hi there")
        );
        assert_eq!(after(TEXT, "Fax:"), None);
        assert_eq!(between(TEXT, "Message:", "====="), None);
        assert_eq!(between(TEXT, "=====", "----"), None);
        assert_eq!(line(TEXT), Some("New lead"));
        assert_eq!(line("  \n\t\n"), None);
        assert_eq!(lines("a\n\n b \r\nc"), vec!["a", "b", "c"]);
        assert_eq!(after("abc", ""), Some("abc"));
    }

    #[test]
    fn case_insensitive_ops() {
        assert_eq!(after_ci(TEXT, "NAME:").and_then(line), Some("Jane Doe"));
        assert_eq!(before_ci("xxÄbcABC", "abc"), Some("xxÄbc"));
        assert_eq!(between_ci("<B>hi</b>", "<b>", "</B>"), Some("hi"));
        assert_eq!(after_ci("Ünïcode Name: X", "name:"), Some(" X"));
        assert_eq!(find_ci("ab", "abc"), None);
        assert_eq!(find_ci("ééé", "é"), Some(0));
        // A multi-byte character never splits.
        assert_eq!(after_ci("aéb", "b"), Some(""));
    }

    #[test]
    fn capture_groups() {
        let cache = RegexCache::new();
        let re = r"(?i)e-?mail:\s*(?P<v>\S+@\S+)";
        assert_eq!(
            cache.capture(re, TEXT, Group::Auto).unwrap().as_deref(),
            Some("jane@example.com")
        );
        assert_eq!(
            cache
                .capture(r"Name:\s*(\w+) (\w+)", TEXT, Group::Index(2))
                .unwrap()
                .as_deref(),
            Some("Doe")
        );
        assert_eq!(
            cache
                .capture(r"Name:\s*(\w+)", TEXT, Group::Auto)
                .unwrap()
                .as_deref(),
            Some("Jane")
        );
        assert_eq!(
            cache
                .capture(r"Jane", TEXT, Group::Auto)
                .unwrap()
                .as_deref(),
            Some("Jane")
        );
        assert_eq!(
            cache.capture(r"Fax: (\d+)", TEXT, Group::Auto).unwrap(),
            None
        );
        assert_eq!(
            cache.capture(r"(a)|(b)", "b", Group::Index(1)).unwrap(),
            None
        );
        assert!(matches!(
            cache.capture(r"(a)", "a", Group::Index(2)),
            Err(RegexError::NoSuchGroup(_))
        ));
        assert!(matches!(
            cache.capture(r"(a)", "a", Group::Name("v")),
            Err(RegexError::NoSuchGroup(_))
        ));
        assert_eq!(
            cache
                .capture_all(r"(\w+)@", "a@ b@ c@", Group::Auto, 2)
                .unwrap(),
            vec!["a", "b"]
        );
        assert!(cache.is_match("Doe", TEXT).unwrap());
        assert_eq!(cache.len(), 9);
    }

    #[test]
    fn cache_is_shared_and_bounded() {
        let cache = RegexCache::new();
        let clone = cache.clone();
        let a = cache.get("a+").unwrap();
        let b = clone.get("a+").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..(REGEX_CACHE_CAPACITY + 5) {
            cache.get(&format!("x{i}")).unwrap();
        }
        assert!(cache.len() <= REGEX_CACHE_CAPACITY);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let c = cache.clone();
                std::thread::spawn(move || {
                    c.capture(r"(\d+)", &format!("n{t}"), Group::Auto)
                        .ok()
                        .flatten()
                })
            })
            .collect();
        for (t, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().ok().flatten(), Some(t.to_string()));
        }
    }

    #[test]
    fn hostile_patterns_and_input() {
        let cache = RegexCache::new();
        assert!(matches!(cache.get("("), Err(RegexError::Syntax(_))));
        assert!(matches!(
            cache.get(&"a".repeat(MAX_PATTERN_LEN + 1)),
            Err(RegexError::PatternTooLong)
        ));
        assert!(matches!(
            cache.get(r"\w{1000}{1000}"),
            Err(RegexError::TooBig { .. })
        ));
        assert!(cache.get(&"(".repeat(200)).is_err());
        // Linear time on pathological input.
        let hay = "a".repeat(200_000);
        assert_eq!(cache.capture(r"(a*)*b", &hay, Group::Auto).unwrap(), None);
        let hay = "\u{FFFD}".repeat(10_000) + "Name: X";
        assert_eq!(after_ci(&hay, "name:"), Some(" X"));
    }
}
