//! `int` and `decimal`: numbers as written by people, with thousands separators.

use super::{NormalizeError, prepare_folded};

/// Normalises an integer: `1,234`, `+42`, `-7`, `1 000`, `1.234.567`, `42.0`.
pub fn int(input: &str) -> Result<i64, NormalizeError> {
    let err = |reason| NormalizeError::Int { reason };
    let d = parse_decimal(&prepare_folded(input, 64)?).map_err(err)?;
    let (whole, frac) = d.split_once('.').unwrap_or((&d, ""));
    if frac.chars().any(|c| c != '0') {
        return Err(err("has a fractional part"));
    }
    whole.parse::<i64>().map_err(|_| err("out of range"))
}

/// Normalises a decimal number to a canonical string: optional `-`, digits, optionally `.` and
/// digits, no exponent (`1.234,56` -> `1234.56`, `1,234.50` -> `1234.50`, `.5` -> `0.5`).
///
/// The decimal separator is the last `.` or `,` when both appear; a lone `,` followed by exactly
/// three digits is a thousands separator (`1,234` is 1234), otherwise a decimal comma (`12,5`);
/// several `.` are thousands separators (`1.234.567`). Spaces, `'` and no-break spaces group
/// thousands. Trailing zeros are kept: the value is returned as written, not rounded.
pub fn decimal(input: &str) -> Result<String, NormalizeError> {
    parse_decimal(&prepare_folded(input, 64)?).map_err(|reason| NormalizeError::Decimal { reason })
}

/// Shared decimal parser; `s` is trimmed and non-empty.
pub(crate) fn parse_decimal(s: &str) -> Result<String, &'static str> {
    let (neg, rest) = match s.strip_prefix(['-', '\u{2212}']) {
        Some(r) => (true, r.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s).trim_start()),
    };
    // Accounting negatives: (1,234.00)
    let (neg, rest) = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) if !neg => (true, inner.trim()),
        _ => (neg, rest),
    };
    if rest.is_empty() {
        return Err("no digits");
    }
    let mut body = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' | ',' => body.push(c),
            ' ' | '\'' | '\u{00A0}' | '\u{202F}' | '\u{2009}' | '_' => {}
            _ => return Err("unexpected character"),
        }
    }
    if !body.bytes().any(|b| b.is_ascii_digit()) {
        return Err("no digits");
    }
    let last_dot = body.rfind('.');
    let last_comma = body.rfind(',');
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    let decimal_sep = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) if dots == 1 => Some('.'),
        (Some(_), None) => None,
        (None, Some(c)) if commas == 1 && body.len() - c - 1 != 3 => Some(','),
        (None, Some(_)) => None,
        (None, None) => None,
    };
    let (int_part, frac_part) = match decimal_sep {
        Some(sep) => {
            let i = body.rfind(sep).unwrap_or(body.len());
            (&body[..i], &body[i + 1..])
        }
        None => (body.as_str(), ""),
    };
    let thousands = match decimal_sep {
        Some('.') => ',',
        Some(_) => '.',
        None => {
            if dots > 0 {
                '.'
            } else {
                ','
            }
        }
    };
    if int_part.contains(if thousands == '.' { ',' } else { '.' }) {
        return Err("mixed separators");
    }
    if frac_part.contains(['.', ',']) {
        return Err("misplaced separator");
    }
    // Thousands groups must have three digits.
    let groups: Vec<&str> = int_part.split(thousands).collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return Err("misplaced thousands separator");
    }
    let digits: String = groups.concat();
    let digits = digits.trim_start_matches('0');
    let mut out = String::new();
    if neg && (digits.chars().any(|c| c != '0') || frac_part.chars().any(|c| c != '0')) {
        out.push('-');
    }
    out.push_str(if digits.is_empty() { "0" } else { digits });
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    } else if decimal_sep.is_some() && int_part.is_empty() {
        return Err("no digits");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        for (input, want) in [
            ("0", 0),
            ("42", 42),
            ("+42", 42),
            ("-7", -7),
            ("1,234", 1234),
            ("1 234 567", 1234567),
            ("1.234.567", 1234567),
            ("42.00", 42),
            ("(12)", -12),
            ("9223372036854775807", i64::MAX),
        ] {
            assert_eq!(int(input), Ok(want), "input {input:?}");
        }
        for input in [
            "",
            "abc",
            "12.5",
            "1,2,3",
            "9223372036854775808",
            "1e5",
            "--1",
            "12-",
        ] {
            assert!(int(input).is_err(), "input {input:?}");
        }
    }

    #[test]
    fn decimals() {
        for (input, want) in [
            ("1234.56", "1234.56"),
            ("1,234.56", "1234.56"),
            ("1.234,56", "1234.56"),
            ("12,5", "12.5"),
            ("1,234", "1234"),
            (".5", "0.5"),
            ("0.50", "0.50"),
            ("-0", "0"),
            ("1'234.5", "1234.5"),
            ("007", "7"),
        ] {
            assert_eq!(decimal(input).as_deref(), Ok(want), "input {input:?}");
        }
        for input in ["", ".", "1.2.3,4,5", "12,34,56", "1,2345.6", "abc", "1.5e3"] {
            assert!(decimal(input).is_err(), "input {input:?}");
        }
    }

    #[test]
    fn hostile_input() {
        assert!(decimal(&"9".repeat(100_000)).is_err());
        assert!(int(&",".repeat(60)).is_err());
        assert!(decimal("\u{FFFD}1").is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::int;
        assert_eq!(int(" 1,234 ").unwrap(), 1234);
        assert!(int("12.5").is_err());
    }

    #[test]
    fn example_2() {
        use crate::normalize::decimal;
        assert_eq!(decimal("1.234,56").unwrap(), "1234.56");
        assert_eq!(decimal("-0,5").unwrap(), "-0.5");
    }
}
