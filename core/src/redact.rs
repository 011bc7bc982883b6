//! The one redaction rule for text mailex did not write itself but passes on: panic messages
//! (the host's and a plugin's), a plugin's own error text in records, and plugin log lines.
//!
//! Such text can quote the data being processed (`byte index 3 is not a char boundary ... of
//! `Jane``, `no phone for "Jane Doe" <jane@example.com>`), which is personal data. What is kept:
//!
//! - quoted parts (`` `...` ``, `'...'`, `"..."`, `“...”`, `‘...’`, `«...»`) become `[…]`; an
//!   unclosed quote withholds the rest of the text;
//! - a word with an `@` becomes `[email]`, a word with a URL scheme or `www.` becomes `[url]`,
//!   and a word, or a run of words of digits and `+-.()/,;:`, with 5 or more digits becomes
//!   `[number]` (phone numbers however spaced, ids, dates of birth);
//! - control characters (line breaks included) become spaces, so one message stays one line;
//! - at most [`MAX_REDACTED_CHARS`] characters are kept.
//!
//! When anything was withheld or cut, ` [details withheld]` is appended. A plain explanation
//! such as `no lead card in this email` passes unchanged. (A name written out without quotes
//! cannot be told from other words: plugin authors must not log data; see docs/plugins.md.)

/// Most characters a redacted text keeps.
pub const MAX_REDACTED_CHARS: usize = 200;

/// Digits in one word from which it is withheld as a number.
const MIN_DIGITS_WITHHELD: usize = 5;

/// Redacts `text` by the rule of the [module documentation](self).
pub fn redact(text: &str) -> String {
    let mut out = Redacted::default();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let mut previous: Option<char> = None;
    let mut complete = true;
    while let Some(c) = chars.next() {
        if out.len > MAX_REDACTED_CHARS {
            complete = false;
            break;
        }
        if let Some(close) = closing_quote(c, previous, chars.peek().copied()) {
            out.withheld = true;
            if chars.by_ref().any(|d| d == close) {
                word.push_str("[…]");
                previous = Some(close);
                continue;
            }
            // Unclosed: the rest is withheld.
            complete = false;
            break;
        }
        if c.is_whitespace() || c.is_control() {
            out.word(&mut word);
        } else {
            word.push(c);
        }
        previous = Some(c);
    }
    if complete || !word.contains("[…]") {
        out.word(&mut word);
    }
    out.finish_number();
    let mut kept: String = out.text.chars().take(MAX_REDACTED_CHARS).collect();
    if out.withheld || !complete || kept.len() < out.text.len() {
        kept = format!("{} [details withheld]", kept.trim_end());
    }
    kept.trim().to_owned()
}

/// The redacted text as it is built, word by word.
#[derive(Default)]
struct Redacted {
    text: String,
    /// Characters in `text`.
    len: usize,
    /// Words of digits and separators in a row (a phone number written `202 555 0143`), held
    /// until a word of another kind shows whether together they are a number.
    number: Vec<String>,
    withheld: bool,
}

impl Redacted {
    fn push(&mut self, s: &str) {
        if !self.text.is_empty() {
            self.text.push(' ');
            self.len += 1;
        }
        self.text.push_str(s);
        self.len += s.chars().count();
    }

    /// Takes one complete word (and empties it).
    fn word(&mut self, word: &mut String) {
        if word.is_empty() {
            return;
        }
        let w = std::mem::take(word);
        if w.chars().any(|c| c.is_ascii_digit())
            && w.chars()
                .all(|c| c.is_ascii_digit() || "+-.()/,;:".contains(c))
        {
            self.number.push(w);
            return;
        }
        self.finish_number();
        let lower = w.to_ascii_lowercase();
        let placeholder = if w.contains('@') {
            Some("[email]")
        } else if lower.contains("://") || lower.starts_with("www.") {
            Some("[url]")
        } else if w.chars().filter(char::is_ascii_digit).count() >= MIN_DIGITS_WITHHELD {
            Some("[number]")
        } else {
            None
        };
        match placeholder {
            Some(p) => {
                self.withheld = true;
                self.push(p);
            }
            None => self.push(&w),
        }
    }

    /// Writes the held number words: as `[number]` when they hold enough digits together.
    fn finish_number(&mut self) {
        let words = std::mem::take(&mut self.number);
        let digits: usize = words
            .iter()
            .map(|w| w.chars().filter(char::is_ascii_digit).count())
            .sum();
        if digits >= MIN_DIGITS_WITHHELD {
            self.withheld = true;
            self.push("[number]");
        } else {
            for w in &words {
                self.push(w);
            }
        }
    }
}

/// The closing quote for an opening quote `c` (an apostrophe between two letters, as in
/// `can't`, is not a quote).
fn closing_quote(c: char, previous: Option<char>, next: Option<char>) -> Option<char> {
    match c {
        '`' => Some('`'),
        '"' => Some('"'),
        '\'' if previous.is_some_and(char::is_alphanumeric)
            && next.is_some_and(char::is_alphanumeric) =>
        {
            None
        }
        '\'' => Some('\''),
        '“' => Some('”'),
        '‘' => Some('’'),
        '«' => Some('»'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes() {
        for s in [
            "no lead card in this email",
            "3 fields",
            "can't find the phone",
            "",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn quotes_and_data_are_withheld() {
        assert_eq!(
            redact("byte index 3 is not a char boundary; it is inside 'é' (bytes 2..4) of `Jane`"),
            "byte index 3 is not a char boundary; it is inside […] (bytes 2..4) of […] [details withheld]"
        );
        assert_eq!(
            redact("panicked at src/lib.rs:20:9:\nno phone for “Jane Doe”, call +1 202-555-0143"),
            "panicked at src/lib.rs:20:9: no phone for […], call [number] [details withheld]"
        );
        assert_eq!(
            redact("see https://crm.example/lead?id=1 or www.example.com"),
            "see [url] or [url] [details withheld]"
        );
        assert_eq!(redact("name: 'Jane"), "name: [details withheld]");
    }

    #[test]
    fn long_and_multi_line_text_is_cut_to_one_line() {
        let long = "word ".repeat(100);
        let r = redact(&long);
        assert!(r.ends_with("[details withheld]"), "{r}");
        assert!(r.chars().count() <= MAX_REDACTED_CHARS + 20);
        assert!(!redact("a\nb\r\nc\u{1b}[31m").contains(['\n', '\r', '\u{1b}']));
    }

    #[test]
    fn nothing_of_a_quoted_value_survives() {
        for value in ["Jane Doe", "jane@example.com", "202-555-0143"] {
            for quote in ['`', '\'', '"'] {
                let r = redact(&format!("bad value {quote}{value}{quote} here"));
                for part in value.split(['@', '-', ' ']) {
                    assert!(!r.contains(part), "{r}");
                }
            }
        }
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::redact::redact;
        assert_eq!(redact("no lead card"), "no lead card");
        assert_eq!(
            redact("bad phone for \"Jane Doe\" <jane@example.com>: 202 555 0143"),
            "bad phone for […] [email] [number] [details withheld]"
        );
        assert_eq!(redact("index 3 of `Jan"), "index 3 of [details withheld]");
    }
}
