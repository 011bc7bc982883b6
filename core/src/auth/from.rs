//! Is the From header one unambiguous address?
//!
//! Authentication vouches for one domain, the From domain; it means something only when every
//! reader of the mail (SES, mail-parser, a person) sees the same single From address. So a mail
//! is authenticated only when:
//!
//! - it has exactly one `From:` field (in the raw bytes, and in mail-parser's view);
//! - that field holds exactly one mailbox, written cleanly (RFC 5322 `mailbox`:
//!   `[display-name] <addr-spec>` or a bare `addr-spec`, comments allowed; no group syntax, no
//!   second mailbox, no unclosed `<`, no route, no domain literal);
//! - the address read here equals the address routing used (mail-parser's).
//!
//! Anything else is [`FromProblem`]: the mail may still be routed (on the first mailbox of the
//! first From field), but it is never authenticated.

use std::fmt;

use super::fields::RawField;
use super::lex::{Cursor, is_atext, is_atext_or_utf8};
use super::results::{domain_name, is_dot_atom};

/// Why a From header cannot be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromProblem {
    /// More than one `From:` field.
    SeveralFields(usize),
    /// The From field holds no mailbox, several, or a group.
    NotOneMailbox,
    /// The From field does not parse cleanly (unclosed `<`, stray characters, non-UTF-8 ...).
    Malformed,
    /// The address read from the raw field differs from the one routing used.
    Disagrees,
}

impl fmt::Display for FromProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromProblem::SeveralFields(n) => write!(f, "the mail has {n} From headers"),
            FromProblem::NotOneMailbox => {
                f.write_str("the From header does not hold exactly one mailbox")
            }
            FromProblem::Malformed => f.write_str("the From header does not parse cleanly"),
            FromProblem::Disagrees => {
                f.write_str("the From header reads differently to different parsers")
            }
        }
    }
}

/// Checks the From header of a mail: `fields` are its raw header fields, `parsed_fields` the
/// number of From fields mail-parser saw, `routed` the address routing used (lower-cased).
///
/// `Ok(())` means the one From address is `routed`; a mail without any From is `Ok` too
/// (there is nothing to authenticate, and the policy check says so).
pub(crate) fn check_from<'a>(
    fields: impl Iterator<Item = RawField<'a>>,
    parsed_fields: usize,
    routed: Option<&str>,
) -> Result<(), FromProblem> {
    let mut count = 0usize;
    let mut first: Option<RawField<'a>> = None;
    for field in fields.filter(|f| f.is("From")) {
        count += 1;
        first.get_or_insert(field);
    }
    if count.max(parsed_fields) > 1 {
        return Err(FromProblem::SeveralFields(count.max(parsed_fields)));
    }
    let Some(field) = first else {
        return match (parsed_fields, routed) {
            (0, None) => Ok(()),
            _ => Err(FromProblem::Disagrees),
        };
    };
    let text = field.text().ok_or(FromProblem::Malformed)?;
    let address = single_mailbox(text)?;
    match routed {
        Some(routed) if routed == address => Ok(()),
        _ => Err(FromProblem::Disagrees),
    }
}

/// Reads a From value that must be exactly one mailbox; returns its address, lower-cased.
pub(crate) fn single_mailbox(value: &str) -> Result<String, FromProblem> {
    let mut c = Cursor::new(value);
    skip(&mut c)?;
    let address = match c.peek() {
        Some(b'<') => angle_addr(&mut c)?,
        _ => {
            // A display name, or the local part of a bare address: words and dots.
            let start = c.clone();
            let words = phrase(&mut c)?;
            match c.peek() {
                Some(b'<') if words > 0 => angle_addr(&mut c)?,
                Some(b'@') => {
                    let mut bare = start;
                    let address = addr_spec(&mut bare)?;
                    c = bare;
                    address
                }
                Some(b',' | b':' | b';') => return Err(FromProblem::NotOneMailbox),
                _ => return Err(FromProblem::Malformed),
            }
        }
    };
    skip(&mut c)?;
    match c.peek() {
        None => Ok(address),
        Some(b',' | b':' | b';') => Err(FromProblem::NotOneMailbox),
        Some(_) => Err(FromProblem::Malformed),
    }
}

fn skip(c: &mut Cursor<'_>) -> Result<(), FromProblem> {
    c.skip_cfws()
        .map(|_| ())
        .map_err(|_| FromProblem::Malformed)
}

/// `phrase`: words (atoms, UTF-8 allowed, or quoted strings) and dots, with CFWS. Returns how
/// many words it read.
fn phrase(c: &mut Cursor<'_>) -> Result<usize, FromProblem> {
    let mut words = 0;
    loop {
        skip(c)?;
        match c.peek() {
            Some(b'"') => {
                c.quoted_string().map_err(|_| FromProblem::Malformed)?;
                words += 1;
            }
            Some(b'.') => {
                c.eat(b'.');
            }
            Some(b) if is_atext_or_utf8(b) => {
                c.take_while(is_atext_or_utf8);
                words += 1;
            }
            _ => return Ok(words),
        }
    }
}

/// `angle-addr = "<" addr-spec ">"`; the cursor is on `<`.
fn angle_addr(c: &mut Cursor<'_>) -> Result<String, FromProblem> {
    c.eat(b'<');
    skip(c)?;
    if c.peek() == Some(b'@') {
        // An obsolete source route (`<@relay:a@b>`).
        return Err(FromProblem::Malformed);
    }
    let address = addr_spec(c)?;
    skip(c)?;
    if !c.eat(b'>') {
        return Err(FromProblem::Malformed);
    }
    Ok(address)
}

/// `addr-spec = local-part "@" domain`, with a dot-atom or quoted local part and a host name
/// as domain (no domain literal, no white space inside).
fn addr_spec(c: &mut Cursor<'_>) -> Result<String, FromProblem> {
    skip(c)?;
    let local = if c.peek() == Some(b'"') {
        let content = c.quoted_string().map_err(|_| FromProblem::Malformed)?;
        if !content.is_ascii() {
            return Err(FromProblem::Malformed);
        }
        format!("\"{content}\"")
    } else {
        let atoms = c.take_while(|b| is_atext(b) || b == b'.');
        if !is_dot_atom(atoms) {
            return Err(FromProblem::Malformed);
        }
        atoms.to_owned()
    };
    if !c.eat(b'@') {
        return Err(FromProblem::Malformed);
    }
    let domain = domain_name(c).ok_or(FromProblem::Malformed)?;
    Ok(format!("{local}@{domain}").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::fields::header_fields;

    #[test]
    fn clean_single_mailboxes() {
        for (value, address) in [
            (" leads@portal.example", "leads@portal.example"),
            (" Portal <Leads@Portal.Example>", "leads@portal.example"),
            (
                " \"Apartment List Interests\" <interests@apartmentlist.com>",
                "interests@apartmentlist.com",
            ),
            (
                " Yelp for Business Owners\r\n <reply+ce3f4b@messaging.yelp.com>",
                "reply+ce3f4b@messaging.yelp.com",
            ),
            (
                " \"Digible, Inc.\" <leads@digible.com>",
                "leads@digible.com",
            ),
            (" John Q. Public <jqp@x.example> (comment)", "jqp@x.example"),
            (" =?utf-8?q?Jos=C3=A9?= <j@x.example>", "j@x.example"),
            (" José Müller <j@x.example>", "j@x.example"),
            (" <bare@x.example>", "bare@x.example"),
            (" a.b+c@sub.x.example (Portal)", "a.b+c@sub.x.example"),
        ] {
            assert_eq!(single_mailbox(value).as_deref(), Ok(address), "{value:?}");
        }
    }

    #[test]
    fn several_mailboxes_and_groups_are_not_one() {
        for value in [
            " a@good.example, b@evil.example",
            " Good <a@good.example>, Evil <b@evil.example>",
            " Team: a@victim.example;",
            " Team: ;",
            " undisclosed-recipients:;",
        ] {
            assert_eq!(
                single_mailbox(value),
                Err(FromProblem::NotOneMailbox),
                "{value:?}"
            );
        }
    }

    #[test]
    fn unclean_values_are_malformed() {
        for value in [
            "",
            " ",
            " Victim <leads@victim.example",
            " Victim leads@victim.example>",
            " <@relay.example:leads@victim.example>",
            " leads@[192.0.2.1]",
            " leads@victim.example <x@evil.example>",
            " <a@b.example> <c@d.example>",
            " a..b@x.example",
            " a@x..example",
            " \"unclosed <a@x.example>",
            " (unclosed a@x.example",
            " a @ x.example extra",
            " <a@x.example> trailing",
            " Jané <jané@x.example>",
            " name",
        ] {
            assert!(single_mailbox(value).is_err(), "{value:?} accepted");
        }
    }

    #[test]
    fn the_mail_needs_one_from_field_agreeing_with_routing() {
        let one = b"From: Portal <leads@portal.example>\r\nTo: x@y.example\r\n\r\n";
        assert_eq!(
            check_from(header_fields(one), 1, Some("leads@portal.example")),
            Ok(())
        );
        assert_eq!(
            check_from(header_fields(one), 1, Some("other@portal.example")),
            Err(FromProblem::Disagrees)
        );
        let two = b"From: a@evil.example\r\nFROM: leads@portal.example\r\n\r\n";
        assert_eq!(
            check_from(header_fields(two), 2, Some("a@evil.example")),
            Err(FromProblem::SeveralFields(2))
        );
        // Raw bytes and mail-parser must agree on the count, too.
        assert_eq!(
            check_from(header_fields(one), 2, Some("leads@portal.example")),
            Err(FromProblem::SeveralFields(2))
        );
        let latin1 = b"From: J\xe9r\xf4me <leads@portal.example>\r\n\r\n";
        assert_eq!(
            check_from(header_fields(latin1), 1, Some("leads@portal.example")),
            Err(FromProblem::Malformed)
        );
        assert_eq!(
            check_from(header_fields(b"To: a@b.example\r\n\r\n"), 0, None),
            Ok(())
        );
    }
}
