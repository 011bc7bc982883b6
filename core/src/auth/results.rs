//! The `Authentication-Results` parser (RFC 8601, with the few liberties SES takes).
//!
//! The grammar, one function per rule below:
//!
//! ```text
//! payload      = [CFWS] authserv-id [CFWS version] ( no-result / 1*( ";" resinfo ) ) [";"] [CFWS]
//! no-result    = ";" [CFWS] "none"
//! resinfo      = [CFWS] methodspec [CFWS reasonspec] *( [CFWS] propspec )
//!              / [CFWS] envelope-item                          ; SES, see below
//! methodspec   = Keyword [ [CFWS] "/" [CFWS] 1*DIGIT ] [CFWS] "=" [CFWS] Keyword
//! reasonspec   = "reason" [CFWS] "=" [CFWS] value
//! propspec     = Keyword [CFWS] "." [CFWS] Keyword [CFWS] "=" pvalue
//!              / "client-ip" [CFWS] "=" [CFWS] ip-address      ; SES
//! pvalue       = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
//! value        = token / quoted-string                         ; RFC 2045
//! Keyword      = ALPHA / DIGIT, then ALPHA / DIGIT / "-" (not last)
//! ```
//!
//! What SES writes beyond RFC 8601, and how it is held in check:
//!
//! - a `;` after the last result, and `client-ip=` without a `ptype.`;
//! - `envelope-from=<MAIL FROM>` and `helo=<HELO>` as items of their own after the SPF result
//!   (`spf=pass (...) client-ip=...; envelope-from=...; helo=...;`). Their values are written
//!   by the sender, so: they may only follow the `spf` result, each once, in that order, and
//!   the result after them must start on a new line of the folded header (SES folds before
//!   every result; an SMTP command cannot carry a line break, so a result on the same line as
//!   the HELO was written by the sender, e.g. `HELO x;dmarc=pass`).
//!
//! Anything that does not parse, and any method other than `dkim` that appears twice, makes
//! the whole header unusable: the caller gets an error, never a partial list of results.

use std::fmt;

use super::lex::{Cursor, LexError, is_atext};

/// One parsed `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The authserv-id, lower-cased.
    pub authserv_id: String,
    /// The results, in header order.
    pub results: Vec<ResInfo>,
}

/// One method's result with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResInfo {
    /// The method (`spf`, `dkim`, `dmarc`, ...), lower-cased, without its version.
    pub method: String,
    /// The result (`pass`, `fail`, `none`, ...), lower-cased.
    pub result: String,
    /// The `reason=` value, if any.
    pub reason: Option<String>,
    /// Properties in header order; SES's envelope items are kept on the `spf` result as
    /// properties without a ptype.
    pub properties: Vec<Property>,
}

/// One `ptype.property=value` (or, for SES's extras, `property=value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// `smtp`, `header`, `body`, `policy`, ...; `None` for SES's `client-ip`, `envelope-from`
    /// and `helo`. Lower-cased.
    pub ptype: Option<String>,
    /// The property name, lower-cased.
    pub name: String,
    /// The value with comments, folding and quoting removed (case kept).
    pub value: String,
}

impl ResInfo {
    /// The value of `ptype.name` (`ptype` `None`: a property without a ptype).
    pub fn property(&self, ptype: Option<&str>, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.ptype.as_deref() == ptype && p.name == name)
            .map(|p| p.value.as_str())
    }
}

/// Why a header was not usable. Messages never quote the header's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultsError {
    /// A comment, a quoted string or a control character was malformed.
    Lexical(LexError),
    /// There is no authserv-id.
    NoAuthservId,
    /// There is no result at all (not even `none`).
    NoResults,
    /// Result number `n` (1-based) does not follow the grammar.
    Malformed {
        /// 1-based position of the result.
        result: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// A method other than `dkim` appears more than once.
    DuplicateMethod(String),
    /// SES's `envelope-from=`/`helo=` appear somewhere other than right after the `spf` result.
    MisplacedEnvelopeItem,
    /// A result follows SES's `helo=`/`envelope-from=` on the same line: written by the sender.
    ResultOnEnvelopeLine,
    /// More results, or more properties in one result, than any receiver writes.
    TooMany,
}

impl From<LexError> for ResultsError {
    fn from(e: LexError) -> Self {
        ResultsError::Lexical(e)
    }
}

impl fmt::Display for ResultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultsError::Lexical(e) => write!(f, "{e}"),
            ResultsError::NoAuthservId => f.write_str("it has no authserv-id"),
            ResultsError::NoResults => f.write_str("it has no results"),
            ResultsError::Malformed { result, expected } => {
                write!(f, "result {result} does not parse (expected {expected})")
            }
            ResultsError::DuplicateMethod(method) => {
                // Name only the methods mailex knows: anything else is text from the mail.
                let method = match method.as_str() {
                    "spf" | "dmarc" | "arc" | "iprev" | "auth" => method.as_str(),
                    _ => "a method",
                };
                write!(f, "`{method}` appears twice")
            }
            ResultsError::MisplacedEnvelopeItem => {
                f.write_str("envelope-from/helo appear elsewhere than right after the spf result")
            }
            ResultsError::ResultOnEnvelopeLine => {
                f.write_str("a result follows the sender's envelope-from/helo on the same line")
            }
            ResultsError::TooMany => write!(
                f,
                "it has more than {MAX_ITEMS} results, or a result with more than {MAX_ITEMS} properties"
            ),
        }
    }
}

/// At most this many results per header, and properties per result (SES writes a handful):
/// bounds the work and the record for a hostile header.
pub const MAX_ITEMS: usize = 64;

/// The names of SES's envelope items, in the order SES writes them.
const ENVELOPE_ITEMS: [&str; 2] = ["envelope-from", "helo"];

/// Parses one `Authentication-Results` value (the text after the colon, folding kept).
pub fn parse(value: &str) -> Result<AuthResults, ResultsError> {
    let mut c = Cursor::new(value);
    c.skip_cfws()?;
    let authserv_id = value_token(&mut c)
        .ok_or(ResultsError::NoAuthservId)?
        .to_ascii_lowercase();
    version(&mut c)?;
    let mut results: Vec<ResInfo> = Vec::new();
    let mut single_methods = std::collections::HashSet::new();
    // Where SES's envelope items stand: how many were seen right after `spf`, and whether a
    // line break came after the last one.
    let mut envelope_seen = 0usize;
    let mut after_envelope_line = true;
    let mut previous_was_spf_or_envelope = false;
    let mut index = 0usize;
    loop {
        let before = c.skip_cfws()?;
        after_envelope_line |= before.line_break;
        if c.at_end() {
            break;
        }
        if !c.eat(b';') {
            return Err(malformed(index + 1, "`;`"));
        }
        let space = c.skip_cfws()?;
        after_envelope_line |= space.line_break;
        if c.at_end() {
            // SES ends the list with `;`.
            break;
        }
        index += 1;
        if index > MAX_ITEMS {
            return Err(ResultsError::TooMany);
        }
        let name = keyword(&mut c).ok_or_else(|| malformed(index, "a method"))?;
        let name = name.to_ascii_lowercase();
        if index == 1 && name == "none" {
            c.skip_cfws()?;
            if c.at_end() || (c.eat(b';') && c.skip_cfws().is_ok() && c.at_end()) {
                return Ok(AuthResults {
                    authserv_id,
                    results,
                });
            }
            return Err(malformed(index, "nothing after `none`"));
        }
        if let Some(position) = ENVELOPE_ITEMS.iter().position(|item| *item == name) {
            let follows_spf = previous_was_spf_or_envelope
                && envelope_seen <= position
                && results.last().is_some_and(|r| r.method == "spf");
            if !follows_spf {
                return Err(ResultsError::MisplacedEnvelopeItem);
            }
            let item = envelope_item(&mut c, &name, index)?;
            if let Some(spf) = results.last_mut() {
                spf.properties.push(item);
            }
            envelope_seen = position + 1;
            after_envelope_line = false;
            continue;
        }
        if envelope_seen > 0 && !after_envelope_line {
            return Err(ResultsError::ResultOnEnvelopeLine);
        }
        let info = resinfo(&mut c, name, index)?;
        if info.method != "dkim" && !single_methods.insert(info.method.clone()) {
            return Err(ResultsError::DuplicateMethod(info.method));
        }
        previous_was_spf_or_envelope = info.method == "spf";
        envelope_seen = 0;
        after_envelope_line = true;
        results.push(info);
    }
    if results.is_empty() {
        return Err(ResultsError::NoResults);
    }
    Ok(AuthResults {
        authserv_id,
        results,
    })
}

/// The authserv-id of an `Authentication-Results` value, read leniently (the rest need not
/// parse): used to tell whose header it claims to be. `None` when not even that can be read.
pub fn authserv_id(value: &str) -> Option<String> {
    let mut c = Cursor::new(value);
    c.skip_cfws().ok()?;
    value_token(&mut c).map(str::to_ascii_lowercase)
}

fn malformed(result: usize, expected: &'static str) -> ResultsError {
    ResultsError::Malformed { result, expected }
}

/// `[CFWS version]` after the authserv-id: digits, when they stand alone.
fn version(c: &mut Cursor<'_>) -> Result<(), ResultsError> {
    let mut probe = c.clone();
    let space = probe.skip_cfws()?;
    if space.any && probe.peek().is_some_and(|b| b.is_ascii_digit()) {
        probe.take_while(|b| b.is_ascii_digit());
        let mut end = probe.clone();
        end.skip_cfws()?;
        if end.at_end() || end.peek() == Some(b';') {
            *c = probe;
        }
    }
    Ok(())
}

/// `methodspec [CFWS reasonspec] *([CFWS] propspec)`; the method name is already read.
fn resinfo(c: &mut Cursor<'_>, method: String, index: usize) -> Result<ResInfo, ResultsError> {
    c.skip_cfws()?;
    if c.eat(b'/') {
        c.skip_cfws()?;
        if c.take_while(|b| b.is_ascii_digit()).is_empty() {
            return Err(malformed(index, "a method version"));
        }
        c.skip_cfws()?;
    }
    if !c.eat(b'=') {
        return Err(malformed(index, "`=` after the method"));
    }
    c.skip_cfws()?;
    let result = keyword(c)
        .ok_or_else(|| malformed(index, "a result keyword"))?
        .to_ascii_lowercase();
    let mut info = ResInfo {
        method,
        result,
        reason: None,
        properties: Vec::new(),
    };
    loop {
        c.skip_cfws()?;
        if c.at_end() || c.peek() == Some(b';') {
            return Ok(info);
        }
        if info.properties.len() >= MAX_ITEMS {
            return Err(ResultsError::TooMany);
        }
        let name = keyword(c)
            .ok_or_else(|| malformed(index, "a property"))?
            .to_ascii_lowercase();
        c.skip_cfws()?;
        if name == "reason" && info.reason.is_none() && info.properties.is_empty() && c.eat(b'=') {
            c.skip_cfws()?;
            info.reason = Some(value(c).ok_or_else(|| malformed(index, "a reason value"))??);
        } else if c.eat(b'.') {
            c.skip_cfws()?;
            let property = keyword(c)
                .ok_or_else(|| malformed(index, "a property name"))?
                .to_ascii_lowercase();
            c.skip_cfws()?;
            if !c.eat(b'=') {
                return Err(malformed(index, "`=` after the property"));
            }
            let value = pvalue(c).ok_or_else(|| malformed(index, "a property value"))??;
            info.properties.push(Property {
                ptype: Some(name),
                name: property,
                value,
            });
        } else if name == "client-ip" && c.eat(b'=') {
            c.skip_cfws()?;
            let ip = ip_address(c).ok_or_else(|| malformed(index, "an IP address"))?;
            info.properties.push(Property {
                ptype: None,
                name,
                value: ip,
            });
        } else {
            return Err(malformed(index, "`ptype.property=value`"));
        }
    }
}

/// SES's `envelope-from=pvalue` or `helo=(pvalue / address-literal)`; the name is read.
fn envelope_item(c: &mut Cursor<'_>, name: &str, index: usize) -> Result<Property, ResultsError> {
    c.skip_cfws()?;
    if !c.eat(b'=') {
        return Err(malformed(index, "`=` after the envelope item"));
    }
    c.skip_cfws()?;
    let value = if name == "helo" && c.peek() == Some(b'[') {
        let literal = address_literal(c).ok_or_else(|| malformed(index, "an address literal"))?;
        c.skip_cfws()?;
        literal
    } else {
        pvalue(c).ok_or_else(|| malformed(index, "an envelope value"))??
    };
    Ok(Property {
        ptype: None,
        name: name.to_owned(),
        value,
    })
}

/// `Keyword`: letters, digits and inner hyphens.
fn keyword<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let word = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-');
    let valid = !word.is_empty() && !word.starts_with('-') && !word.ends_with('-');
    valid.then_some(word)
}

/// RFC 2045 `token`: printable ASCII except specials.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// A bare `token` (used for the authserv-id, which cannot be quoted usefully here).
fn value_token<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let token = c.take_while(is_token_char);
    (!token.is_empty()).then_some(token)
}

/// `value = token / quoted-string`. `None`: nothing there; `Some(Err)`: a broken quote.
fn value(c: &mut Cursor<'_>) -> Option<Result<String, ResultsError>> {
    if c.peek() == Some(b'"') {
        return Some(c.quoted_string().map_err(ResultsError::from));
    }
    value_token(c).map(|t| Ok(t.to_owned()))
}

/// `pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]`.
fn pvalue(c: &mut Cursor<'_>) -> Option<Result<String, ResultsError>> {
    if let Err(e) = c.skip_cfws() {
        return Some(Err(e.into()));
    }
    // The part before a possible `@`: a quoted string, or a run of atom characters and dots.
    let quoted = c.peek() == Some(b'"');
    let first = if quoted {
        match c.quoted_string() {
            Ok(q) => q,
            Err(e) => return Some(Err(e.into())),
        }
    } else {
        c.take_while(|b| is_atext(b) || b == b'.').to_owned()
    };
    let text = if c.eat(b'@') {
        let local = match (quoted, first.is_empty()) {
            (true, _) => format!("\"{first}\""),
            (false, true) => String::new(),
            (false, false) if is_dot_atom(&first) => first,
            (false, false) => return None,
        };
        let domain = domain_name(c)?;
        format!("{local}@{domain}")
    } else if quoted {
        first
    } else if !first.is_empty() && first.bytes().all(is_token_char) {
        // Without `@` it must be a token: no `=`, `/` or `?`.
        first
    } else {
        return None;
    };
    if let Err(e) = c.skip_cfws() {
        return Some(Err(e.into()));
    }
    Some(Ok(text))
}

/// `dot-atom-text`: atoms joined by single dots.
pub(crate) fn is_dot_atom(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
}

/// `domain-name`: LDH labels joined by dots.
pub(crate) fn domain_name<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let name = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    is_domain_name(name).then_some(name)
}

/// Whether `name` is LDH labels (underscores allowed, as DKIM selectors and some hosts use
/// them) joined by dots.
pub(crate) fn is_domain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An IPv4 or IPv6 address (SES's `client-ip=`).
fn ip_address(c: &mut Cursor<'_>) -> Option<String> {
    let text = c.take_while(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':');
    text.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// `[...]`: an address literal, as a HELO may be.
fn address_literal(c: &mut Cursor<'_>) -> Option<String> {
    c.eat(b'[').then_some(())?;
    let inner = c.take_while(|b| b.is_ascii_graphic() && !b"[]\\".contains(&b));
    c.eat(b']').then(|| format!("[{inner}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header SES wrote on a real lead (tests/fixtures/leads/apartmentList-cpm13125.eml).
    const SES_REAL: &str = " amazonses.com;\r\n spf=fail (spfCheck: domain of em.apartmentlist.com does not designate 40.107.81.44 as permitted sender) client-ip=40.107.81.44; envelope-from=bounces+907926-6bda-rentbits=parkmerced.com@em.apartmentlist.com; helo=mail-eopbgr810044.outbound.protection.outlook.com;\r\n dkim=pass header.i=@maximusrepartners.onmicrosoft.com;\r\n dkim=pass header.i=@apartmentlist.com;\r\n dmarc=pass header.from=apartmentlist.com;";

    fn methods(r: &AuthResults) -> Vec<(&str, &str)> {
        r.results
            .iter()
            .map(|i| (i.method.as_str(), i.result.as_str()))
            .collect()
    }

    #[test]
    fn payload_reads_a_real_ses_header() {
        let r = parse(SES_REAL).unwrap();
        assert_eq!(r.authserv_id, "amazonses.com");
        assert_eq!(
            methods(&r),
            [
                ("spf", "fail"),
                ("dkim", "pass"),
                ("dkim", "pass"),
                ("dmarc", "pass")
            ]
        );
        let spf = &r.results[0];
        assert_eq!(spf.property(None, "client-ip"), Some("40.107.81.44"));
        assert_eq!(
            spf.property(None, "envelope-from"),
            Some("bounces+907926-6bda-rentbits=parkmerced.com@em.apartmentlist.com")
        );
        assert_eq!(
            spf.property(None, "helo"),
            Some("mail-eopbgr810044.outbound.protection.outlook.com")
        );
        assert_eq!(
            r.results[2].property(Some("header"), "i"),
            Some("@apartmentlist.com")
        );
        assert_eq!(
            r.results[3].property(Some("header"), "from"),
            Some("apartmentlist.com")
        );
    }

    #[test]
    fn payload_version_no_result_and_trailing_semicolon() {
        let r = parse("mx.example 1; none").unwrap();
        assert_eq!(r.authserv_id, "mx.example");
        assert!(r.results.is_empty());
        let r = parse("mx.example; dkim=pass header.d=a.example;").unwrap();
        assert_eq!(methods(&r), [("dkim", "pass")]);
        assert_eq!(parse("mx.example"), Err(ResultsError::NoResults));
        assert_eq!(parse("  ; spf=pass"), Err(ResultsError::NoAuthservId));
        assert!(parse("mx.example; none; spf=pass").is_err());
    }

    #[test]
    fn methodspec_with_version_and_case() {
        let r = parse("mx.example; DKIM/1 = Pass header.d=a.example").unwrap();
        assert_eq!(methods(&r), [("dkim", "pass")]);
        assert!(parse("mx.example; dkim/ = pass").is_err());
        assert!(parse("mx.example; dkim pass").is_err());
        assert!(parse("mx.example; dkim=").is_err());
        assert!(parse("mx.example; -dkim=pass").is_err());
    }

    #[test]
    fn reasonspec_token_or_quoted() {
        let r =
            parse("mx.example; dmarc=fail reason=\"p=reject; x\" header.from=a.example").unwrap();
        assert_eq!(r.results[0].reason.as_deref(), Some("p=reject; x"));
        assert_eq!(
            r.results[0].property(Some("header"), "from"),
            Some("a.example")
        );
        let r = parse("mx.example; spf=none reason=nothing").unwrap();
        assert_eq!(r.results[0].reason.as_deref(), Some("nothing"));
    }

    #[test]
    fn propspec_forms() {
        let r = parse(
            "mx.example; spf=pass smtp . mailfrom = \"a;b\"@x.example smtp.helo=mx.x.example (c) header.b=\"AbC+/=\"",
        )
        .unwrap();
        let spf = &r.results[0];
        assert_eq!(
            spf.property(Some("smtp"), "mailfrom"),
            Some("\"a;b\"@x.example")
        );
        assert_eq!(spf.property(Some("smtp"), "helo"), Some("mx.x.example"));
        assert_eq!(spf.property(Some("header"), "b"), Some("AbC+/="));
        // A property needs a ptype (SES's client-ip aside), a name and a value.
        assert!(parse("mx.example; spf=pass mailfrom=x.example").is_err());
        assert!(parse("mx.example; spf=pass smtp.=x.example").is_err());
        assert!(parse("mx.example; spf=pass smtp.mailfrom=").is_err());
        assert!(parse("mx.example; spf=pass smtp.mailfrom=a=b").is_err());
        assert!(parse("mx.example; spf=pass smtp.mailfrom=a@").is_err());
        assert!(parse("mx.example; spf=pass smtp.mailfrom=a..b@x.example").is_err());
        assert!(parse("mx.example; spf=pass client-ip=not-an-ip").is_err());
        let r = parse("mx.example; spf=pass client-ip=2001:db8::1").unwrap();
        assert_eq!(
            r.results[0].property(None, "client-ip"),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn pvalue_mailbox_and_empty_local_part() {
        let r = parse("mx.example; dkim=pass header.i=@a.example header.d=a.example").unwrap();
        assert_eq!(
            r.results[0].property(Some("header"), "i"),
            Some("@a.example")
        );
        let r = parse("mx.example; dkim=pass header.i=jane.doe+x@a.example").unwrap();
        assert_eq!(
            r.results[0].property(Some("header"), "i"),
            Some("jane.doe+x@a.example")
        );
    }

    #[test]
    fn a_method_twice_makes_the_header_unusable() {
        assert_eq!(
            parse("mx.example; dmarc=pass header.from=a.example; dmarc=fail header.from=a.example"),
            Err(ResultsError::DuplicateMethod("dmarc".into()))
        );
        assert!(parse("mx.example; spf=pass; spf=fail").is_err());
        // Several DKIM signatures are normal.
        assert!(
            parse("mx.example; dkim=pass header.d=a.example; dkim=fail header.d=b.example").is_ok()
        );
    }

    #[test]
    fn injections_through_the_envelope_never_parse() {
        // The sender's MAIL FROM, quoted: one value, nothing injected.
        let quoted = " amazonses.com;\r\n spf=pass (spfCheck: x) client-ip=192.0.2.1; envelope-from=\"a;dmarc=pass\"@evil.example; helo=mx.evil.example;\r\n dkim=none;\r\n dmarc=fail header.from=victim.example;";
        let r = parse(quoted).unwrap();
        assert_eq!(
            methods(&r),
            [("spf", "pass"), ("dkim", "none"), ("dmarc", "fail")]
        );
        // The sender's HELO with a `;`, before a real dmarc=fail: a second dmarc, or a result
        // on the HELO's line.
        let helo = " amazonses.com;\r\n spf=pass (spfCheck: x) client-ip=192.0.2.1; envelope-from=a@evil.example; helo=x;dmarc=pass;\r\n dkim=none;\r\n dmarc=fail header.from=victim.example;";
        assert_eq!(parse(helo), Err(ResultsError::ResultOnEnvelopeLine));
        // ... and where SES wrote no dmarc result at all.
        let helo_alone = " amazonses.com;\r\n spf=pass (spfCheck: x) client-ip=192.0.2.1; envelope-from=a@evil.example; helo=x;dmarc=pass header.from=victim.example;";
        assert_eq!(parse(helo_alone), Err(ResultsError::ResultOnEnvelopeLine));
        let mailfrom = " amazonses.com;\r\n spf=pass client-ip=192.0.2.1; envelope-from=a@evil.example;dkim=pass header.d=victim.example; helo=x;";
        assert!(parse(mailfrom).is_err());
        // An unbalanced `(` swallows SES's real results: the header is unusable.
        let paren = " amazonses.com;\r\n spf=pass (spfCheck: domain of evil.example( designates 192.0.2.1) client-ip=192.0.2.1; envelope-from=a@evil.example; helo=x;\r\n dmarc=fail header.from=victim.example;";
        assert_eq!(
            parse(paren),
            Err(ResultsError::Lexical(LexError::UnclosedComment))
        );
        // A `)` that closes SES's comment early leaves text that is no property.
        let close = " amazonses.com;\r\n spf=pass (spfCheck: domain of evil.example); dmarc=pass header.from=victim.example; x=y ( designates 192.0.2.1) client-ip=192.0.2.1; envelope-from=a@evil.example; helo=x;";
        assert_eq!(parse(close), Err(ResultsError::MisplacedEnvelopeItem));
    }

    #[test]
    fn envelope_items_only_after_spf_in_order() {
        assert_eq!(
            parse("amazonses.com; dkim=pass header.d=a.example; helo=x;"),
            Err(ResultsError::MisplacedEnvelopeItem)
        );
        assert_eq!(
            parse("amazonses.com; spf=pass; helo=x; envelope-from=a@b.example;"),
            Err(ResultsError::MisplacedEnvelopeItem)
        );
        assert_eq!(
            parse("amazonses.com; spf=pass; helo=x; helo=y;"),
            Err(ResultsError::MisplacedEnvelopeItem)
        );
        let r = parse("amazonses.com; spf=pass; helo=[192.0.2.1];\r\n dkim=none").unwrap();
        assert_eq!(r.results[0].property(None, "helo"), Some("[192.0.2.1]"));
    }

    #[test]
    fn hostile_sizes_are_refused() {
        let many = format!(
            "mx.example;{}",
            " dkim=pass header.d=a.example;".repeat(MAX_ITEMS + 1)
        );
        assert_eq!(parse(&many), Err(ResultsError::TooMany));
        let props = format!(
            "mx.example; dkim=pass{}",
            " header.d=a.example".repeat(MAX_ITEMS + 1)
        );
        assert_eq!(parse(&props), Err(ResultsError::TooMany));
        let ok = format!(
            "mx.example;{}",
            " dkim=pass header.d=a.example;".repeat(MAX_ITEMS)
        );
        assert!(parse(&ok).is_ok());
        // Deep comment nesting is counted, not recursed into.
        let deep = format!(
            "mx.example; dkim=pass {}{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(parse(&deep).is_ok());
    }

    #[test]
    fn folding_is_white_space() {
        let mut c = Cursor::new("\r\n x");
        assert!(c.skip_cfws().unwrap().line_break);
        let r = parse("mx.example;\r\n\tdkim\r\n =\r\n pass\r\n header.d=a.example").unwrap();
        assert_eq!(methods(&r), [("dkim", "pass")]);
    }

    #[test]
    fn garbage_never_parses() {
        for bad in [
            "",
            ";",
            "mx.example; dkim=pass header.d=a.example extra",
            "mx.example; dkim=pass header.d=a.example,",
            "mx.example; dkim=pass header.d=\"open",
            "mx.example; dkim=pass (open",
            "mx.example; dkim=pass header.d=a.example)",
            "mx.example;; dkim=pass",
            "mx.example; dkim=pass\u{0} header.d=a.example",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
