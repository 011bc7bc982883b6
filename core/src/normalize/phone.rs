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

/// Whether `region` (any case) is a region [`phone`] accepts: an ISO 3166-1 alpha-2 code that
/// libphonenumber has metadata for.
///
/// Read from a table, not from the metadata, so a rule file's `phone(region: ...)` is checked
/// at compile time without waiting for the metadata to load (a test holds the table to it).
pub fn is_known_region(region: &str) -> bool {
    let code = region.trim().to_ascii_uppercase();
    KNOWN_REGIONS.binary_search(&code.as_str()).is_ok()
}

/// The 245 regions libphonenumber 2.2.15 has metadata for, sorted.
#[rustfmt::skip]
const KNOWN_REGIONS: &[&str] = &[
    "AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO",
    "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG",
    "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG",
    "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT",
    "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE",
    "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR",
    "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN",
    "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF",
    "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL",
    "PM", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
    "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY",
    "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK",
    "YE", "YT", "ZA", "ZM", "ZW",
];

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
    let canonical = parser_form(&cleaned);
    let for_parser = canonical.as_deref().unwrap_or(&cleaned);
    // A panic inside the parser on an odd input must never escape to the caller.
    let parsed = std::panic::catch_unwind(|| PHONE_NUMBER_UTIL.parse(for_parser, Some(region_id)))
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

/// The number as libphonenumber reads it, for the common written forms: the digits, after a
/// `+` when the number starts with one (`(202) 555-0143` is `2025550143`, `+1 202-555-0143` is
/// `+12025550143`); `None` for any other form, which the parser gets as written.
///
/// libphonenumber runs its viability and extension patterns over the whole string before it
/// normalises it to these digits, and on `regex-lite` those patterns cost a few thousand
/// instructions per character (BENCHMARKS.md). On strings of ASCII digits, spaces, parentheses,
/// hyphens and leading pluses its result depends only on the digits and on whether a `+` comes
/// first: the punctuation matches its separator classes and holds no extension (that needs a
/// letter, `#`, `~`, `,` or `;`), and every later step reads the normalised digits. A `+` after
/// the first digit or a later run of `+` makes the number unparseable, and fewer than three
/// digits pass only unpunctuated; those strings go to the parser as written.
/// `parser_form_reads_as_the_written_number` holds this to libphonenumber itself on generated
/// numbers in six regions.
fn parser_form(cleaned: &str) -> Option<String> {
    if !cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'(' | b')' | b'-' | b'+'))
    {
        return None;
    }
    // Where libphonenumber's number starts: the first digit or plus sign.
    let start = cleaned.find(|c: char| c.is_ascii_digit() || c == '+')?;
    let number = &cleaned[start..];
    let after_plus = number.trim_start_matches('+');
    if after_plus.contains('+') {
        return None;
    }
    let mut form = String::with_capacity(number.len());
    if after_plus.len() < number.len() {
        form.push('+');
    }
    form.extend(after_plus.chars().filter(char::is_ascii_digit));
    // Two digits alone pass the viability check only unpunctuated; `phone` asks for seven.
    (form.trim_start_matches('+').len() >= 3).then_some(form)
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

    /// What libphonenumber makes of `input` in `region`: the parsed number (every field), its
    /// E.164 form and validity, or that it does not parse.
    fn parser_reading(input: &str, region: Region) -> String {
        match PHONE_NUMBER_UTIL.parse(input, Some(region)) {
            Ok(number) => format!(
                "{number:?} {} valid={}",
                PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164),
                PHONE_NUMBER_UTIL.is_valid_number(&number)
            ),
            Err(_) => "does not parse".to_owned(),
        }
    }

    /// `parser_form` may only shorten what libphonenumber reads, never change what it makes of
    /// it: on generated numbers (leading `+`, `++`, `(+`, `00` and `011`, country codes, groups
    /// of 1 to 5 digits between every kind of separator it keeps, stray `+` signs that make it
    /// decline, extension and pause marks it must leave alone) libphonenumber reads the written
    /// number and its parser form alike in six regions, down to every field of the parsed
    /// number.
    #[test]
    fn parser_form_reads_as_the_written_number() {
        const PREFIXES: [&str; 12] = [
            "", "", "", "+", "++", "(+", "+ ", "+(", " (", "00", "011 ", "-+",
        ];
        const COUNTRY_CODES: [&str; 10] = ["", "", "1", "44", "49", "33", "91", "55", "7", "0"];
        const SEPARATORS: [&str; 10] = [" ", "-", "(", ")", " (", ") ", "--", "", "  ", ")-"];
        const SUFFIXES: [&str; 5] = ["", " ", ")", "-", " -"];
        // Marks the parser reads as extensions, pauses or second numbers: `parser_form` must
        // leave any string with one of them as written (a mutation that let one through failed).
        const FOREIGN: [&str; 8] = ["#", " x", ",", ";", "/", "~", ".", " ext "];
        let regions: Vec<Region> = GOLDEN_REGIONS
            .iter()
            .map(|r| Region::from_str(r).unwrap())
            .collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut compared, mut shortened, mut valid) = (0, 0, 0);
        for _ in 0..2_500 {
            let mut written = String::new();
            written.push_str(PREFIXES[next(PREFIXES.len())]);
            written.push_str(COUNTRY_CODES[next(COUNTRY_CODES.len())]);
            for group in 0..2 + next(4) {
                if group > 0 || next(2) == 0 {
                    written.push_str(SEPARATORS[next(SEPARATORS.len())]);
                }
                for _ in 0..1 + next(5) {
                    written.push(char::from(b'0' + next(10) as u8));
                }
                if next(40) == 0 {
                    written.push('+');
                }
                if next(30) == 0 {
                    written.push_str(FOREIGN[next(FOREIGN.len())]);
                }
            }
            written.push_str(SUFFIXES[next(SUFFIXES.len())]);
            let Some(form) = parser_form(&written) else {
                continue;
            };
            shortened += usize::from(form.len() < written.len());
            for &region in &regions {
                let reading = parser_reading(&written, region);
                assert_eq!(
                    parser_reading(&form, region),
                    reading,
                    "{written:?} read as {form:?} in {region}"
                );
                compared += 1;
                valid += usize::from(reading.ends_with("valid=true"));
            }
        }
        // Enough cases, most of them shortened, with valid and invalid numbers both common.
        assert!(compared >= 12_000, "only {compared} comparisons");
        assert!(shortened >= 1_500, "only {shortened} forms shortened");
        assert!(
            valid >= 1_000 && compared - valid >= 1_000,
            "{valid} of {compared} valid"
        );
    }

    #[test]
    fn parser_form_keeps_what_it_cannot_vouch_for() {
        assert_eq!(parser_form("(202) 555-0143").as_deref(), Some("2025550143"));
        assert_eq!(
            parser_form("+1 202-555-0143").as_deref(),
            Some("+12025550143")
        );
        assert_eq!(
            parser_form("(++44) 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        for kept in [
            "202 555 0143 x12",       // a letter: an extension or a vanity number
            "202 555 0143#",          // an extension mark
            "202 555 0143,,12",       // pauses
            "202/555/0143",           // a separator it does not vouch for
            "+1 202 +555 0143",       // a second plus: the parser declines it
            "1+202 555 0143",         // a plus after a digit
            "２０２ ５５５ ０１４３", // not ASCII digits
        ] {
            assert_eq!(parser_form(kept), None, "{kept:?}");
        }
    }

    /// The regions of `phone_golden.tsv`, in the order of its columns.
    const GOLDEN_REGIONS: [&str; 6] = ["US", "DE", "GB", "FR", "IN", "BR"];

    /// One cell of `phone_golden.tsv`: the E.164 number, or `!` and why it was rejected.
    fn golden_cell(input: &str, region: &str) -> String {
        match phone(input, region) {
            Ok(e164) => e164,
            Err(NormalizeError::Phone { reason, .. }) => format!("!{reason}"),
            Err(other) => format!("!{other}"),
        }
    }

    /// Holds `phone` to what it returned for ~1,500 inputs in six regions when
    /// rlibphonenumber ran on the `regex` crate (its `regex` feature); mailex now builds it
    /// with `regex-lite` (its `lite` feature), which compiles its patterns about three times
    /// cheaper at start-up. Inputs: the phone-like strings of the repository's fixture mails
    /// and seeded random forms (country codes, separators, extensions, vanity letters, Arabic,
    /// Persian, Devanagari and full-width digits, `tel:` URIs, noise). A deliberate change of
    /// behaviour is re-recorded with `MAILEX_BLESS_PHONE_GOLDEN=1 cargo test -p mailex-core
    /// golden`, and the diff reviewed.
    #[test]
    fn agrees_with_the_golden_file() {
        let golden = include_str!("phone_golden.tsv");
        let rows = golden
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty());
        if std::env::var_os("MAILEX_BLESS_PHONE_GOLDEN").is_some() {
            let mut out: String = golden
                .lines()
                .take_while(|line| line.starts_with('#'))
                .map(|line| format!("{line}\n"))
                .collect();
            for row in rows {
                let input = row.split('\t').next().unwrap_or_default();
                let cells: Vec<String> = GOLDEN_REGIONS
                    .iter()
                    .map(|region| golden_cell(input, region))
                    .collect();
                out.push_str(&format!("{input}\t{}\n", cells.join("\t")));
            }
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/normalize/phone_golden.tsv"
            );
            std::fs::write(path, out).unwrap();
            return;
        }
        let mut checked = 0;
        let mut valid = 0;
        for row in rows {
            let mut cells = row.split('\t');
            let input = cells.next().unwrap_or_default();
            for region in GOLDEN_REGIONS {
                let expected = cells.next().expect("a cell for every region");
                assert_eq!(
                    golden_cell(input, region),
                    expected,
                    "input {input:?}, region {region}"
                );
                checked += 1;
                valid += usize::from(!expected.starts_with('!'));
            }
        }
        // The file must exercise both outcomes at scale, not a handful of rows.
        assert!(checked >= 8_000, "only {checked} cases");
        assert!(
            valid >= 1_000 && checked - valid >= 1_000,
            "{valid} of {checked} valid"
        );
    }

    #[test]
    fn known_regions_are_the_regions_with_metadata() {
        let mut with_metadata = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).unwrap();
                let parsed = phone("+12025550143", &code);
                let known = !matches!(parsed, Err(NormalizeError::UnknownRegion { .. }));
                // What the rule compiler checked before it read this table.
                assert_eq!(known, parsed.is_ok(), "{code}: {parsed:?}");
                if known {
                    with_metadata.push(code);
                }
            }
        }
        assert_eq!(KNOWN_REGIONS, with_metadata, "{with_metadata:?}");
        assert!(is_known_region("us") && is_known_region(" GB ") && !is_known_region("XX"));
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
