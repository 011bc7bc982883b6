//! `email`: trim, strip `mailto:` and angle brackets, lower-case, validate.

use super::{NormalizeError, prepare_folded};

/// Longest address accepted (RFC 5321 path limit).
const MAX_LEN: usize = 254;

fn err(reason: &'static str) -> NormalizeError {
    NormalizeError::Email { reason }
}

/// Normalises an email address.
///
/// Accepts `jane@example.com`, `<jane@example.com>`, `Jane Doe <jane@example.com>`,
/// `mailto:jane@example.com?subject=Hi` and surrounding quotes or punctuation; returns the bare
/// address, lower-cased. The local part must be a dot-atom (no quoted local parts), and the
/// domain must have at least two labels of letters, digits and hyphens (internationalised labels
/// are accepted as Unicode).
pub fn email(input: &str) -> Result<String, NormalizeError> {
    let folded = prepare_folded(input, 1024)?;
    let mut s: &str = &folded;
    // "Name <addr>" or "<addr>": take what is inside the last pair of angle brackets.
    if let (Some(open), Some(close)) = (s.rfind('<'), s.rfind('>'))
        && open < close
    {
        s = &s[open + 1..close];
    }
    s = s.trim();
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        s = &s[7..];
    }
    if let Some(q) = s.find('?') {
        s = &s[..q];
    }
    let s = s.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | '<' | '>' | ',' | ';' | '.' | '(' | ')' | '[' | ']'
            )
    });
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if s.len() > MAX_LEN {
        return Err(NormalizeError::TooLong { max: MAX_LEN });
    }
    let lower = s.to_lowercase();
    let (local, domain) = lower.rsplit_once('@').ok_or(err("no `@`"))?;
    validate_local(local)?;
    validate_domain(domain)?;
    Ok(lower)
}

fn validate_local(local: &str) -> Result<(), NormalizeError> {
    if local.is_empty() {
        return Err(err("nothing before the `@`"));
    }
    if local.len() > 64 {
        return Err(err("the part before the `@` is longer than 64 bytes"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(err("misplaced dot before the `@`"));
    }
    let ok = local.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+-/=?^_`{|}~.".contains(c)
            || (!c.is_ascii() && c.is_alphanumeric())
    });
    if !ok {
        return Err(err("invalid character before the `@`"));
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), NormalizeError> {
    if domain.is_empty() {
        return Err(err("nothing after the `@`"));
    }
    if domain.len() > 253 {
        return Err(err("the domain is too long"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(err("the domain has no dot"));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(err("empty or overlong domain label"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(err("a domain label starts or ends with a hyphen"));
        }
        if !label.chars().all(|c| c == '-' || c.is_alphanumeric()) {
            return Err(err("invalid character in the domain"));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(err("the domain ends in a number"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for (input, want) in [
            ("jane@example.com", "jane@example.com"),
            ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
            ("<jane@example.com>", "jane@example.com"),
            (
                "Jane Doe <jane+leads@example.com>",
                "jane+leads@example.com",
            ),
            ("mailto:jane@example.com", "jane@example.com"),
            ("MailTo:jane@example.com?subject=Hello", "jane@example.com"),
            ("\"jane@example.com\",", "jane@example.com"),
            ("jane@mail.example.co.uk.", "jane@mail.example.co.uk"),
            ("\u{200B}jane@example.com\u{FEFF}", "jane@example.com"),
            ("o'brien@example.test", "o'brien@example.test"),
        ] {
            assert_eq!(email(input).as_deref(), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for input in [
            "",
            "   ",
            "jane.example.com",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane@@example.com",
            "ja ne@example.com",
            "jane..doe@example.com",
            "jane@-example.com",
            "jane@example..com",
            "jane@127.0.0.1",
            "<>",
            "mailto:",
        ] {
            assert!(email(input).is_err(), "input {input:?} was accepted");
        }
    }

    #[test]
    fn error_does_not_echo_value() {
        let e = email("secret.person@@example.com").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn hostile_input() {
        let huge = "a".repeat(1_000_000) + "@example.com";
        assert!(email(&huge).is_err());
        let many_at = "@".repeat(10_000);
        assert!(email(&many_at).is_err());
        assert!(email("\u{FFFD}\u{FFFD}@example.com").is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() -> Result<(), Box<dyn std::error::Error>> {
        use crate::normalize::email;
        assert_eq!(
            email("MAILTO:Jane@Example.com?subject=hi").unwrap(),
            "jane@example.com"
        );
        assert!(email("jane.example.com").is_err());
        Ok(())
    }
}
