//! Text operations shared by the DSL and the plugin host: `after`, `before`, `between`, `line`,
//! `lines`, and regex capture through a thread-safe cache of compiled patterns.
//!
//! The substring operations return slices of their input and run in linear time. Their `_ci`
//! variants match the needle ignoring ASCII case (so byte offsets stay exact; non-ASCII letters
//! must match exactly). Regex searches draw from the run's [`Budget`] ([`BudgetedRegex`]).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use thiserror::Error;

use crate::budget::{Budget, Exceeded};

mod budgeted;

pub use self::budgeted::BudgetedRegex;

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
/// character boundary. Linear time (Knuth-Morris-Pratt over case-folded bytes, skipping with
/// `memchr` to candidates for the needle's first byte), whatever the needle and the haystack.
pub fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    find_ci_bytes(hay.as_bytes(), needle.as_bytes())
}

/// [`find_ci`] over bytes that need not be UTF-8 (an attachment's, say).
pub fn find_ci_bytes(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() {
        return Some(0);
    }
    if n.len() > h.len() {
        return None;
    }
    let fold = |b: u8| b.to_ascii_lowercase();
    // fail[i]: length of the longest proper prefix of n[..=i] that is also its suffix. Labels
    // and tags are short: their table lives on the stack.
    let mut short = [0usize; 32];
    let mut long = Vec::new();
    let fail: &mut [usize] = if n.len() <= short.len() {
        &mut short[..n.len()]
    } else {
        long.resize(n.len(), 0);
        &mut long
    };
    let mut k = 0;
    for i in 1..n.len() {
        while k > 0 && fold(n[i]) != fold(n[k]) {
            k = fail[k - 1];
        }
        if fold(n[i]) == fold(n[k]) {
            k += 1;
        }
        fail[i] = k;
    }
    // Where no prefix of the needle is matched, only a byte equal to its first one can start a
    // match: `memchr` skips to the next one (both cases of a letter), many bytes at a time. The
    // skipped bytes would each have left the state at zero, so the search stays linear.
    let first = fold(n[0]);
    let next_start = |from: usize| {
        if first.is_ascii_lowercase() {
            memchr::memchr2(first, first.to_ascii_uppercase(), &h[from..])
        } else {
            memchr::memchr(first, &h[from..])
        }
    };
    let mut matched = 0;
    let mut i = 0;
    while i < h.len() {
        if matched == 0 {
            match next_start(i) {
                Some(skip) => i += skip,
                None => return None,
            }
        }
        let b = h[i];
        while matched > 0 && fold(b) != fold(n[matched]) {
            matched = fail[matched - 1];
        }
        if fold(b) == fold(n[matched]) {
            matched += 1;
            if matched == n.len() {
                return Some(i + 1 - n.len());
            }
        }
        i += 1;
    }
    None
}

/// The first line that is not blank, trimmed; `None` if every line is blank.
///
/// After a label (`after("Email:")`), the first line is the rest of the label's line; when it is
/// blank, the value stands on the next non-blank line, unless that line is itself a label
/// (`Phone:` or `Phone: ...`): then the label's value is empty and the result is `None`, not
/// the next label's line.
pub fn line(s: &str) -> Option<&str> {
    let mut lines = s.lines().map(str::trim);
    let first = lines.next()?;
    if !first.is_empty() {
        return Some(first);
    }
    lines
        .find(|l| !l.is_empty())
        .filter(|next| !looks_like_label(next))
}

/// Whether a (trimmed) line starts with a label: at most 40 bytes and 5 words of letters,
/// digits and `_-./()#&'` before a colon that ends the line or is followed by a space.
/// `Phone:`, `Move-in date: 09/01`, `qualification_numBedrooms:` are labels; `3:00 PM`,
/// `https://x.example`, `Hello, I'd like a tour.` are not.
pub fn looks_like_label(line: &str) -> bool {
    let Some(colon) = line.find(':') else {
        return false;
    };
    let (label, rest) = (&line[..colon], &line[colon + 1..]);
    colon <= 40
        && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        && label.chars().any(char::is_alphabetic)
        && label.split_whitespace().count() <= 5
        && label
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_-./()#&'".contains(c))
}

/// Every line that is not blank, trimmed, in order.
#[cfg(test)]
pub fn lines(s: &str) -> Vec<&str> {
    lines_iter(s).collect()
}

/// [`lines`], lazily: for callers that stop early.
pub fn lines_iter(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
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
#[cfg_attr(
    not(feature = "plugins"),
    allow(dead_code, reason = "only the plugin host uses it")
)]
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
    /// The run's budget was spent during the search.
    #[error(transparent)]
    Budget(#[from] Exceeded),
}

/// Which capture group [`RegexCache::capture`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group<'a> {
    /// The group named `v` if the pattern has one, else group 1 if there is one, else the whole
    /// match.
    Auto,
    /// A group by index (0 is the whole match; only the unit tests ask for one).
    #[cfg(test)]
    Index(usize),
    /// A group by name.
    Name(&'a str),
}

/// A thread-safe cache of compiled regexes, keyed by pattern text.
///
/// Every pattern is compiled with size limits ([`REGEX_SIZE_LIMIT`], [`REGEX_DFA_SIZE_LIMIT`]) so
/// an untrusted rule file or plugin cannot exhaust memory, and every search runs as a
/// [`BudgetedRegex`], so it stops when the run's [`Budget`] is spent. The cache holds at most
/// [`REGEX_CACHE_CAPACITY`] patterns and is cleared when full. Cloning is cheap and shares the
/// cache.
#[cfg_attr(
    not(feature = "plugins"),
    allow(dead_code, reason = "only the plugin host uses it")
)]
#[derive(Debug, Clone, Default)]
pub struct RegexCache {
    inner: Arc<Mutex<HashMap<String, Arc<BudgetedRegex>>>>,
}

#[cfg_attr(
    not(feature = "plugins"),
    allow(dead_code, reason = "only the plugin host uses it")
)]
impl RegexCache {
    /// An empty cache.
    pub fn new() -> Self {
        RegexCache::default()
    }

    /// Compiles `pattern` with the crate's limits, without caching. Use it to check a pattern
    /// at load time.
    #[cfg(test)]
    pub fn compile(pattern: &str) -> Result<BudgetedRegex, RegexError> {
        BudgetedRegex::new(pattern)
    }

    /// The compiled regex for `pattern`, compiling and caching it on first use.
    #[cfg(test)]
    pub fn get(&self, pattern: &str) -> Result<Arc<BudgetedRegex>, RegexError> {
        if let Some(re) = self.inner.lock().get(pattern) {
            return Ok(Arc::clone(re));
        }
        // Compile outside the lock: compilation can take milliseconds.
        let re = Arc::new(Self::compile(pattern)?);
        self.insert(pattern, &re);
        Ok(re)
    }

    /// [`RegexCache::get`] during a run: a pattern not cached yet is compiled under `budget`
    /// ([`BudgetedRegex::new_within`]).
    pub fn get_within(
        &self,
        pattern: &str,
        budget: &Budget,
    ) -> Result<Arc<BudgetedRegex>, RegexError> {
        if let Some(re) = self.inner.lock().get(pattern) {
            return Ok(Arc::clone(re));
        }
        let re = Arc::new(BudgetedRegex::new_within(pattern, budget)?);
        self.insert(pattern, &re);
        Ok(re)
    }

    fn insert(&self, pattern: &str, re: &Arc<BudgetedRegex>) {
        let mut map = self.inner.lock();
        if map.len() >= REGEX_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(pattern.to_owned(), Arc::clone(re));
    }

    /// Number of cached patterns.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// Whether `pattern` matches anywhere in `hay`.
    #[cfg(test)]
    pub fn is_match(&self, pattern: &str, hay: &str, budget: &Budget) -> Result<bool, RegexError> {
        Ok(self.get(pattern)?.is_match(hay, budget)?)
    }

    /// The text of `group` in the first match of `pattern` in `hay`.
    ///
    /// `Ok(None)` means no match, or the group did not take part in the match. A group that
    /// does not exist in the pattern is an error (a mistake in the rule, not in the email).
    #[cfg(test)]
    pub fn capture(
        &self,
        pattern: &str,
        hay: &str,
        group: Group<'_>,
        budget: &Budget,
    ) -> Result<Option<String>, RegexError> {
        let re = self.get(pattern)?;
        let index = re.group_index(group)?;
        Ok(re
            .capture(hay, index, budget)?
            .map(|span| hay[span].to_owned()))
    }

    /// The text of `group` in every non-overlapping match, at most `limit` of them.
    #[cfg(test)]
    pub fn capture_all(
        &self,
        pattern: &str,
        hay: &str,
        group: Group<'_>,
        limit: usize,
        budget: &Budget,
    ) -> Result<Vec<String>, RegexError> {
        let re = self.get(pattern)?;
        let index = re.group_index(group)?;
        let mut out = Vec::new();
        let mut failed = None;
        re.for_each_match(hay, budget, |m| {
            let span = if index == 0 {
                Some(m)
            } else {
                match re.groups_at(hay, m, budget) {
                    Ok(groups) => groups.into_iter().nth(index).flatten(),
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            };
            if let Some(span) = span {
                out.push(hay[span].to_owned());
            }
            out.len() < limit
        })?;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Budget {
        Budget::unlimited()
    }

    const TEXT: &str = "New lead\n\n  Name:  Jane Doe  \nEmail: jane@example.com\nMessage:\nHi there\n----\nfooter";

    #[test]
    fn an_empty_value_never_takes_the_next_labels_line() {
        let form = "email:\nqualification_numBedrooms: 2\nphone:\n\n  Move-in date:\nnote:\n\nCall me at 3:00 PM\n";
        assert_eq!(after(form, "email:").and_then(line), None);
        assert_eq!(after(form, "phone:").and_then(line), None);
        // A label alone on its line still reads the value below it.
        assert_eq!(
            after(form, "note:").and_then(line),
            Some("Call me at 3:00 PM")
        );
        assert_eq!(
            after(form, "qualification_numBedrooms:").and_then(line),
            Some("2")
        );
        for label in [
            "Phone:",
            "Move-in date: 09/01",
            "qualification_numBedrooms:",
            "E-mail (work): x",
        ] {
            assert!(looks_like_label(label), "{label}");
        }
        for value in [
            "3:00 PM",
            "https://x.example",
            "Hello, I'd like a tour.",
            "a b c d e f: g",
            ":",
        ] {
            assert!(!looks_like_label(value), "{value}");
        }
    }

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
            cache
                .capture(re, TEXT, Group::Auto, &b())
                .unwrap()
                .as_deref(),
            Some("jane@example.com")
        );
        assert_eq!(
            cache
                .capture(r"Name:\s*(\w+) (\w+)", TEXT, Group::Index(2), &b())
                .unwrap()
                .as_deref(),
            Some("Doe")
        );
        assert_eq!(
            cache
                .capture(r"Name:\s*(\w+)", TEXT, Group::Auto, &b())
                .unwrap()
                .as_deref(),
            Some("Jane")
        );
        assert_eq!(
            cache
                .capture(r"Jane", TEXT, Group::Auto, &b())
                .unwrap()
                .as_deref(),
            Some("Jane")
        );
        assert_eq!(
            cache
                .capture(r"Fax: (\d+)", TEXT, Group::Auto, &b())
                .unwrap(),
            None
        );
        assert_eq!(
            cache
                .capture(r"(a)|(b)", "b", Group::Index(1), &b())
                .unwrap(),
            None
        );
        assert!(matches!(
            cache.capture(r"(a)", "a", Group::Index(2), &b()),
            Err(RegexError::NoSuchGroup(_))
        ));
        assert!(matches!(
            cache.capture(r"(a)", "a", Group::Name("v"), &b()),
            Err(RegexError::NoSuchGroup(_))
        ));
        assert_eq!(
            cache
                .capture_all(r"(\w+)@", "a@ b@ c@", Group::Auto, 2, &b())
                .unwrap(),
            vec!["a", "b"]
        );
        assert!(cache.is_match("Doe", TEXT, &b()).unwrap());
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
                    c.capture(
                        r"(\d+)",
                        &format!("n{t}"),
                        Group::Auto,
                        &Budget::unlimited(),
                    )
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
        assert_eq!(
            cache.capture(r"(a*)*b", &hay, Group::Auto, &b()).unwrap(),
            None
        );
        let hay = "\u{FFFD}".repeat(10_000) + "Name: X";
        assert_eq!(after_ci(&hay, "name:"), Some(" X"));
        // Linear-time case-insensitive search on a needle that almost matches everywhere.
        let hay = "a".repeat(1 << 20);
        let needle = "A".repeat(4000) + "b";
        assert_eq!(find_ci(&hay, &needle), None);
        assert_eq!(find_ci("xxaAab", "AAB"), Some(3));
        assert_eq!(find_ci("abababac", "ABAC"), Some(4));
    }

    /// `find_ci` finds what a search over lower-cased copies finds, on every haystack and needle
    /// of a small alphabet (both cases of a letter, a non-letter, a multi-byte character).
    #[test]
    fn find_ci_agrees_with_a_search_over_lowercased_copies() {
        const ALPHABET: [&str; 5] = ["a", "A", "b", "-", "é"];
        fn all(len: usize) -> Vec<String> {
            (0..len).fold(vec![String::new()], |words, _| {
                let longer = words
                    .iter()
                    .flat_map(|w| ALPHABET.iter().map(move |c| format!("{w}{c}")));
                words.iter().cloned().chain(longer).collect()
            })
        }
        let (hays, needles) = (all(6), all(3));
        for hay in &hays {
            for needle in &needles {
                let expected = hay.to_ascii_lowercase().find(&needle.to_ascii_lowercase());
                assert_eq!(find_ci(hay, needle), expected, "{hay:?} {needle:?}");
            }
        }
    }

    /// Needles longer than the table kept on the stack take the same path on the heap.
    #[test]
    fn find_ci_handles_needles_longer_than_its_stack_table() {
        let needle = format!("{}B", "aA".repeat(20));
        let near_miss = "aa".repeat(20);
        let hay = format!("x{near_miss}{}y", needle.to_ascii_lowercase());
        assert_eq!(find_ci(&hay, &needle), Some(1 + near_miss.len()));
        assert_eq!(find_ci(&near_miss, &needle), None);
        assert_eq!(find_ci_bytes(b"\xff<ADF>", b"<adf"), Some(1));
    }

    /// A budgeted search gives what the `regex` crate gives: first match, captures, every
    /// match (with its empty-match rules), over patterns and haystacks built to disagree.
    #[test]
    fn budgeted_searches_agree_with_the_regex_crate() {
        const PATTERNS: &[&str] = &[
            r"(?i)e-?mail:\s*(?P<v>\S+@\S+)",
            r"a*",
            r"",
            r"\b\w+\b",
            r"(?m)^\s*(\w+):\s*(.*)$",
            r"(a|ab)(c|bcd)(d*)",
            r"é|\d{2,}",
            r"x*?y?",
            r"(?s)<td>(.*?)</td>",
            r"\B",
            r"$",
            r"(?U)a+",
            r"[^a]",
        ];
        const HAYS: &[&str] = &[
            "",
            "abcd",
            "Email: Jane@Example.com\nPhone: 12",
            "ééa 12 b é3x",
            "<td>a</td><td>é</td>",
            "Name: Jane Doe\nEmail:\n",
            "xxy xyé",
            "aaa\u{FFFD}aa",
        ];
        let budget = Budget::unlimited();
        for pattern in PATTERNS {
            let ours = BudgetedRegex::new(pattern).unwrap();
            let theirs = regex::Regex::new(pattern).unwrap();
            for hay in HAYS {
                let want: Vec<(usize, usize)> = theirs
                    .find_iter(hay)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                let mut got = Vec::new();
                ours.for_each_match(hay, &budget, |m| {
                    got.push((m.start, m.end));
                    true
                })
                .unwrap();
                assert_eq!(got, want, "all matches of {pattern:?} in {hay:?}");
                assert_eq!(
                    ours.find(hay, &budget).unwrap(),
                    theirs.find(hay).map(|m| m.range()),
                    "first match of {pattern:?} in {hay:?}"
                );
                assert_eq!(ours.is_match(hay, &budget).unwrap(), theirs.is_match(hay));
                let want: Option<Vec<Option<std::ops::Range<usize>>>> = theirs
                    .captures(hay)
                    .map(|c| c.iter().map(|g| g.map(|m| m.range())).collect());
                assert_eq!(
                    ours.captures(hay, &budget).unwrap(),
                    want,
                    "captures of {pattern:?} in {hay:?}"
                );
            }
        }
    }

    /// The PikeVM-hostile case (Unicode `\b` next to non-ASCII text over a large haystack)
    /// fails the budget at once instead of running for seconds; the lazy DFA's cases stop at
    /// the deadline.
    #[test]
    fn budgeted_searches_stop_when_the_budget_is_spent() {
        let hay = "é a".repeat(400_000);
        let re = BudgetedRegex::new(r"(?:\b\w*){1,30}X").unwrap();
        let budget = Budget::new(std::time::Duration::from_millis(50), u64::MAX);
        assert_eq!(re.is_match(&hay, &budget), Err(Exceeded::Time));
        // A search the lazy DFA runs: spent budget, checked between chunks.
        let re = BudgetedRegex::new(r"[a-z]{1,40}[0-9]{1,40}X").unwrap();
        let budget = Budget::new(std::time::Duration::ZERO, u64::MAX);
        assert_eq!(re.find(&hay, &budget), Err(Exceeded::Time));
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() -> Result<(), Box<dyn std::error::Error>> {
        use crate::budget::Budget;
        use crate::textops::{self, Group, RegexCache};
        let text = "Lead details\nName:  Jane Doe\nPhone: 202-555-0143\n";
        assert_eq!(
            textops::after(text, "Name:").and_then(textops::line),
            Some("Jane Doe")
        );
        let cache = RegexCache::new();
        let budget = Budget::unlimited();
        let phone = cache
            .capture(r"Phone:\s*(?P<v>[\d-]+)", text, Group::Auto, &budget)
            .unwrap();
        assert_eq!(phone.as_deref(), Some("202-555-0143"));
        Ok(())
    }
}
