//! `date` and `datetime`: the many ways lead emails write a point in time.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{NormalizeError, collapse_ws, prepare_folded};

/// Which of two small numbers is the month in an all-numeric date such as `09-07-2018`.
///
/// Used only where the input is ambiguous: a number above 12 is always the day, and year-first
/// dates (`2018-07-09`, `2018/07/09`) are always year-month-day.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// `MM/DD/YYYY`, the US convention (the default).
    #[default]
    MonthFirst,
    /// `DD/MM/YYYY` and `DD.MM.YYYY`, the European convention.
    DayFirst,
}

fn err(reason: &'static str) -> NormalizeError {
    NormalizeError::Date { reason }
}

const TIME: &str = r"(?P<h>[0-9]{1,2})(?::(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?)?\s*(?P<ampm>[ap]\.?\s?m\.?)?\s*(?P<tz>z|utc|gmt|ut|[+-][0-9]{2}(?::?[0-9]{2})?|(?:utc|gmt)\s*[+-][0-9]{1,2}(?::?[0-9]{2})?|[ecmp][sd]t|akst|akdt|hst)?";

static ISO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?P<y>[0-9]{{4}})-(?P<a>[0-9]{{1,2}})-(?P<b>[0-9]{{1,2}})(?:(?:t|\s+|\s*,\s*)(?:{TIME}))?$"
    ))
    .ok()
});
static YMD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?P<y>[0-9]{{4}})[/.](?P<a>[0-9]{{1,2}})[/.](?P<b>[0-9]{{1,2}})\.?(?:(?:\s+|\s*,\s*)(?:at\s+)?(?:{TIME}))?$"
    ))
    .ok()
});
static NUMERIC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?P<a>[0-9]{{1,2}})(?P<sep>[/.-])(?P<b>[0-9]{{1,2}})[/.-](?P<y>[0-9]{{4}}|[0-9]{{2}})\.?(?:(?:\s+|\s*,\s*|t)(?:at\s+)?(?:{TIME}))?$"
    ))
    .ok()
});
static MONTH_FIRST_WORDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?:(?P<wd>[a-z]+)\.?,?\s+)?(?P<mon>[a-z]+)\.?\s+(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>[0-9]{{4}})(?:(?:\s+|\s*,\s*)(?:at\s+)?(?:{TIME}))?$"
    ))
    .ok()
});
static DAY_FIRST_WORDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?:(?P<wd>[a-z]+)\.?,?\s+)?(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:\s+|-|\s+of\s+)(?P<mon>[a-z]+)\.?(?:,?\s+|-)(?P<y>[0-9]{{4}}|[0-9]{{2}})(?:(?:\s+|\s*,\s*)(?:at\s+)?(?:{TIME}))?$"
    ))
    .ok()
});
// Chinese, Japanese and Korean: "2026年3月5日", "2026年3月5日(木) 14:30", "2026년 3월 5일".
static CJK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?P<y>[0-9]{{4}})\s*[年년]\s*(?P<a>[0-9]{{1,2}})\s*[月월]\s*(?P<b>[0-9]{{1,2}})\s*[日일号號]?(?:\s*\([^)]{{1,12}}\))?(?:(?:\s+|\s*,\s*)(?:{TIME}))?$"
    ))
    .ok()
});
// ctime / JavaScript Date.toString(): "Thu Aug 30 2018 14:05:00 GMT-0500 (Central Daylight Time)"
static JS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?P<wd>[a-z]{{3}})\s+(?P<mon>[a-z]{{3}})\s+(?P<d>[0-9]{{1,2}})\s+(?P<y>[0-9]{{4}})\s+(?:{TIME})(?:\s*\([^)]*\))?$"
    ))
    .ok()
});

/// The result of parsing: a local date, an optional time, and an optional offset.
struct Parsed {
    date: NaiveDate,
    time: Option<NaiveTime>,
    offset: Option<FixedOffset>,
}

/// Normalises a date. Accepts everything [`datetime`] accepts (the time is ignored, the date is
/// taken as written, not converted to UTC) and date-only forms:
///
/// - ISO `2018-08-30`, year-first `2018/08/30`, `2018.08.30`;
/// - numeric `08/30/2018`, `8/30/18`, `30.08.2018`, `09-07-2018` (ambiguous ones use `order`);
/// - words `August 30, 2018`, `Aug. 30th 2018`, `Thursday, August 30, 2018`, `30 August 2018`,
///   `30-Aug-2018`, `1st of May 2019`;
/// - RFC 2822 `Thu, 30 Aug 2018 14:05:00 -0500`;
/// - Chinese, Japanese and Korean `2026年3月5日`, `2026年3月5日(木) 14:30`, `2026년 3월 5일`,
///   also in full-width digits (`２０２６年３月５日`).
///
/// Two-digit years are 2000-2069 for `00`-`69` and 1970-1999 otherwise.
pub fn date(input: &str, order: DateOrder) -> Result<NaiveDate, NormalizeError> {
    parse(input, order).map(|p| p.date)
}

/// Normalises a date-time. A time written with a zone or offset becomes UTC
/// ([`Timestamp::Utc`]); a time written without one is a local time whose offset the email does
/// not say, and is kept as written ([`Timestamp::Local`]), never stamped UTC. See
/// [`datetime_with_offset`] to assume an offset. The input must contain a time; use [`date`]
/// for date-only values.
///
/// Times: `14:05`, `14:05:09`, `14:05:09.123`, `2:05 PM`, `2:05pm`, `6PM`; zones `Z`, `UTC`, `GMT`,
/// `+05:30`, `-0500`, `GMT-5`, and the US abbreviations `EST`/`EDT`, `CST`/`CDT`, `MST`/`MDT`,
/// `PST`/`PDT`, `AKST`/`AKDT`, `HST`.
pub fn datetime(input: &str, order: DateOrder) -> Result<Timestamp, NormalizeError> {
    let p = parse(input, order)?;
    let time = p.time.ok_or(err("no time of day"))?;
    let local = NaiveDateTime::new(p.date, time);
    match p.offset {
        None => Ok(Timestamp::Local(local)),
        Some(offset) => in_utc(local, offset).map(Timestamp::Utc),
    }
}

/// A normalised date-time: in UTC when the value said its zone, else the local time as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    /// A time whose zone or offset was given, converted to UTC: shown `2018-08-30T19:05:00Z`.
    Utc(DateTime<Utc>),
    /// A time written without a zone: shown without offset, `2017-06-30T15:00:00`.
    Local(NaiveDateTime),
}

impl std::fmt::Display for Timestamp {
    /// RFC 3339 to the second (`Z` for UTC); a local time without its offset.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Timestamp::Utc(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            Timestamp::Local(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S")),
        }
    }
}

fn in_utc(local: NaiveDateTime, offset: FixedOffset) -> Result<DateTime<Utc>, NormalizeError> {
    offset
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(err("time out of range"))
}

/// Like [`datetime`], but a time written without a zone is taken to be at `assume` (for example a
/// dealer's local time), then converted to UTC.
#[cfg(test)]
pub fn datetime_with_offset(
    input: &str,
    order: DateOrder,
    assume: FixedOffset,
) -> Result<DateTime<Utc>, NormalizeError> {
    let p = parse(input, order)?;
    let time = p.time.ok_or(err("no time of day"))?;
    in_utc(NaiveDateTime::new(p.date, time), p.offset.unwrap_or(assume))
}

fn parse(input: &str, order: DateOrder) -> Result<Parsed, NormalizeError> {
    let s = prepare_folded(input, 128)?;
    let s = collapse_ws(&s);
    let s = s.as_str();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Parsed {
            date: t.date_naive(),
            time: Some(t.time()),
            offset: Some(*t.offset()),
        });
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Ok(Parsed {
            date: t.date_naive(),
            time: Some(t.time()),
            offset: Some(*t.offset()),
        });
    }
    if let Some(c) = caps(s, &ISO)
        .or_else(|| caps(s, &YMD))
        .or_else(|| caps(s, &CJK))
    {
        let y = num(&c, "y")?;
        let date = ymd(y, num(&c, "a")?, num(&c, "b")?)?;
        return finish(date, &c);
    }
    if let Some(c) = caps(s, &NUMERIC) {
        let (a, b) = (num(&c, "a")?, num(&c, "b")?);
        let y = year(&c)?;
        let (m, d) = if a > 12 && b <= 12 {
            (b, a)
        } else if b > 12 && a <= 12 {
            (a, b)
        } else {
            match order {
                DateOrder::MonthFirst => (a, b),
                DateOrder::DayFirst => (b, a),
            }
        };
        return finish(ymd(y, m, d)?, &c);
    }
    if let Some(c) = caps(s, &JS)
        .or_else(|| caps(s, &MONTH_FIRST_WORDS))
        .or_else(|| caps(s, &DAY_FIRST_WORDS))
    {
        if let Some(wd) = c.name("wd")
            && weekday(wd.as_str()).is_none()
        {
            return Err(err("unknown weekday name"));
        }
        let m = c
            .name("mon")
            .and_then(|m| month(m.as_str()))
            .ok_or(err("unknown month name"))?;
        let date = ymd(year(&c)?, m, num(&c, "d")?)?;
        return finish(date, &c);
    }
    Err(err("unrecognised format"))
}

fn caps<'s>(s: &'s str, re: &LazyLock<Option<Regex>>) -> Option<regex::Captures<'s>> {
    LazyLock::force(re).as_ref().and_then(|r| r.captures(s))
}

fn num(c: &regex::Captures<'_>, name: &str) -> Result<u32, NormalizeError> {
    c.name(name)
        .and_then(|m| m.as_str().parse().ok())
        .ok_or(err("missing number"))
}

fn year(c: &regex::Captures<'_>) -> Result<i32, NormalizeError> {
    let y = c.name("y").ok_or(err("no year"))?;
    let n: i32 = y.as_str().parse().map_err(|_| err("bad year"))?;
    Ok(if y.as_str().len() == 2 {
        if n < 70 { 2000 + n } else { 1900 + n }
    } else {
        n
    })
}

fn ymd(y: impl TryInto<i32>, m: u32, d: u32) -> Result<NaiveDate, NormalizeError> {
    let y = y.try_into().map_err(|_| err("bad year"))?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or(err("no such day"))
}

/// Reads the optional time and zone groups.
fn finish(date: NaiveDate, c: &regex::Captures<'_>) -> Result<Parsed, NormalizeError> {
    let Some(h) = c.name("h") else {
        return Ok(Parsed {
            date,
            time: None,
            offset: None,
        });
    };
    let mut hour: u32 = h.as_str().parse().map_err(|_| err("bad hour"))?;
    let has_minutes = c.name("mi").is_some();
    let ampm = c.name("ampm").map(|m| m.as_str().to_ascii_lowercase());
    if !has_minutes && ampm.is_none() {
        // A bare number after a date is not a time ("June 5 2018 12" is nonsense).
        return Err(err("unrecognised time"));
    }
    let minute = c
        .name("mi")
        .map_or(Ok(0), |m| m.as_str().parse().map_err(|_| err("bad minute")))?;
    let second = c
        .name("s")
        .map_or(Ok(0), |m| m.as_str().parse().map_err(|_| err("bad second")))?;
    let nanos = match c.name("frac") {
        Some(f) => {
            let digits = f.as_str();
            let n: u32 = digits.parse().map_err(|_| err("bad fraction"))?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        None => 0,
    };
    if let Some(ap) = ampm {
        if hour == 0 || hour > 12 {
            return Err(err("hour out of range for AM/PM"));
        }
        let pm = ap.starts_with('p');
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let time =
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).ok_or(err("no such time"))?;
    let offset = match c.name("tz") {
        Some(tz) => Some(zone(tz.as_str()).ok_or(err("unknown time zone"))?),
        None => None,
    };
    Ok(Parsed {
        date,
        time: Some(time),
        offset,
    })
}

fn zone(tz: &str) -> Option<FixedOffset> {
    let t = tz.to_ascii_lowercase().replace(' ', "");
    let hours = |h: i32| FixedOffset::east_opt(h * 3600);
    match t.as_str() {
        "z" | "utc" | "gmt" | "ut" => return hours(0),
        "edt" => return hours(-4),
        "est" | "cdt" => return hours(-5),
        "cst" | "mdt" => return hours(-6),
        "mst" | "pdt" => return hours(-7),
        "pst" => return hours(-8),
        "akst" => return hours(-9),
        "akdt" => return hours(-8),
        "hst" => return hours(-10),
        _ => {}
    }
    let rest = t.trim_start_matches("utc").trim_start_matches("gmt");
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    let (h, m): (i32, i32) = match digits.len() {
        1 | 2 => (digits.parse().ok()?, 0),
        3 => (digits[..1].parse().ok()?, digits[1..].parse().ok()?),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn month(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if n == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| n.len() >= 3 && m.starts_with(n.as_str()))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn weekday(name: &str) -> Option<()> {
    let n = name.to_ascii_lowercase();
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    (n.len() >= 3 && DAYS.iter().any(|d| d.starts_with(n.as_str()))).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str, order: DateOrder) -> String {
        date(s, order)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn dt(s: &str) -> String {
        match datetime(s, DateOrder::MonthFirst) {
            Ok(Timestamp::Utc(t)) => t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
            Ok(Timestamp::Local(t)) => t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn dates() {
        use DateOrder::*;
        for (input, order, want) in [
            ("2018-08-30", MonthFirst, "2018-08-30"),
            ("2018-8-3", MonthFirst, "2018-08-03"),
            ("2018/08/30", DayFirst, "2018-08-30"),
            ("08/30/2018", MonthFirst, "2018-08-30"),
            ("08/30/2018", DayFirst, "2018-08-30"),
            ("8/30/18", MonthFirst, "2018-08-30"),
            ("30.08.2018", MonthFirst, "2018-08-30"),
            ("09.07.2018", DayFirst, "2018-07-09"),
            ("09-07-2018", MonthFirst, "2018-09-07"),
            ("09-07-2018", DayFirst, "2018-07-09"),
            ("August 30, 2018", MonthFirst, "2018-08-30"),
            ("Aug 30 2018", MonthFirst, "2018-08-30"),
            ("aug. 30th, 2018", MonthFirst, "2018-08-30"),
            ("Thursday, August 30, 2018", MonthFirst, "2018-08-30"),
            ("Sept 3, 2018", MonthFirst, "2018-09-03"),
            ("30 August 2018", MonthFirst, "2018-08-30"),
            ("30-Aug-2018", MonthFirst, "2018-08-30"),
            ("30-Aug-18", MonthFirst, "2018-08-30"),
            ("1st of May 2019", MonthFirst, "2019-05-01"),
            ("Thu, 30 Aug 2018 14:05:00 -0500", MonthFirst, "2018-08-30"),
            ("2018-08-30T23:30:00-05:00", MonthFirst, "2018-08-30"),
            ("2/9/2020 6:26PM", MonthFirst, "2020-02-09"),
            ("  August\u{00A0}30,\n2018 ", MonthFirst, "2018-08-30"),
            ("01/02/70", MonthFirst, "1970-01-02"),
        ] {
            assert_eq!(d(input, order), want, "input {input:?}");
        }
    }

    #[test]
    fn bad_dates() {
        for input in [
            "",
            "yesterday",
            "02/30/2018",
            "13/13/2018",
            "2018-13-01",
            "Smarch 3, 2018",
            "Funday, August 30, 2018",
            "August 2018",
            "30/08",
            "1234567",
            "August 30, 2018 12",
        ] {
            assert!(
                date(input, DateOrder::MonthFirst).is_err(),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn datetimes() {
        for (input, want) in [
            ("2018-08-30T14:05:00Z", "2018-08-30T14:05:00Z"),
            ("2000-03-30T15:30:20-08:00", "2000-03-30T23:30:20Z"),
            ("2018-08-30 14:05", "2018-08-30T14:05:00"),
            ("2018-08-30T14:05:09.250+0200", "2018-08-30T12:05:09.250Z"),
            ("Thu, 30 Aug 2018 14:05:00 -0500", "2018-08-30T19:05:00Z"),
            ("2/9/2020 6:26PM", "2020-02-09T18:26:00"),
            ("2/9/2020 6:26 p.m. EST", "2020-02-09T23:26:00Z"),
            ("3/30/2000 3:30PM", "2000-03-30T15:30:00"),
            ("August 30, 2018 at 9:15 AM PDT", "2018-08-30T16:15:00Z"),
            ("08/30/2018 12:00 AM", "2018-08-30T00:00:00"),
            ("08/30/2018 12:30 PM", "2018-08-30T12:30:00"),
            ("30.08.2018 14:05 GMT+2", "2018-08-30T12:05:00Z"),
            (
                "Thu Aug 30 2018 14:05:00 GMT-0500 (Central Daylight Time)",
                "2018-08-30T19:05:00Z",
            ),
            ("08/30/2018 6PM", "2018-08-30T18:00:00"),
            ("06/30/2017 3:00PM", "2017-06-30T15:00:00"),
        ] {
            assert_eq!(dt(input), want, "input {input:?}");
        }
        let t = datetime_with_offset(
            "2018-08-30 14:05",
            DateOrder::MonthFirst,
            FixedOffset::west_opt(5 * 3600).unwrap(),
        )
        .unwrap();
        assert_eq!(t.to_rfc3339(), "2018-08-30T19:05:00+00:00");
    }

    #[test]
    fn bad_datetimes() {
        for input in [
            "2018-08-30",
            "2018-08-30 25:00",
            "2018-08-30 13:00 PM",
            "2018-08-30 10:61",
            "2018-08-30 10:00 XYZ",
            "2018-08-30 10:00 +99:00",
        ] {
            assert!(
                dt(input).starts_with("ERR"),
                "input {input:?}: {}",
                dt(input)
            );
        }
    }

    #[test]
    fn errors_do_not_echo() {
        let e = date("Secretember 3, 2018", DateOrder::MonthFirst)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("Secret"), "{e}");
    }

    #[test]
    fn hostile_input() {
        assert!(date(&"1".repeat(100_000), DateOrder::MonthFirst).is_err());
        assert!(date(&"August ".repeat(10), DateOrder::MonthFirst).is_err());
        assert!(date("\u{FFFD}08/30/2018", DateOrder::MonthFirst).is_err());
        assert!(date("99999-01-01", DateOrder::MonthFirst).is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::{DateOrder, date};
        assert_eq!(
            date("August 30, 2018", DateOrder::MonthFirst)
                .unwrap()
                .to_string(),
            "2018-08-30"
        );
        assert_eq!(
            date("09-07-2018", DateOrder::MonthFirst)
                .unwrap()
                .to_string(),
            "2018-09-07"
        );
        assert_eq!(
            date("30.08.2018", DateOrder::MonthFirst)
                .unwrap()
                .to_string(),
            "2018-08-30"
        );
    }

    #[test]
    fn example_2() {
        use crate::normalize::{DateOrder, datetime};
        let t = datetime("2/9/2020 6:26PM EST", DateOrder::MonthFirst).unwrap();
        assert_eq!(t.to_string(), "2020-02-09T23:26:00Z");
        let t = datetime("Thu, 30 Aug 2018 14:05:00 -0500", DateOrder::MonthFirst).unwrap();
        assert_eq!(t.to_string(), "2018-08-30T19:05:00Z");
        // No zone: a local time, without offset.
        let t = datetime("06/30/2017 3:00PM", DateOrder::MonthFirst).unwrap();
        assert_eq!(t.to_string(), "2017-06-30T15:00:00");
    }
}
