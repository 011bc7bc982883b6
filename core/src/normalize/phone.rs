//! `phone(region)`: parse a phone number and format it as E.164 with libphonenumber's metadata
//! (the `rlibphonenumber` crate).

use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

use super::{NormalizeError, prepare_folded};

/// The region used when the configuration names none.
pub const DEFAULT_REGION: &str = "US";

/// Starts loading libphonenumber's metadata on a background thread, once per process, so that
/// the first phone number (or the first `phone(region: ...)` a rule file names) does not wait
/// for it: decoding the metadata and compiling its global patterns costs about 70 million
/// instructions (BENCHMARKS.md), as much as compiling the example config's rule files, and the
/// two now overlap on a second core. A caller that needs the metadata before the thread is done
/// waits for it (the metadata is a `LazyLock`); nothing is computed twice. If the thread cannot
/// be started, the metadata loads on first use as before.
pub fn warm_up_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("mailex-phone-metadata".to_owned())
            .spawn(|| PHONE_NUMBER_UTIL.get_country_code_for_region(Region::US));
    });
}

/// Normalises a phone number to E.164 (`+12025550143`).
///
/// `region` is the ISO 3166-1 alpha-2 code (`US`, `DE`, case-insensitive) used for numbers written
/// without a country code. Extensions (`x123`, `ext. 123`) are dropped. The number must be valid
/// for its country according to libphonenumber's metadata, except that the fictional
/// North-American `555` numbers used in examples and tests (`555-0100` to `555-0199`) are accepted
/// when they have a valid length.
pub fn phone(input: &str, region: &str) -> Result<String, NormalizeError> {
    // A region the metadata has no numbering plan for (`XX`, `ZZ`) is as unknown as a typo.
    let region_id = Region::from_str(&region.trim().to_ascii_uppercase())
        .ok()
        .filter(|&r| PHONE_NUMBER_UTIL.get_country_code_for_region(r).is_some())
        .ok_or_else(|| NormalizeError::UnknownRegion {
            region: region.chars().take(16).collect(),
        })?;
    let err = |reason| NormalizeError::Phone {
        region: region_id.to_string(),
        reason,
    };
    let s = prepare_folded(input, 64)?;
    let s = strip_extension(&s);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits < 7 {
        return Err(err("too few digits"));
    }
    if digits > 17 {
        return Err(err("too many digits"));
    }
    if s.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        return Err(err("unexpected letters"));
    }
    let cleaned: String = s
        .strip_prefix("tel:")
        .or_else(|| s.strip_prefix("TEL:"))
        .unwrap_or(s)
        .chars()
        .map(|c| if c == '.' { ' ' } else { c })
        .collect();
    // A panic inside the parser on an odd input must never escape to the caller.
    let parsed = std::panic::catch_unwind(|| PHONE_NUMBER_UTIL.parse(&cleaned, Some(region_id)))
        .map_err(|_| err("could not be parsed"))?
        .map_err(|_| err("could not be parsed"))?;
    let e164 = PHONE_NUMBER_UTIL
        .format(&parsed, PhoneNumberFormat::E164)
        .into_owned();
    if PHONE_NUMBER_UTIL.is_valid_number(&parsed) || is_fictional_nanp(&e164) {
        Ok(e164)
    } else {
        Err(err("not a valid number"))
    }
}

/// Removes an extension suffix such as ` x123`, ` ext. 123` or `;ext=123`.
fn strip_extension(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    for marker in [";ext=", " ext.", " ext", " x", "ext.", "ext", "x", "#"] {
        if let Some(i) = lower.rfind(marker)
            && i > 0
            && lower[i + marker.len()..]
                .trim()
                .chars()
                .all(|c| c.is_ascii_digit())
            && !lower[i + marker.len()..].trim().is_empty()
        {
            return s[..i].trim_end();
        }
    }
    s
}

/// `+1 NPA 555-01XX`: the range reserved for fiction, valid in shape but not in metadata.
fn is_fictional_nanp(e164: &str) -> bool {
    let b = e164.as_bytes();
    b.len() == 12
        && e164.starts_with("+1")
        && b[2..].iter().all(u8::is_ascii_digit)
        && (b'2'..=b'9').contains(&b[2])
        && &e164[5..10] == "55501"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_us_numbers() {
        for input in [
            "(202) 555-0143",
            "202-555-0143",
            "202.555.0143",
            "+1 202 555 0143",
            "1-202-555-0143",
            "2025550143",
            "tel:+1-202-555-0143",
            "202-555-0143 ext. 12",
            "202-555-0143 x12",
            " \u{200B}(202)\u{00A0}555-0143 ",
        ] {
            assert_eq!(
                phone(input, "US").as_deref(),
                Ok("+12025550143"),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn fictional_555_numbers() {
        assert_eq!(phone("555-555-0100", "US").as_deref(), Ok("+15555550100"));
        assert_eq!(phone("393-555-0188", "us").as_deref(), Ok("+13935550188"));
    }

    #[test]
    fn other_regions() {
        assert_eq!(phone("030 901820", "DE").as_deref(), Ok("+4930901820"));
        assert_eq!(phone("020 7946 0958", "GB").as_deref(), Ok("+442079460958"));
        assert_eq!(
            phone("+44 20 7946 0958", "US").as_deref(),
            Ok("+442079460958")
        );
        // phonenumber 0.3 dropped the area digit of French numbers (+3342685300).
        assert_eq!(
            phone("+33 1 42 68 53 00", "US").as_deref(),
            Ok("+33142685300")
        );
        assert_eq!(phone("01 42 68 53 00", "fr").as_deref(), Ok("+33142685300"));
    }

    #[test]
    fn rejects() {
        assert!(matches!(
            phone("202-555-0143", "XX"),
            Err(NormalizeError::UnknownRegion { .. })
        ));
        for input in [
            "",
            "12",
            "call me",
            "000-000-0000",
            "123456789012345678901",
            "++++",
        ] {
            assert!(phone(input, "US").is_err(), "input {input:?} was accepted");
        }
    }

    #[test]
    fn error_does_not_echo_value() {
        let e = phone("999-999-9999", "US").unwrap_err().to_string();
        assert!(!e.contains("999"), "{e}");
    }

    #[test]
    fn hostile_input() {
        assert!(phone(&"9".repeat(100_000), "US").is_err());
        assert!(phone(&"(".repeat(50), "US").is_err());
        // Replacement characters from broken UTF-8 must not panic; either outcome is fine.
        let _ = phone("\u{FFFD}202\u{FFFD}555\u{FFFD}0143", "US");
        assert!(phone(&"x".repeat(5000), "US").is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::phone;
        assert_eq!(phone("+44 20 7946 0958", "US").unwrap(), "+442079460958");
        assert_eq!(phone("tel:202.555.0143", "US").unwrap(), "+12025550143");
        assert!(phone("12", "US").is_err());
    }
}
