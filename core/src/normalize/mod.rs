//! Normalisers: turn a raw string found in an email into a typed, validated value.
//!
//! Every normaliser is a plain function `fn(&str, ...) -> Result<T, NormalizeError>`. The same
//! functions back the DSL's field types and the host functions that WASM plugins import, so a value
//! normalised by a rule file and by a plugin is byte-for-byte the same.
//!
//! | type          | function                     | output                                   |
//! |---------------|------------------------------|------------------------------------------|
//! | `email`       | [`email()`]                  | lower-cased, validated address           |
//! | `phone`       | [`phone()`]                  | E.164 string (`+15555550100`)            |
//! | `url`         | [`url()`]                    | absolute http(s) URL, redirects unwrapped|
//! | `money`       | [`money()`]                  | [`Money`] (decimal string + ISO code)    |
//! | `date`        | [`date()`]                   | [`chrono::NaiveDate`]                    |
//! | `datetime`    | [`datetime()`]               | [`Timestamp`] (UTC, or local if no zone) |
//! | `person_name` | [`person_name()`]            | [`PersonName`] (full, first, last)       |
//! | `int`         | [`int()`]                    | `i64`                                    |
//! | `decimal`     | [`decimal()`]                | canonical decimal string                 |
//! | `enum(...)`   | [`enum_value()`]             | the matching allowed value               |
//!
//! The normalisers that read digits and punctuation (phone, int, decimal, money, email, date)
//! first fold full-width forms to ASCII with [`fold_width`] (`１３８`, `＋`, `＠`, the ideographic
//! space), as CJK forms write them.
//!
//! Errors never contain the input: values found in lead emails are personal data. A
//! [`NormalizeError`] says *what* was wrong ("no `@`", "not a valid number for region US"), and the
//! caller adds *where* (the field name).

use std::borrow::Cow;

mod date;
mod email;
mod enum_value;
mod error;
mod field;
mod money;
mod number;
mod person_name;
mod phone;
mod url;
mod width;

pub use self::date::{DateOrder, date, datetime};
pub use self::email::email;
pub use self::enum_value::enum_value;
pub use self::error::NormalizeError;
pub use self::field::FieldType;
pub use self::money::money;
pub use self::number::{decimal, int};
pub use self::person_name::{person_name, person_name_from_parts};
pub use self::phone::{DEFAULT_REGION, is_known_region, phone, warm_up_in_background};
pub use self::url::url;
pub use self::width::fold_width;

/// Trims `input` and applies the shared checks: not empty, not longer than `max`.
fn prepare(input: &str, max: usize) -> Result<&str, NormalizeError> {
    let s = input.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if s.len() > max {
        return Err(NormalizeError::TooLong { max });
    }
    Ok(s)
}

/// [`prepare`], then [`fold_width`]: for the normalisers that read digits and punctuation
/// (phone, int, decimal, money, email, date), so `１３８－００００` reads like `138-0000`.
fn prepare_folded(input: &str, max: usize) -> Result<Cow<'_, str>, NormalizeError> {
    prepare(input, max).map(fold_width)
}

/// Zero-width and formatting characters that HTML emails sprinkle into values.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Collapses every whitespace run (including no-break spaces) into one ASCII space, drops
/// zero-width characters, and trims. The rule language's `collapse` and the plugins'
/// `text.collapse-whitespace` call it.
pub(crate) fn collapse_ws(s: &str) -> String {
    // What is dropped at the ends never reaches the output: text between elements, often
    // whitespace only, costs no allocation.
    let s = s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    if s.is_empty() {
        return String::new();
    }
    // Printable ASCII with single spaces is already collapsed: copied whole.
    let bytes = s.as_bytes();
    if bytes.iter().all(|&b| b.is_ascii_graphic() || b == b' ')
        && memchr::memmem::find(bytes, b"  ").is_none()
    {
        return s.to_owned();
    }
    collapse_ws_char_by_char(s)
}

/// [`collapse_ws`] without its shortcuts: one character at a time, whatever the input (the
/// reference the shortcuts are tested against).
fn collapse_ws_char_by_char(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            pending = !out.is_empty();
        } else {
            if pending {
                out.push(' ');
                pending = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod fuzz_tests {
    //! Deterministic random inputs through every normaliser: nothing may panic, and errors never
    //! contain the input.

    use super::*;

    /// A tiny linear congruential generator: reproducible without a dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(self.0 >> 33).unwrap_or(0)
        }
    }

    const PIECES: &[&str] = &[
        "0", "1", "9", "12", "555", "2026", "+", "-", "(", ")", ".", ",", "/", ":", " ", "\t", "@",
        "%", "&", "$", "€", "£", "x", "ext", "Jane", "Doe", "mailto:", "http://", "https://",
        "www.", "?u=", "url=", "AM", "PM", "EST", "Z", "T", "Aug", "August", "\u{FFFD}",
        "\u{200B}", "\u{00A0}", "é", "'", "\"", "<", ">", "[", "]", ";", "=", "e", "USD", "Mr.",
        "Jr.", "\n", "#", "*", "\\",
    ];

    #[test]
    fn collapse_ws_agrees_with_collapsing_char_by_char() {
        const WS_PIECES: &[&str] = &[
            " ", "  ", "\t", "\n", "\r\n", "\u{A0}", "\u{200B}", "\u{AD}", "\u{FEFF}", "\u{1}",
            "\u{7F}", "a", "Jane", "é", "-", "\u{3000}",
        ];
        let mut rng = Lcg(0xC011);
        for _ in 0..20_000 {
            let n = rng.next() % 8;
            let s: String = (0..n)
                .map(|_| WS_PIECES[rng.next() % WS_PIECES.len()])
                .collect();
            // The whole string, untrimmed: the shortcuts (trimmed ends, ASCII copied whole)
            // against the character-by-character rule.
            assert_eq!(collapse_ws(&s), collapse_ws_char_by_char(&s), "{s:?}");
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut rng = Lcg(0x5eed);
        // MAILEX_FUZZ_ITERS=200000 for a longer run.
        let iters = std::env::var("MAILEX_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4_000);
        for _ in 0..iters {
            let n = rng.next() % 12;
            let s: String = (0..n).map(|_| PIECES[rng.next() % PIECES.len()]).collect();
            let results = [
                email(&s).err(),
                phone(&s, "US").err(),
                phone(&s, "DE").err(),
                url(&s).err(),
                url::url_with_base(&s, Some("https://example.com/a/")).err(),
                money(&s, Some("EUR")).err(),
                date(&s, DateOrder::DayFirst).err(),
                datetime(&s, DateOrder::MonthFirst).err(),
                person_name(&s).err(),
                int(&s).err(),
                decimal(&s).err(),
                enum_value(&s, &["a", "b"]).err(),
            ];
            for e in results.into_iter().flatten() {
                let msg = e.to_string();
                if s.trim().len() > 3 {
                    assert!(!msg.contains(s.trim()), "error {msg:?} echoes input {s:?}");
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
        use crate::normalize::{self, DateOrder};
        assert_eq!(
            normalize::email(" <Jane.Doe@Example.COM> ").unwrap(),
            "jane.doe@example.com"
        );
        assert_eq!(
            normalize::phone("(202) 555-0143", "US").unwrap(),
            "+12025550143"
        );
        let d = normalize::date("09-07-2018", DateOrder::DayFirst).unwrap();
        assert_eq!(d.to_string(), "2018-07-09");
    }
}
