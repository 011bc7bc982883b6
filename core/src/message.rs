//! The message model: one parsed view of an email that every extractor reads.
//!
//! [`Email`] wraps a [`mail_parser::Message`] (zero-copy over the raw bytes) and adds what
//! extractors need on top: decoded headers by name, address lists, a plain-text view that is
//! derived from the HTML when there is no text part, the parsed HTML document (parsed at most
//! once, and only when something asks for it), attachments with decoded bytes, and nested
//! `message/rfc822` parts as emails of their own.

use std::borrow::Cow;
use std::cell::OnceCell;

use mail_parser::{
    HeaderForm, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

pub(crate) mod limits;

pub use limits::{LimitExceeded, MAX_MIME_NESTING, MessageLimits};

/// An email address with its display name, as found in an address header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Display name (`"Jane Doe"` in `Jane Doe <jane@example.com>`), decoded.
    pub name: Option<String>,
    /// The address itself (`jane@example.com`), as written.
    pub email: Option<String>,
}

impl Address {
    /// The domain part of the address, lower-cased.
    pub fn domain(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        let (_, domain) = email.rsplit_once('@')?;
        Some(domain.trim_end_matches('>').to_ascii_lowercase())
    }
}

/// An attachment (or any non-body leaf part) of an email.
#[derive(Debug, Clone)]
pub struct Attachment<'m> {
    /// File name from Content-Disposition or Content-Type, decoded.
    pub name: Option<String>,
    /// MIME type, lower-case, e.g. `application/xml`.
    pub content_type: String,
    /// Decoded bytes (transfer encoding removed).
    pub bytes: &'m [u8],
}

impl Attachment<'_> {
    /// The bytes as text (lossy UTF-8 where the part is not valid UTF-8).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes)
    }
}

/// Why raw input could not be turned into an [`Email`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input does not start with a header field, or has no recognisable header.
    #[error(
        "input is not an email message (it does not start with a header field such as `From:`)"
    )]
    NotAMessage,
    /// The email exceeds a structural limit ([`MessageLimits`]); it was not parsed.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

impl ParseError {
    /// The record error for this failure, with its stable code.
    pub fn issue(&self) -> crate::record::Issue {
        match self {
            ParseError::NotAMessage => {
                crate::record::Issue::new(crate::record::IssueCode::ParseError, self.to_string())
            }
            ParseError::Limit(limit) => limit.issue(),
        }
    }
}

/// Whether the input starts like an email: its first line (after blank lines, a byte-order
/// mark and an mbox `From ` line) is a header field, a name of printable ASCII without `:`
/// (at most 998 bytes, RFC 5322's line limit) followed by `:`. mail-parser accepts almost
/// anything as headers, so without this a file of random bytes holding a colon somewhere
/// would be read as an email without a sender (`unmatched`) instead of `parse_error`.
pub(crate) fn starts_with_header_field(raw: &[u8]) -> bool {
    let mut rest = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
    while let Some(after) = rest
        .strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
    {
        rest = after;
    }
    if rest.starts_with(b"From ") {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return false;
        };
        rest = &rest[end + 1..];
    }
    let name_len = rest
        .iter()
        .take(999)
        .take_while(|&&b| (0x21..=0x7e).contains(&b) && b != b':')
        .count();
    let after_name = &rest[name_len..];
    let colon = after_name
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map(|i| &after_name[i..]);
    name_len > 0 && name_len <= 998 && colon.is_some_and(|c| c.starts_with(b":"))
}

enum Owned<'m> {
    Owned(Box<Message<'m>>),
    Borrowed(&'m Message<'m>),
}

/// A parsed email and the lazily computed views extractors read.
///
/// Parsing is best effort (mail-parser never panics on malformed input); the text view, the
/// HTML document and the meta tags are computed on first use and cached for the life of the
/// value, so every extractor run on the same email shares them.
pub struct Email<'m> {
    message: Owned<'m>,
    text: OnceCell<String>,
    html: OnceCell<Option<String>>,
    document: OnceCell<Option<scraper::Html>>,
    meta: OnceCell<Vec<(String, String)>>,
    meta_omitted: std::cell::Cell<usize>,
    /// Body parts [`Email::charset_issues`] found clean (set when it runs).
    clean_parts: OnceCell<Vec<u32>>,
    html_trimmed: std::cell::Cell<crate::html::HtmlTrimmed>,
}

impl std::fmt::Debug for Email<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print content: it is personal data.
        f.debug_struct("Email")
            .field("message_id", &self.message_id())
            .finish_non_exhaustive()
    }
}

impl<'m> Email<'m> {
    /// Parses raw RFC 5322 bytes.
    ///
    /// ```
    /// let raw = b"From: Portal <leads@portal.example>\r\nSubject: New lead\r\n\r\nName: Jane\r\n";
    /// let email = mailex_core::Email::parse(raw).unwrap();
    /// assert_eq!(email.subject(), Some("New lead"));
    /// assert!(email.text().contains("Name: Jane"));
    /// ```
    pub fn parse(raw: &'m [u8]) -> Result<Email<'m>, ParseError> {
        Email::parse_with_limits(raw, &MessageLimits::default())
    }

    /// Parses raw RFC 5322 bytes after checking them against `limits` (and nesting against
    /// [`MAX_MIME_NESTING`]): an email over a limit is refused before mail-parser builds it.
    pub fn parse_with_limits(
        raw: &'m [u8],
        limits: &MessageLimits,
    ) -> Result<Email<'m>, ParseError> {
        if !starts_with_header_field(raw) {
            return Err(ParseError::NotAMessage);
        }
        limits::check(raw, limits)?;
        let message = MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(mail_parser::HeaderName::Subject)
            .header_text(mail_parser::HeaderName::Comments)
            .parse(raw)
            .filter(|m| !m.headers().is_empty())
            .ok_or(ParseError::NotAMessage)?;
        // The check above follows the parser's structure; this one holds even where they
        // differ, so no email deeper than the cap exists (dropping one recursively could
        // overflow the stack; this one is taken apart without recursion).
        if limits::message_depth(&message) > limits::MAX_MIME_NESTING {
            limits::dismantle(message);
            return Err(LimitExceeded::TooDeep.into());
        }
        Ok(Email::from_owned(message))
    }

    fn from_owned(message: Message<'m>) -> Self {
        Email::with(Owned::Owned(Box::new(message)))
    }

    fn with(message: Owned<'m>) -> Self {
        Email {
            message,
            text: OnceCell::new(),
            html: OnceCell::new(),
            document: OnceCell::new(),
            meta: OnceCell::new(),
            meta_omitted: std::cell::Cell::new(0),
            clean_parts: OnceCell::new(),
            html_trimmed: std::cell::Cell::new(crate::html::HtmlTrimmed::default()),
        }
    }

    /// The underlying mail-parser message, for anything this view does not cover (inside the
    /// crate only: mail-parser's types stay out of the public API).
    pub(crate) fn message(&self) -> &Message<'m> {
        match &self.message {
            Owned::Owned(message) => message,
            Owned::Borrowed(message) => message,
        }
    }

    /// The raw bytes of the message.
    pub fn raw(&self) -> &[u8] {
        self.message().raw_message()
    }

    /// The first header called `name` (case-insensitive), decoded (RFC 2047, any charset) and
    /// unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_all(name).into_iter().next()
    }

    /// Every header called `name`, top to bottom, decoded and unfolded.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        let message = self.message();
        let present = message
            .headers()
            .iter()
            .any(|h| h.name().eq_ignore_ascii_case(name));
        if !present {
            return Vec::new();
        }
        message
            .header_as(name.to_owned(), HeaderForm::Text)
            .into_iter()
            .filter_map(|value| header_value_text(&value))
            .collect()
    }

    /// Every header as `(name, raw value)`, top to bottom, undecoded (used by authentication).
    pub fn raw_headers(&self) -> Vec<(&str, &str)> {
        self.message().headers_raw().collect()
    }

    /// Addresses in the first `From` field. A mail with several From fields is never
    /// authenticated; routing and extractors all read the first one.
    pub fn from(&self) -> Vec<Address> {
        let first = self
            .message()
            .header_values(mail_parser::HeaderName::From)
            .next()
            .and_then(HeaderValue::as_address);
        addresses(first)
    }

    /// Addresses in `Reply-To`.
    pub fn reply_to(&self) -> Vec<Address> {
        addresses(self.message().reply_to())
    }

    /// Addresses in `To`.
    pub fn to(&self) -> Vec<Address> {
        addresses(self.message().to())
    }

    /// Addresses in `Sender`.
    pub fn sender(&self) -> Vec<Address> {
        addresses(self.message().sender())
    }

    /// The first address of the first `From` field, lower-cased: what routing matches on and
    /// what authentication checks.
    pub fn from_address(&self) -> Option<String> {
        self.from()
            .into_iter()
            .find_map(|a| a.email)
            .map(|e| e.trim().to_ascii_lowercase())
    }

    /// The decoded subject.
    pub fn subject(&self) -> Option<&str> {
        self.message().subject()
    }

    /// The `Date` header as UTC, if present and valid.
    pub fn date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let date = self.message().date()?;
        if !date.is_valid() {
            return None;
        }
        chrono::DateTime::from_timestamp(date.to_timestamp(), 0)
    }

    /// The Message-ID without angle brackets.
    pub fn message_id(&self) -> Option<&str> {
        self.message().message_id()
    }

    /// The plain-text view of the body.
    ///
    /// Text parts are used as they are; an HTML-only body is rendered to text that keeps line
    /// and table-cell boundaries (see [`crate::html_text_view`], the streaming scanner that
    /// renders it without building the document). Several body
    /// parts are joined with blank lines. Parts are decoded from their charset, including the
    /// cases mail-parser alone gets wrong (see [`Email::charset_issues`]).
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let message = self.message();
            let mut out = String::new();
            for (id, part) in body_parts(message, &message.text_body) {
                let piece = match &part.body {
                    PartType::Text(text) => self.part_text(id, part, text, false),
                    // Rendered by the streaming scanner: no DOM is built for the text view.
                    PartType::Html(html) => Cow::Owned(crate::html::text_view_str(
                        &self.part_text(id, part, html, true),
                    )),
                    _ => continue,
                };
                if !out.is_empty() {
                    out.push_str("\n\n");
                }
                out.push_str(piece.trim_end());
            }
            out
        })
    }

    /// [`Email::text`] under an extractor's budget: when the view still has to be rendered from
    /// HTML parts, the rendering starts only if its worst case (time and size) fits the
    /// budget; a view already rendered costs nothing.
    pub fn text_within(
        &self,
        budget: &crate::budget::Budget,
    ) -> Result<&str, crate::budget::Exceeded> {
        if self.text.get().is_none() {
            let message = self.message();
            let html_bytes: usize = body_parts(message, &message.text_body)
                .map(|(_, part)| match &part.body {
                    PartType::Html(html) => html.len(),
                    _ => 0,
                })
                .sum();
            if html_bytes > 0 {
                crate::html::admit_text_view_of(html_bytes, budget)?;
            }
        }
        Ok(self.text())
    }

    /// The HTML body (the first `text/html` body part), if the email has one.
    pub fn html(&self) -> Option<&str> {
        self.html
            .get_or_init(|| {
                let message = self.message();
                body_parts(message, &message.html_body).find_map(|(id, part)| match &part.body {
                    PartType::Html(html) => Some(self.part_text(id, part, html, true).into_owned()),
                    _ => None,
                })
            })
            .as_deref()
    }

    /// Builds the HTML document CSS selection reads (once; it is cached) and says whether the
    /// email has one. Extractors build it on first use; calling this first moves that cost
    /// ahead (a benchmark that measures extraction alone) and fills [`Email::html_trimmed`].
    ///
    /// ```
    /// let deep = format!("From: a@x.example\r\nContent-Type: text/html\r\n\r\n{}x", "<div>".repeat(500));
    /// let email = mailex_core::Email::parse(deep.as_bytes()).unwrap();
    /// assert!(email.parse_html_document());
    /// assert!(email.html_trimmed().nesting);
    /// ```
    pub fn parse_html_document(&self) -> bool {
        self.html_document().is_some()
    }

    /// The HTML body parsed into a document, parsed once and cached.
    ///
    /// The parser's cost is bounded before parsing ([`crate::html::parse_document`]: nesting,
    /// number of elements, attributes); [`Email::html_trimmed`] tells what was removed.
    pub(crate) fn html_document(&self) -> Option<&scraper::Html> {
        self.html_document_within(&crate::budget::Budget::unlimited())
            .ok()
            .flatten()
    }

    /// [`Email::html_document`] under an extractor's budget: building the document is charged
    /// to it and stops when it is spent ([`crate::html::parse_document_within`]); nothing is
    /// cached then.
    pub(crate) fn html_document_within(
        &self,
        budget: &crate::budget::Budget,
    ) -> Result<Option<&scraper::Html>, crate::budget::Exceeded> {
        if let Some(document) = self.document.get() {
            return Ok(document.as_ref());
        }
        let document = match self.html() {
            Some(html) => {
                let (document, trimmed) = crate::html::parse_document_within(html, budget)?;
                self.html_trimmed.set(trimmed);
                Some(document)
            }
            None => None,
        };
        Ok(self.document.get_or_init(|| document).as_ref())
    }

    /// What was removed from the HTML before parsing it into the document
    /// ([`Email::parse_html_document`]); nothing for real emails, nor before the document is
    /// built.
    pub fn html_trimmed(&self) -> crate::html::HtmlTrimmed {
        self.html_trimmed.get()
    }

    /// Every `<meta name=... content=...>` pair of the HTML body, in document order: the first
    /// 1000 (`html::MAX_META_TAGS`); [`Email::meta_tags_omitted`] counts the rest.
    pub fn meta_tags(&self) -> &[(String, String)] {
        self.meta.get_or_init(|| match self.html() {
            Some(html) => {
                let (tags, total) =
                    crate::html::meta_tags_limited(html, crate::html::MAX_META_TAGS);
                self.meta_omitted.set(total - tags.len());
                tags
            }
            None => Vec::new(),
        })
    }

    /// How many meta tags of the HTML body [`Email::meta_tags`] left out (0 before it is
    /// called).
    pub fn meta_tags_omitted(&self) -> usize {
        self.meta_omitted.get()
    }

    /// The `content` of the first `<meta name="NAME">` in the HTML body (name compared
    /// case-insensitively).
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta_tags()
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, content)| content.as_str())
    }

    /// Attachments and other non-body leaf parts (nested messages excluded; see [`Email::nested`]).
    pub fn attachments(&self) -> Vec<Attachment<'_>> {
        self.message()
            .attachments()
            .filter_map(|part| {
                let bytes: &[u8] = match &part.body {
                    PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
                    PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
                    PartType::Message(_) | PartType::Multipart(_) => return None,
                };
                Some(Attachment {
                    name: part.attachment_name().map(str::to_owned),
                    content_type: content_type(part),
                    bytes,
                })
            })
            .collect()
    }

    /// Nested `message/rfc822` parts (forwarded emails), each as an email of its own.
    pub fn nested(&self) -> Vec<Email<'_>> {
        self.message()
            .attachments()
            .filter_map(|part| match &part.body {
                PartType::Message(message) => Some(Email::with(Owned::Borrowed(message))),
                _ => None,
            })
            .collect()
    }

    /// Charset problems of this email and the emails nested in it, as record warnings:
    /// `unknown_charset` (a label mailex does not know or cannot decode; the text was decoded by
    /// the detector's guess, or read as UTF-8 in a header), `charset_guessed` (a body without a
    /// usable charset declaration was decoded by what its bytes show) and
    /// `charset_decode_errors` (bytes not valid in their charset were replaced by U+FFFD).
    ///
    /// ```
    /// let raw = b"From: a@portal.example\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nName: Jane\r\n";
    /// let email = mailex_core::Email::parse(raw).unwrap();
    /// assert_eq!(email.charset_issues()[0].code, "unknown_charset");
    /// assert_eq!(email.text(), "Name: Jane");
    /// ```
    pub fn charset_issues(&self) -> Vec<crate::record::Issue> {
        let mut clean = Vec::new();
        let issues = crate::charset::issues(self.message(), &mut clean);
        let _ = self.clean_parts.set(clean);
        issues
    }

    /// Whether [`Email::charset_issues`] found body part `id` needing nothing beyond
    /// mail-parser's decoding (so the views need not check it again).
    fn is_clean_part(&self, id: u32) -> bool {
        self.clean_parts.get().is_some_and(|ids| ids.contains(&id))
    }

    /// The text of body part `id` as the views show it: mail-parser's text when the part is
    /// known clean, else decoded again where its charset needs it ([`crate::charset`]).
    fn part_text<'a>(
        &'a self,
        id: u32,
        part: &'a mail_parser::MessagePart<'m>,
        text: &'a str,
        is_html: bool,
    ) -> Cow<'a, str> {
        if self.is_clean_part(id) {
            return Cow::Borrowed(text);
        }
        crate::charset::body_text(self.message(), id, part, text, is_html).text
    }

    /// The date of the topmost `Received` header: when the receiving server got the email.
    ///
    /// The date after the last `;` is read by chrono's RFC 2822 parser rather than by
    /// mail-parser's `Received:` parser, which reads a two-digit year as 19xx (`17` as 1917;
    /// RFC 5322 and chrono: 2017) and does not check the weekday against the date; records
    /// keep the stricter reading (see the unit test `received_date_reads_two_digit_years`).
    pub fn received_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let (_, value) = self
            .raw_headers()
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Received"))?;
        let (_, date) = value.rsplit_once(';')?;
        let date = date.split_whitespace().collect::<Vec<_>>().join(" ");
        chrono::DateTime::parse_from_rfc2822(&date)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
            .or_else(|| {
                // RFC 2822 parsing rejects a trailing comment such as "(UTC)".
                let trimmed = date.split(" (").next().unwrap_or(&date);
                chrono::DateTime::parse_from_rfc2822(trimmed)
                    .ok()
                    .map(|d| d.with_timezone(&chrono::Utc))
            })
    }
}

/// The parts `ids` names (a message's text or HTML body list), with their ids.
fn body_parts<'a, 'm>(
    message: &'a Message<'m>,
    ids: &'a [u32],
) -> impl Iterator<Item = (u32, &'a MessagePart<'m>)> {
    ids.iter()
        .filter_map(move |&id| message.part(id).map(|part| (id, part)))
}

fn header_value_text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(text) => Some(text.to_string()),
        HeaderValue::TextList(list) => Some(list.join(", ")),
        HeaderValue::Empty => Some(String::new()),
        _ => None,
    }
}

fn addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<Address> {
    address
        .map(|list| {
            list.iter()
                .map(|a| Address {
                    name: a.name().map(str::to_owned),
                    email: a.address().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "application/octet-stream".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> Email<'_> {
        Email::parse(raw.as_bytes()).expect("test email parses")
    }

    #[test]
    fn headers_are_decoded_in_any_charset() {
        let raw = "From: =?windows-1252?Q?Jos=E9_M=FCller?= <jose@portal.example>\r\n\
                   Reply-To: =?ISO-8859-2?Q?Zden=ECk?= <z@example.net>\r\n\
                   Subject: =?iso-8859-1?q?Anfrage_f=FCr_Wohnung?=\r\n\
                   X-Listing: =?UTF-8?B?U8OjbyBQYXVsbw==?=\r\n\
                   Message-ID: <abc@portal.example>\r\n\r\nbody\r\n";
        let email = email(raw);
        assert_eq!(email.from()[0].name.as_deref(), Some("José Müller"));
        assert_eq!(email.reply_to()[0].name.as_deref(), Some("Zdeněk"));
        assert_eq!(email.subject(), Some("Anfrage für Wohnung"));
        assert_eq!(email.header("x-listing").as_deref(), Some("São Paulo"));
        assert_eq!(email.message_id(), Some("abc@portal.example"));
        assert_eq!(email.from_address().as_deref(), Some("jose@portal.example"));
        assert_eq!(email.from()[0].domain().as_deref(), Some("portal.example"));
        assert!(email.header("X-Missing").is_none());
    }

    #[test]
    fn bodies_are_decoded_from_their_charset() {
        let raw = b"From: a@portal.example\r\nContent-Type: text/plain; charset=windows-1252\r\n\
                    Content-Transfer-Encoding: quoted-printable\r\n\r\nPrice: 100=80 =96 caf=E9\r\n";
        let email = Email::parse(raw).unwrap();
        assert_eq!(email.text(), "Price: 100€ – café");
        let raw = b"From: a@portal.example\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nStra\xdfe\r\n";
        assert_eq!(Email::parse(raw).unwrap().text(), "Straße");
    }

    #[test]
    fn an_html_only_body_gets_a_text_view_that_keeps_cells_apart() {
        let raw = "From: a@portal.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                   <html><head><style>td{color:red}</style></head><body>\
                   <table><tr><td>Name:</td><td>Jane&nbsp;Doe</td></tr><tr><td>Phone:</td><td>555&#8209;0100</td></tr></table>\
                   <p>Line one<br>Line two</p></body></html>\r\n";
        let email = email(raw);
        let text = email.text();
        assert!(!text.contains("Name:Jane"), "cells glued: {text:?}");
        assert!(
            text.contains("Name:") && text.contains("Jane\u{a0}Doe") || text.contains("Jane Doe"),
            "{text:?}"
        );
        assert!(
            !text.contains("color:red"),
            "style leaked into text: {text:?}"
        );
        let one = text.find("Line one").unwrap();
        let two = text.find("Line two").unwrap();
        assert!(
            text[one..two].contains('\n'),
            "<br> must break the line: {text:?}"
        );
        assert!(email.html().unwrap().contains("<table>"));
        assert!(email.html_document().is_some());
    }

    #[test]
    fn attachments_and_nested_messages() {
        let raw = "From: a@portal.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                   --b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
                   --b\r\nContent-Type: application/xml; name=lead.xml\r\nContent-Disposition: attachment; filename=lead.xml\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\nPGFkZi8+\r\n\
                   --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@portal.example\r\nSubject: Fwd lead\r\n\r\ninner body\r\n\
                   --b--\r\n";
        let email = email(raw);
        let attachments = email.attachments();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].name.as_deref(), Some("lead.xml"));
        assert_eq!(attachments[0].content_type, "application/xml");
        assert_eq!(attachments[0].bytes, b"<adf/>");
        let nested = email.nested();
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].subject(), Some("Fwd lead"));
        assert_eq!(
            nested[0].from_address().as_deref(),
            Some("inner@portal.example")
        );
        assert!(nested[0].text().contains("inner body"));
    }

    #[test]
    fn meta_tags_and_received_date() {
        let raw = "Received: from x by inbound-smtp.us-east-1.amazonaws.com with SMTP id q;\r\n Tue, 03 Mar 2026 09:14:07 +0000 (UTC)\r\n\
                   From: a@portal.example\r\nContent-Type: text/html\r\n\r\n<body><meta name=\"Lead_Email\" content=\"x@y.example\"></body>\r\n";
        let email = email(raw);
        assert_eq!(email.meta("lead_email"), Some("x@y.example"));
        assert_eq!(
            email.received_date().map(|d| d.to_rfc3339()),
            Some("2026-03-03T09:14:07+00:00".to_owned())
        );
    }

    /// Why [`Email::received_date`] keeps chrono's reading of the date rather than
    /// mail-parser's `Received:` parser.
    #[test]
    fn received_date_reads_two_digit_years() {
        let value = "from x by inbound-smtp.us-east-1.amazonaws.com; Fri, 29 Sep 17 14:41:40 +0000";
        let raw = format!("Received: {value}\r\nFrom: a@portal.example\r\n\r\nx\r\n");
        assert_eq!(
            email(&raw).received_date().map(|d| d.to_rfc3339()),
            Some("2017-09-29T14:41:40+00:00".to_owned())
        );
        let parsed = mail_parser::parsers::MessageStream::new(value.as_bytes()).parse_received();
        let year = match parsed {
            HeaderValue::Received(received) => received.date.map(|d| d.year),
            _ => None,
        };
        assert_eq!(year, Some(1917));
        // A weekday that does not match the date: not a date chrono accepts.
        let wrong_day = "Received: x by y; Mon, 29 Sep 2017 14:41:40 +0000\r\nFrom: a@portal.example\r\n\r\nx\r\n";
        assert_eq!(email(wrong_day).received_date(), None);
    }

    /// `text` in `encoding`, as bytes (the test inputs are built with encoding_rs's encoders).
    fn encoded(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
        encoding.encode(text).0.into_owned()
    }

    /// Every byte as `=XX`: valid in a Q encoded word and in a quoted-printable body.
    fn q(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("={b:02X}")).collect()
    }

    #[test]
    fn multi_byte_charsets_decode_in_headers_bodies_and_attachment_names() {
        let cases = [
            (
                encoding_rs::ISO_2022_JP,
                "ISO-2022-JP",
                "山田 太郎",
                "お問い合わせ",
            ),
            (
                encoding_rs::SHIFT_JIS,
                "Shift_JIS",
                "山田 太郎",
                "電話番号：０９０",
            ),
            (encoding_rs::EUC_JP, "EUC-JP", "山田 太郎", "内見希望"),
            (encoding_rs::GBK, "GB2312", "张伟", "看房日期"),
            (encoding_rs::GB18030, "GB18030", "王䶮", "留言"),
            (encoding_rs::BIG5, "Big5", "陳 美玲", "看屋日期"),
            (
                encoding_rs::EUC_KR,
                "ks_c_5601-1987",
                "김 민준",
                "문의 내용",
            ),
        ];
        for (encoding, label, name, body) in cases {
            let mut raw = format!(
                "From: =?{label}?Q?{}?= <leads@portal.example>\r\nSubject: =?{label}?Q?{}?=\r\n\
                 Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
                 Content-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
                 --b\r\nContent-Type: application/pdf\r\n\
                 Content-Disposition: attachment; filename=\"=?{label}?Q?{}?=\"\r\n\r\n%PDF\r\n--b\r\n\
                 Content-Type: message/rfc822\r\n\r\nFrom: inner@portal.example\r\nSubject: =?{label}?Q?{}?=\r\n\
                 Content-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
                q(&encoded(name, encoding)),
                q(&encoded(body, encoding)),
                q(&encoded(body, encoding)),
                q(&encoded(&format!("{name}.pdf"), encoding)),
                q(&encoded(body, encoding)),
            )
            .into_bytes();
            raw.extend(encoded(name, encoding));
            raw.extend_from_slice(b"\r\n--b--\r\n");
            let email = Email::parse(&raw).unwrap();
            assert_eq!(email.from()[0].name.as_deref(), Some(name), "{label}");
            assert_eq!(email.subject(), Some(body), "{label}");
            assert_eq!(email.text(), body, "{label}");
            assert_eq!(
                email.attachments()[0].name.as_deref(),
                Some(format!("{name}.pdf").as_str()),
                "{label}"
            );
            let nested = email.nested();
            assert_eq!(nested[0].subject(), Some(body), "{label}");
            assert_eq!(nested[0].text(), name, "{label}");
            assert!(
                email.charset_issues().is_empty(),
                "{label}: {:?}",
                email.charset_issues()
            );
        }
    }

    #[test]
    fn an_html_body_is_decoded_by_its_meta_charset_when_the_header_has_none() {
        for meta in [
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">",
            "<META CHARSET='shift_jis'>",
            "<meta charset=cp932>",
        ] {
            let html = format!(
                "<html><head><title>物件</title>{meta}</head><body><p>お名前：山田 太郎</p></body></html>"
            );
            let mut raw = b"From: a@portal.example\r\nContent-Type: text/html\r\n\r\n".to_vec();
            raw.extend(encoded(&html, encoding_rs::SHIFT_JIS));
            let email = Email::parse(&raw).unwrap();
            assert_eq!(email.text(), "お名前：山田 太郎", "{meta}");
            assert!(email.html().unwrap().contains("山田 太郎"), "{meta}");
            assert!(email.charset_issues().is_empty(), "{meta}");
        }
        // Past the first 1024 bytes, a declaration is not looked for (browsers do not either).
        let html = format!(
            "<p>{}</p><meta charset=shift_jis><p>山田</p>",
            "x".repeat(1100)
        );
        let mut raw = b"From: a@portal.example\r\nContent-Type: text/html\r\n\r\n".to_vec();
        raw.extend(encoded(&html, encoding_rs::SHIFT_JIS));
        let email = Email::parse(&raw).unwrap();
        assert!(!email.text().contains("山田"));
        assert_eq!(email.charset_issues()[0].code, "charset_guessed");
        // The MIME header wins over the meta tag.
        let raw = "From: a@portal.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<meta charset=shift_jis><p>山田</p>";
        assert_eq!(email_text(raw), "山田");
    }

    fn email_text(raw: &str) -> String {
        Email::parse(raw.as_bytes()).unwrap().text().to_owned()
    }

    #[test]
    fn unknown_missing_and_broken_charsets_are_reported_and_decoded_as_well_as_possible() {
        let body = "お問い合わせありがとうございます。担当者よりご連絡いたします。";
        // An unknown label: the detector's guess, and a warning naming the label.
        let mut raw =
            b"From: a@portal.example\r\nContent-Type: text/plain; charset=x-portal-sjis\r\n\r\n"
                .to_vec();
        raw.extend(encoded(body, encoding_rs::SHIFT_JIS));
        let email = Email::parse(&raw).unwrap();
        assert_eq!(email.text(), body);
        let issues = email.charset_issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, "unknown_charset");
        assert!(
            issues[0].message.contains("`x-portal-sjis`")
                && issues[0].message.contains("Shift_JIS"),
            "{}",
            issues[0].message
        );
        // No charset and not UTF-8: guessed.
        let mut raw = b"From: a@portal.example\r\n\r\n".to_vec();
        raw.extend(encoded(body, encoding_rs::EUC_JP));
        let email = Email::parse(&raw).unwrap();
        assert_eq!(email.text(), body);
        assert_eq!(email.charset_issues()[0].code, "charset_guessed");
        // Declared us-ascii, but ISO-2022-JP.
        let mut raw =
            b"From: a@portal.example\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                .to_vec();
        raw.extend(encoded(body, encoding_rs::ISO_2022_JP));
        let email = Email::parse(&raw).unwrap();
        assert_eq!(email.text(), body);
        assert_eq!(email.charset_issues()[0].code, "charset_guessed");
        // Broken bytes in a declared charset: the rest decodes, the record is told how many.
        let mut raw =
            b"From: a@portal.example\r\nContent-Type: text/plain; charset=euc-kr\r\n\r\n".to_vec();
        raw.extend(encoded("안녕하세요", encoding_rs::EUC_KR));
        raw.extend_from_slice(b"\xff\xff");
        let email = Email::parse(&raw).unwrap();
        assert!(email.text().starts_with("안녕하세요"));
        let issues = email.charset_issues();
        assert_eq!(issues[0].code, "charset_decode_errors");
        assert!(
            issues[0].message.contains("`euc-kr`"),
            "{}",
            issues[0].message
        );
        // Broken UTF-8.
        let raw = b"From: a@portal.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \xe3\x81 end\r\n";
        let email = Email::parse(raw).unwrap();
        assert_eq!(email.text(), "ok \u{FFFD} end");
        assert_eq!(email.charset_issues()[0].code, "charset_decode_errors");
        // A literal U+FFFD in valid UTF-8 is text, not an error.
        let raw = "From: a@portal.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \u{FFFD}\r\n";
        assert!(email_issues(raw).is_empty());
        // Headers: an unknown label and undecodable raw bytes are reported, never the text.
        let raw =
            b"From: a@portal.example\r\nSubject: =?x-klingon?B?cWFwbGE=?= \xb0\xa1\r\n\r\nbody\r\n";
        let email = Email::parse(raw).unwrap();
        let codes: Vec<_> = email
            .charset_issues()
            .into_iter()
            .map(|i| (i.code, i.message))
            .collect();
        assert_eq!(codes.len(), 2, "{codes:?}");
        assert_eq!(codes[0].0, "unknown_charset");
        assert!(codes[0].1.contains("header `Subject`") && codes[0].1.contains("`x-klingon`"));
        assert_eq!(codes[1].0, "charset_decode_errors");
        assert!(!codes[0].1.contains("qapla"));
        // Plain Latin mail has nothing to report.
        let raw = "From: =?iso-8859-1?q?Jos=E9?= <a@portal.example>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nStra\u{df}e\r\n";
        assert!(email_issues(raw).is_empty());
    }

    fn email_issues(raw: &str) -> Vec<crate::record::Issue> {
        Email::parse(raw.as_bytes()).unwrap().charset_issues()
    }

    #[test]
    fn input_without_headers_is_not_a_message() {
        assert!(Email::parse(b"").is_err());
        assert!(Email::parse(b"\r\n\r\njust a body").is_err());
    }
}
