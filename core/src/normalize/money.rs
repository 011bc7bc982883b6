//! `money`: an amount as a decimal string plus an ISO 4217 currency.

use super::number::parse_decimal;
use super::{NormalizeError, prepare_folded};
use crate::record::Money;

/// Currency codes recognised when written out (`USD 100`, `100 eur`).
const CODES: &[&str] = &[
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "INR", "MXN", "BRL", "SEK",
    "NOK", "DKK", "PLN", "CZK", "HUF", "ZAR", "SGD", "HKD", "KRW", "TRY", "ILS", "AED", "RON",
];

/// Symbols and prefixed symbols, longest first so that `US$` wins over `$`.
const SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("AU$", "AUD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("R$", "BRL"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₺", "TRY"),
    ("₪", "ILS"),
    ("zł", "PLN"),
    ("Fr.", "CHF"),
];

/// Currencies written with a bare `$`.
const DOLLARS: &[&str] = &["USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN"];

fn err(reason: &'static str) -> NormalizeError {
    NormalizeError::Money { reason }
}

/// Normalises an amount of money such as `$26,995`, `USD 26,995.00`, `1.234,50 €`, `£12`.
///
/// The currency comes from a symbol or an ISO code in the input; a bare `$` means
/// `default_currency` when that is a dollar currency (`CAD`, `AUD`, ...) and `USD` otherwise; with
/// no currency marker at all, `default_currency` is used, and without one the value is an error.
/// The amount is an exact decimal string with the currency's minor-unit digits (`26995.00` in
/// dollars or euros, `1200` in yen); more digits than that are kept as written. A trailing period such as `/mo` or `per month` is not accepted: use a text operation first.
pub fn money(input: &str, default_currency: Option<&str>) -> Result<Money, NormalizeError> {
    let s = prepare_folded(input, 128)?;
    let default = default_currency
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
    let mut currency: Option<String> = None;
    let mut rest = s.to_string();

    // ISO codes (as a separate word, any case).
    let upper = rest.to_ascii_uppercase();
    for code in CODES {
        if let Some(i) = find_word(&upper, code) {
            currency = Some((*code).to_string());
            rest.replace_range(i..i + 3, " ");
            break;
        }
    }
    if currency.is_none() {
        for (sym, code) in SYMBOLS {
            if let Some(i) = rest.find(sym) {
                currency = Some((*code).to_string());
                rest.replace_range(i..i + sym.len(), " ");
                break;
            }
        }
    }
    // A bare dollar sign, possibly left over after an ISO code (`USD $100`).
    if let Some(i) = rest.find('$') {
        rest.replace_range(i..i + 1, " ");
        if currency.is_none() {
            currency = Some(match &default {
                Some(d) if DOLLARS.contains(&d.as_str()) => d.clone(),
                _ => "USD".to_string(),
            });
        }
    }
    let currency = currency
        .or(default)
        .ok_or(err("no currency and no default currency"))?;
    let amount = rest.trim().trim_end_matches(['-', '.']).trim_end();
    // "-$5" leaves "- 5" behind.
    let amount = amount.replacen("- ", "-", 1);
    if amount.is_empty() {
        return Err(err("no amount"));
    }
    let amount = parse_decimal(&amount).map_err(err)?;
    let amount = with_minor_units(amount, minor_units(&currency));
    Ok(Money { amount, currency })
}

/// Digits after the decimal point the currency is written with (ISO 4217 minor units): 0 for
/// the yen and the won, 2 for the others mailex knows.
fn minor_units(currency: &str) -> usize {
    match currency {
        "JPY" | "KRW" => 0,
        _ => 2,
    }
}

/// A canonical decimal padded with zeros to at least `digits` decimals (`26995` → `26995.00`);
/// digits beyond them are kept, never rounded away.
fn with_minor_units(amount: String, digits: usize) -> String {
    let decimals = amount.split_once('.').map_or(0, |(_, d)| d.len());
    if decimals >= digits {
        return amount;
    }
    let mut padded = amount;
    if decimals == 0 {
        padded.push('.');
    }
    padded.extend(std::iter::repeat_n('0', digits - decimals));
    padded
}

/// Byte offset of `word` in `hay` where it is not part of a longer alphabetic word.
fn find_word(hay: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = hay[from..].find(word) {
        let i = from + pos;
        let before = hay[..i].chars().next_back();
        let after = hay[i + word.len()..].chars().next();
        if !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic) {
            return Some(i);
        }
        from = i + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(input: &str, default: Option<&str>) -> Result<(String, String), NormalizeError> {
        money(input, default).map(|m| (m.amount, m.currency))
    }

    #[test]
    fn common_forms() {
        for (input, default, amount, cur) in [
            ("$26,995", None, "26995.00", "USD"),
            ("$26,995.00", None, "26995.00", "USD"),
            ("USD 26,995", None, "26995.00", "USD"),
            ("26995 usd", None, "26995.00", "USD"),
            ("USD $100", None, "100.00", "USD"),
            ("€1.234,56", None, "1234.56", "EUR"),
            ("1.234,56 €", None, "1234.56", "EUR"),
            ("£12", None, "12.00", "GBP"),
            ("C$ 40", None, "40.00", "CAD"),
            ("$40", Some("CAD"), "40.00", "CAD"),
            ("$40", Some("EUR"), "40.00", "USD"),
            ("1500", Some("usd"), "1500.00", "USD"),
            ("-$5.25", None, "-5.25", "USD"),
            ("$ 1 200", None, "1200.00", "USD"),
            ("¥1,200", None, "1200", "JPY"),
            ("$5.5", None, "5.50", "USD"),
            ("$0.125", None, "0.125", "USD"),
        ] {
            assert_eq!(
                m(input, default),
                Ok((amount.into(), cur.into())),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn rejects() {
        assert!(m("1500", None).is_err());
        assert!(m("$", None).is_err());
        assert!(m("call for price", Some("USD")).is_err());
        assert!(m("$1,500/mo", None).is_err());
        assert!(m("USDT 5", None).is_err());
    }

    #[test]
    fn hostile_input() {
        assert!(m(&"$".repeat(10_000), None).is_err());
        assert!(m("\u{FFFD}$1", None).is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::money;
        let m = money("$26,995", None).unwrap();
        assert_eq!(
            (m.amount.as_str(), m.currency.as_str()),
            ("26995.00", "USD")
        );
        let m = money("1.234,50 €", None).unwrap();
        assert_eq!((m.amount.as_str(), m.currency.as_str()), ("1234.50", "EUR"));
    }
}
