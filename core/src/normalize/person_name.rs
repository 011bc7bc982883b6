//! `person_name`: full, first and last name from the ways forms and CRMs write them.

use super::{NormalizeError, collapse_ws, prepare};
use crate::record::PersonName;

fn err(reason: &'static str) -> NormalizeError {
    NormalizeError::PersonName { reason }
}

const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam",
];
const SUFFIXES: &[&str] = &[
    "jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "dds",
];

/// Words that belong to the last name when they come before it (`van der Berg`, `de la Cruz`,
/// `bin Salman`), compared ignoring case.
const PARTICLES: &[&str] = &[
    "af", "al", "bin", "binti", "bint", "da", "das", "de", "degli", "dei", "del", "della", "der",
    "des", "di", "dos", "du", "el", "ibn", "la", "le", "les", "st", "ten", "ter", "van", "von",
    "zu",
];

/// The last name from the words after the first name: the last word, with the particles
/// right before it (`José van der Berg` → `van der Berg`).
fn last_name(after_first: &[&str]) -> String {
    let Some((last, before)) = after_first.split_last() else {
        return String::new();
    };
    let particles = before
        .iter()
        .rev()
        .take_while(|t| PARTICLES.contains(&bare(t).as_str()))
        .count();
    let mut words = before[before.len() - particles..].to_vec();
    words.push(last);
    words.join(" ")
}

fn bare(token: &str) -> String {
    token.trim_end_matches('.').to_lowercase()
}

/// Normalises a person's name.
///
/// Whitespace is collapsed and surrounding quotes removed. `"Doe, Jane"` (exactly one comma, and
/// what follows is not a suffix such as `Jr.`) is read as last-name-first. The first name is the
/// first word after any honorific (`Mr.`, `Dr.`); the last name is the last word before any suffix
/// (`Jr.`, `III`), with the particles right before it (`van der Berg`, `de la Cruz`, `von`,
/// `da`, `di`, `le`, `bin`, ...). A single word is a first name only. The case is kept as written. A name
/// written only in Han, kana or Hangul is read family name first (`山田 太郎`: last name `山田`,
/// first name `太郎`); written without a space it cannot be split and is a first name only.
pub fn person_name(input: &str) -> Result<PersonName, NormalizeError> {
    let s = collapse_ws(prepare(input, 256)?);
    let s = s.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | ';' | ':' | '-' | ' '));
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if s.contains('@') {
        return Err(err("looks like an email address"));
    }
    if s.contains("://") || s.starts_with("www.") {
        return Err(err("looks like a URL"));
    }
    if s.chars().any(|c| c.is_ascii_digit()) {
        return Err(err("contains digits"));
    }
    if s.chars().any(|c| {
        c.is_control() || matches!(c, '<' | '>' | '{' | '}' | '[' | ']' | '|' | '\u{FFFD}')
    }) {
        return Err(err("contains unexpected characters"));
    }
    if !s.chars().any(char::is_alphabetic) {
        return Err(err("contains no letters"));
    }
    let full = match s.split_once(',') {
        Some((last, first)) if !first.contains(',') => {
            let (last, first) = (last.trim(), first.trim());
            let first_is_suffix = first
                .split(' ')
                .all(|t| SUFFIXES.contains(&bare(t).as_str()));
            if first_is_suffix || first.is_empty() || last.is_empty() {
                format!("{last} {first}").trim().to_string()
            } else {
                format!("{first} {last}")
            }
        }
        Some(_) => return Err(err("too many commas")),
        None => s.to_string(),
    };
    let tokens: Vec<&str> = full.split(' ').collect();
    let start = tokens
        .iter()
        .position(|t| !HONORIFICS.contains(&bare(t).as_str()))
        .unwrap_or(tokens.len());
    let end = tokens
        .iter()
        .rposition(|t| !SUFFIXES.contains(&bare(t).as_str()))
        .map_or(0, |i| i + 1);
    let core: &[&str] = if start < end {
        &tokens[start..end]
    } else {
        &[]
    };
    let (first, last) = match core {
        [] => (None, None),
        [one] => (Some((*one).to_string()), None),
        // Chinese, Japanese and Korean names are written family name first.
        [family, .., given] if is_cjk_name(&full) => {
            (Some((*given).to_string()), Some((*family).to_string()))
        }
        [first, rest @ ..] => (Some((*first).to_string()), Some(last_name(rest))),
    };
    Ok(PersonName { full, first, last })
}

/// Whether every letter of `name` is Han, kana or Hangul: a name written family name first.
fn is_cjk_name(name: &str) -> bool {
    name.chars().filter(|c| c.is_alphabetic()).all(|c| {
        matches!(c,
            '\u{3005}' // 々
            | '\u{3040}'..='\u{30FF}' // hiragana, katakana
            | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' // Han
            | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7AF}' // Hangul
        )
    })
}

/// Builds a name from separate first and last parts (as ADF's `name part="first"` and
/// `part="last"` give them). Either part may be missing, not both.
pub fn person_name_from_parts(
    first: Option<&str>,
    last: Option<&str>,
) -> Result<PersonName, NormalizeError> {
    let clean = |p: Option<&str>| -> Result<Option<String>, NormalizeError> {
        match p.map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(s) => {
                let one = person_name(s)?;
                Ok(Some(one.full))
            }
            None => Ok(None),
        }
    };
    let first = clean(first)?;
    let last = clean(last)?;
    let full = match (&first, &last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(f), None) => f.clone(),
        (None, Some(l)) => l.clone(),
        (None, None) => return Err(NormalizeError::Empty),
    };
    Ok(PersonName { full, first, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, Option<String>, Option<String>) {
        let n = person_name(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        (n.full, n.first, n.last)
    }

    fn p(
        full: &str,
        first: Option<&str>,
        last: Option<&str>,
    ) -> (String, Option<String>, Option<String>) {
        (full.into(), first.map(Into::into), last.map(Into::into))
    }

    #[test]
    fn names() {
        assert_eq!(parts("Jane Doe"), p("Jane Doe", Some("Jane"), Some("Doe")));
        assert_eq!(
            parts("  Jane \n\t Q.   Doe "),
            p("Jane Q. Doe", Some("Jane"), Some("Doe"))
        );
        assert_eq!(parts("Doe, Jane"), p("Jane Doe", Some("Jane"), Some("Doe")));
        assert_eq!(
            parts("Doe, Jane Q."),
            p("Jane Q. Doe", Some("Jane"), Some("Doe"))
        );
        assert_eq!(
            parts("John Doe, Jr."),
            p("John Doe Jr.", Some("John"), Some("Doe"))
        );
        assert_eq!(
            parts("Dr. Maria de la Cruz"),
            p("Dr. Maria de la Cruz", Some("Maria"), Some("de la Cruz"))
        );
        assert_eq!(parts("Jane"), p("Jane", Some("Jane"), None));
        assert_eq!(
            parts("\"José Müller\""),
            p("José Müller", Some("José"), Some("Müller"))
        );
        assert_eq!(
            parts("O'Brien, Seán"),
            p("Seán O'Brien", Some("Seán"), Some("O'Brien"))
        );
        assert_eq!(parts("Mr."), p("Mr.", None, None));
    }

    #[test]
    fn particles_stay_in_the_last_name() {
        for (input, first, last) in [
            ("José van der Berg", "José", "van der Berg"),
            ("van der Berg, José", "José", "van der Berg"),
            ("Ana Maria de la Cruz", "Ana", "de la Cruz"),
            ("Ursula von der Leyen", "Ursula", "von der Leyen"),
            ("Luiz da Silva", "Luiz", "da Silva"),
            ("Dr. Marco di Stefano Jr.", "Marco", "di Stefano"),
            ("Jean Le Pen", "Jean", "Le Pen"),
            ("Mohammed bin Salman", "Mohammed", "bin Salman"),
            ("Robert De Niro", "Robert", "De Niro"),
            ("Mary Le", "Mary", "Le"),
            ("Jane Q. Doe", "Jane", "Doe"),
        ] {
            let n = person_name(input).unwrap();
            assert_eq!(
                (n.first.as_deref(), n.last.as_deref()),
                (Some(first), Some(last)),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "  ",
            "jane@example.com",
            "https://example.com",
            "555 1234",
            "a, b, c",
            "<b>",
            "--",
        ] {
            assert!(person_name(s).is_err(), "input {s:?}");
        }
    }

    #[test]
    fn from_parts() {
        let n = person_name_from_parts(Some("Jane"), None).unwrap();
        assert_eq!((n.full.as_str(), n.last), ("Jane", None));
        assert!(person_name_from_parts(None, Some("  ")).is_err());
        assert!(person_name_from_parts(Some("j@x.test"), Some("Doe")).is_err());
    }

    #[test]
    fn hostile_input() {
        assert!(person_name(&"a ".repeat(100_000)).is_err());
        assert!(person_name("Jane \u{FFFD}Doe").is_err());
        assert!(person_name(&",".repeat(200)).is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::person_name;
        let n = person_name("Doe,  Jane").unwrap();
        assert_eq!(n.full, "Jane Doe");
        assert_eq!(
            (n.first.as_deref(), n.last.as_deref()),
            (Some("Jane"), Some("Doe"))
        );
        let n = person_name("José van der Berg").unwrap();
        assert_eq!(
            (n.first.as_deref(), n.last.as_deref()),
            (Some("José"), Some("van der Berg"))
        );
        let n = person_name("山田\u{3000}太郎").unwrap();
        assert_eq!(n.full, "山田 太郎");
        assert_eq!(
            (n.first.as_deref(), n.last.as_deref()),
            (Some("太郎"), Some("山田"))
        );
    }

    #[test]
    fn example_2() {
        use crate::normalize::person_name_from_parts;
        let n = person_name_from_parts(Some(" Jane "), Some("Doe")).unwrap();
        assert_eq!(n.full, "Jane Doe");
    }
}
