//! Charsets: how the text of a body part is decoded where mail-parser alone would get it wrong,
//! and what a record is told when a charset is unknown or the bytes are broken.
//!
//! mail-parser (with its `full_encoding` feature) decodes every charset it has a label for:
//! UTF-8, UTF-16, UTF-7, the ISO-8859 and windows-125x families, KOI8, and the multi-byte
//! ISO-2022-JP, Shift_JIS, EUC-JP, GBK/GB18030, Big5 and EUC-KR, in encoded-word headers,
//! RFC 2231 parameters and bodies. On its own it silently falls back to lossy UTF-8 for a label it
//! does not know and for a body that declares no charset. This module covers the rest, for body
//! parts only (headers are decoded by mail-parser and only checked here):
//!
//! - a label mail-parser does not know but the WHATWG Encoding Standard or the alias table below
//!   does (`cp932`, `x-windows-949`, `iso-2022-jp-2`, ...) is decoded by that encoding;
//! - an HTML part without a MIME charset is decoded by its `<meta charset>` or
//!   `<meta http-equiv="Content-Type">` declaration in the first 1024 bytes, as browsers do;
//! - a part declaring no charset (or `us-ascii`) that holds ISO-2022-JP escape sequences is
//!   decoded as ISO-2022-JP; one that is not valid UTF-8 is decoded by the detector's guess
//!   (chardetng, Firefox's detector);
//! - a label nobody knows is decoded by the detector's guess, with an `unknown_charset` warning.
//!
//! [`issues`] lists, for a record, every charset problem of an email: `unknown_charset`,
//! `charset_guessed` and `charset_decode_errors`. Messages name the part or header and the
//! charset label, never the text.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, Encoding};
use mail_parser::decoders::charsets::DecoderFnc;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, Message, MessagePart, MimeHeaders, PartType};

use crate::record::{Issue, IssueCode};

/// Browsers look for a `<meta>` charset declaration in this many leading bytes only.
pub(crate) const META_PRESCAN_BYTES: usize = 1024;

/// The detector reads at most this many leading bytes of a part (its guess settles long before).
const DETECTOR_BYTES: usize = 64 * 1024;

/// Charset issues reported per email at most (a hostile email may have thousands of parts).
const MAX_ISSUES: usize = 16;

/// Nested messages deeper than this are not checked for charset issues.
const MAX_NESTED_DEPTH: usize = 8;

/// What a charset label stands for.
#[derive(Clone, Copy)]
enum Charset {
    /// UTF-8: mail-parser's own decoding is right.
    Utf8,
    /// A label mail-parser decodes itself.
    MailParser(DecoderFnc),
    /// A label mail-parser does not know but the Encoding Standard or the alias table does.
    Encoding(&'static Encoding),
    /// A charset that is known but cannot be decoded (ISO-2022-KR, ISO-2022-CN, HZ-GB-2312:
    /// the Encoding Standard's replacement encoding).
    Undecodable,
    /// A label nobody knows.
    Unknown,
}

/// Labels seen in mail that neither mail-parser nor the Encoding Standard knows, and the
/// encoding that decodes them (a superset where the label names a vendor extension). Written
/// with `-` where labels vary between `-` and `_`.
static ALIASES: &[(&str, &Encoding)] = &[
    ("cp932", &encoding_rs::SHIFT_JIS_INIT),
    ("ibm-943", &encoding_rs::SHIFT_JIS_INIT),
    ("shift-jisx0213", &encoding_rs::SHIFT_JIS_INIT),
    ("shift-jis-2004", &encoding_rs::SHIFT_JIS_INIT),
    ("sjis-win", &encoding_rs::SHIFT_JIS_INIT),
    ("x-ms-cp932", &encoding_rs::SHIFT_JIS_INIT),
    ("x-mac-japanese", &encoding_rs::SHIFT_JIS_INIT),
    ("eucjp", &encoding_rs::EUC_JP_INIT),
    ("eucjp-ms", &encoding_rs::EUC_JP_INIT),
    ("eucjp-win", &encoding_rs::EUC_JP_INIT),
    ("euc-jisx0213", &encoding_rs::EUC_JP_INIT),
    ("euc-jis-2004", &encoding_rs::EUC_JP_INIT),
    ("iso-2022-jp-1", &encoding_rs::ISO_2022_JP_INIT),
    ("iso-2022-jp-2", &encoding_rs::ISO_2022_JP_INIT),
    ("iso-2022-jp-3", &encoding_rs::ISO_2022_JP_INIT),
    ("iso-2022-jp-2004", &encoding_rs::ISO_2022_JP_INIT),
    ("iso-2022-jp-ms", &encoding_rs::ISO_2022_JP_INIT),
    ("csiso2022jp2", &encoding_rs::ISO_2022_JP_INIT),
    ("cp50220", &encoding_rs::ISO_2022_JP_INIT),
    ("cp50221", &encoding_rs::ISO_2022_JP_INIT),
    ("cp50222", &encoding_rs::ISO_2022_JP_INIT),
    ("euc-cn", &encoding_rs::GB18030_INIT),
    ("euccn", &encoding_rs::GB18030_INIT),
    ("x-euc-cn", &encoding_rs::GB18030_INIT),
    ("cp20936", &encoding_rs::GB18030_INIT),
    ("gb18030-2022", &encoding_rs::GB18030_INIT),
    ("cp950", &encoding_rs::BIG5_INIT),
    ("ms950", &encoding_rs::BIG5_INIT),
    ("windows-950", &encoding_rs::BIG5_INIT),
    ("x-windows-950", &encoding_rs::BIG5_INIT),
    ("big5hkscs", &encoding_rs::BIG5_INIT),
    ("cp949", &encoding_rs::EUC_KR_INIT),
    ("ms949", &encoding_rs::EUC_KR_INIT),
    ("uhc", &encoding_rs::EUC_KR_INIT),
    ("x-windows-949", &encoding_rs::EUC_KR_INIT),
    ("euckr", &encoding_rs::EUC_KR_INIT),
    ("ks-c-5601", &encoding_rs::EUC_KR_INIT),
    ("ks-c-5601-1992", &encoding_rs::EUC_KR_INIT),
    ("cp874", &encoding_rs::WINDOWS_874_INIT),
    ("tis620", &encoding_rs::WINDOWS_874_INIT),
    ("koi8r", &encoding_rs::KOI8_R_INIT),
    ("koi8u", &encoding_rs::KOI8_U_INIT),
    ("cp367", &encoding_rs::WINDOWS_1252_INIT),
    ("csascii", &encoding_rs::WINDOWS_1252_INIT),
    ("ibm367", &encoding_rs::WINDOWS_1252_INIT),
    ("iso646-us", &encoding_rs::WINDOWS_1252_INIT),
    ("iso-ir-6", &encoding_rs::WINDOWS_1252_INIT),
    ("us", &encoding_rs::WINDOWS_1252_INIT),
    ("ansi-x3.4-1986", &encoding_rs::WINDOWS_1252_INIT),
    ("utf8mb4", &encoding_rs::UTF_8_INIT),
];

/// Resolves a charset label: UTF-8, then mail-parser's table, then the Encoding Standard's
/// labels, then [`ALIASES`].
fn resolve(label: &str) -> Charset {
    let label = label.trim();
    let bytes = label.as_bytes();
    let standard = Encoding::for_label(bytes);
    if standard == Some(encoding_rs::UTF_8) {
        return Charset::Utf8;
    }
    if standard == Some(encoding_rs::REPLACEMENT) || label.eq_ignore_ascii_case("replacement") {
        return Charset::Undecodable;
    }
    if let Some(decoder) = charset_decoder(bytes) {
        return Charset::MailParser(decoder);
    }
    if let Some(encoding) = standard {
        return Charset::Encoding(encoding);
    }
    let normalized = label.replace('_', "-");
    match ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(&normalized))
    {
        Some((_, encoding)) if *encoding == encoding_rs::UTF_8 => Charset::Utf8,
        Some((_, encoding)) => Charset::Encoding(encoding),
        None => Charset::Unknown,
    }
}

/// Whether a label names US-ASCII (mail-parser reads it as windows-1252).
fn is_ascii_label(label: &str) -> bool {
    [
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
        "iso646-us",
        "us",
        "csascii",
    ]
    .iter()
    .any(|a| a.eq_ignore_ascii_case(label.trim()))
}

/// The label as a message may show it: charset labels are short tokens; anything else is not
/// repeated (it is attacker-controlled text).
fn shown(label: &str) -> String {
    let label = label.trim();
    let token = !label.is_empty()
        && label.len() <= 40
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+".contains(&b));
    if token {
        format!("`{label}`")
    } else {
        "an unreadable label".to_owned()
    }
}

/// Decodes `bytes` with `encoding` (no BOM sniffing), replacing malformed sequences with
/// U+FFFD; returns the text and how many sequences were malformed.
fn decode_counting(encoding: &'static Encoding, bytes: &[u8]) -> (String, usize) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut out = String::with_capacity(capacity);
    let mut errors = 0;
    let mut rest = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut out, true);
        rest = rest.get(read..).unwrap_or_default();
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::Malformed(_, _) => {
                errors += 1;
                out.push('\u{FFFD}');
            }
            DecoderResult::OutputFull => {
                let more = decoder
                    .max_utf8_buffer_length_without_replacement(rest.len())
                    .unwrap_or(rest.len().saturating_mul(3))
                    .max(16);
                out.reserve(more);
            }
        }
    }
    (out, errors)
}

/// The detector's guess for `bytes` (UTF-8 allowed, ISO-2022-JP allowed: this is mail).
fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    let head = bytes.get(..DETECTOR_BYTES).unwrap_or(bytes);
    detector.feed(head, head.len() == bytes.len());
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// Whether `text` holds an ISO-2022-JP escape sequence (JIS X 0208 or JIS X 0201 Roman).
/// What one scan of a decoded text finds: an escape byte (ISO-2022-JP text read as UTF-8
/// keeps its escapes) and the replacement character (bytes that did not decode).
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    escape: bool,
    replacement: bool,
}

impl Marks {
    /// One vectorised pass for ESC and U+FFFD (`EF BF BD` in UTF-8) together, where two
    /// `contains` calls would read the text twice; it stops when both are found.
    fn of(text: &str) -> Marks {
        let bytes = text.as_bytes();
        let mut marks = Marks::default();
        for at in memchr::memchr2_iter(0x1b, 0xef, bytes) {
            if bytes[at] == 0x1b {
                marks.escape = true;
            } else if bytes.get(at + 1..at + 3) == Some(&[0xbf, 0xbd][..]) {
                marks.replacement = true;
            }
            if marks.escape && marks.replacement {
                break;
            }
        }
        marks
    }
}

fn has_iso2022jp_escapes(text: &str) -> bool {
    text.contains('\u{1b}')
        && ["\u{1b}$B", "\u{1b}$@", "\u{1b}(J", "\u{1b}(I"]
            .iter()
            .any(|e| text.contains(e))
}

/// The bytes of a body part with its transfer encoding removed, exactly as mail-parser decoded
/// them before applying the charset.
fn part_bytes<'a>(message: &'a Message<'_>, part: &MessagePart<'_>) -> Cow<'a, [u8]> {
    let start = part.raw_body_offset() as usize;
    let end = (part.raw_end_offset() as usize).max(start);
    let raw = message.raw_message().get(start..end).unwrap_or_default();
    let (end, decoded) = match part.encoding {
        mail_parser::Encoding::QuotedPrintable => {
            MessageStream::new(raw).decode_quoted_printable_mime(b"")
        }
        mail_parser::Encoding::Base64 => MessageStream::new(raw).decode_base64_mime(b""),
        mail_parser::Encoding::None => return Cow::Borrowed(raw),
    };
    if end == usize::MAX {
        // mail-parser keeps the raw bytes of a part it cannot decode: so do we.
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(decoded.into_owned())
    }
}

/// The text of one body part, and the charset issue it has, if any.
pub(crate) struct Decoded<'a> {
    /// The text, decoded as well as it can be.
    pub text: Cow<'a, str>,
    /// What the record should be told.
    pub issue: Option<Issue>,
}

impl<'a> Decoded<'a> {
    fn clean(text: Cow<'a, str>) -> Self {
        Decoded { text, issue: None }
    }
}

/// The text of a text or HTML body `part` of `message`, whose text as mail-parser decoded it is
/// `text`.
///
/// The common case (a charset mail-parser knows, or valid UTF-8) costs two scans of the text for
/// U+FFFD and ESC and returns `text` borrowed; the part is decoded again only when mail-parser
/// could not have decoded it right.
pub(crate) fn body_text<'a>(
    message: &'a Message<'_>,
    id: u32,
    part: &'a MessagePart<'_>,
    text: &'a str,
    is_html: bool,
) -> Decoded<'a> {
    let place = PartPlace { id, html: is_html };
    let declared = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(str::trim)
        .filter(|label| !label.is_empty());
    if let Some(label) = declared {
        return declared_text(message, part, text, label, place, false);
    }
    if is_html && let Some(label) = meta_declaration(message, part, text) {
        return declared_text(message, part, text, &label, place, true);
    }
    undeclared_text(message, part, text, place, None)
}

/// Where a body part is, for messages.
#[derive(Clone, Copy)]
struct PartPlace {
    id: u32,
    html: bool,
}

impl std::fmt::Display for PartPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.html { "text/html" } else { "text/plain" };
        write!(f, "the {kind} body (MIME part {})", self.id)
    }
}

/// The charset an HTML part's `<meta>` tags declare in its first 1024 bytes.
fn meta_declaration(message: &Message<'_>, part: &MessagePart<'_>, text: &str) -> Option<String> {
    let mut end = text.len().min(META_PRESCAN_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let prefix = text.get(..end).unwrap_or_default();
    if !prefix.contains('\u{FFFD}') {
        // Valid UTF-8 so far: these are the part's first bytes.
        return crate::html::meta_charset_str(prefix);
    }
    let bytes = part_bytes(message, part);
    let head = String::from_utf8_lossy(bytes.get(..META_PRESCAN_BYTES).unwrap_or(&bytes));
    crate::html::meta_charset_str(&head)
}

/// A part whose charset is `label` (from the MIME header, or from a meta tag when `from_meta`).
fn declared_text<'a>(
    message: &'a Message<'_>,
    part: &'a MessagePart<'_>,
    text: &'a str,
    label: &str,
    place: PartPlace,
    from_meta: bool,
) -> Decoded<'a> {
    let mut charset = resolve(label);
    if from_meta {
        // The HTML standard: a meta tag cannot switch to UTF-16, and x-user-defined means
        // windows-1252.
        let standard = Encoding::for_label(label.trim().as_bytes());
        if standard.is_some_and(|e| e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE) {
            charset = Charset::Utf8;
        } else if standard == Some(encoding_rs::X_USER_DEFINED) {
            charset = Charset::Encoding(encoding_rs::WINDOWS_1252);
        }
    }
    let named = shown(label);
    match charset {
        Charset::Utf8 => undeclared_text(message, part, text, place, Some(label)),
        Charset::MailParser(_) if is_ascii_label(label) => {
            undeclared_text(message, part, text, place, Some(label))
        }
        Charset::MailParser(decoder) if from_meta => {
            let bytes = part_bytes(message, part);
            let text = decoder(&bytes);
            with_errors(Cow::Owned(text), label, &bytes, place)
        }
        Charset::MailParser(_) => {
            if !text.contains('\u{FFFD}') {
                return Decoded::clean(Cow::Borrowed(text));
            }
            let bytes = part_bytes(message, part);
            with_errors(Cow::Borrowed(text), label, &bytes, place)
        }
        Charset::Encoding(encoding) => {
            let bytes = part_bytes(message, part);
            let (decoded, errors) = decode_counting(encoding, &bytes);
            Decoded {
                text: Cow::Owned(decoded),
                issue: (errors > 0).then(|| decode_errors(place, errors, encoding.name())),
            }
        }
        Charset::Undecodable | Charset::Unknown => {
            let bytes = part_bytes(message, part);
            let encoding = guess(&bytes);
            let (decoded, _) = decode_counting(encoding, &bytes);
            let why = if matches!(charset, Charset::Undecodable) {
                "which mailex cannot decode"
            } else {
                "which mailex does not know"
            };
            Decoded {
                text: Cow::Owned(decoded),
                issue: Some(Issue::new(
                    IssueCode::UnknownCharset,
                    format!(
                        "{place} declares the charset {named}, {why}; it was decoded as {}, the detector's guess",
                        encoding.name()
                    ),
                )),
            }
        }
    }
}

/// Checks text decoded by mail-parser in the charset `label` for replacement characters that
/// stand for malformed bytes.
fn with_errors<'a>(text: Cow<'a, str>, label: &str, bytes: &[u8], place: PartPlace) -> Decoded<'a> {
    if !text.contains('\u{FFFD}') {
        return Decoded::clean(text);
    }
    let errors = match Encoding::for_label(label.trim().as_bytes()) {
        Some(encoding) => decode_counting(encoding, bytes).1,
        None => text.matches('\u{FFFD}').count(),
    };
    let issue = (errors > 0).then(|| decode_errors(place, errors, &shown(label)));
    Decoded { text, issue }
}

fn decode_errors(place: impl std::fmt::Display, errors: usize, charset: &str) -> Issue {
    Issue::new(
        IssueCode::CharsetDecodeErrors,
        format!(
            "{place} has {errors} byte sequence(s) that are not valid {charset}; each was replaced by U+FFFD"
        ),
    )
}

/// A part that declares no charset, or UTF-8 or US-ASCII (`declared`): mail-parser read it as
/// UTF-8 (as windows-1252 for US-ASCII).
fn undeclared_text<'a>(
    message: &'a Message<'_>,
    part: &'a MessagePart<'_>,
    text: &'a str,
    place: PartPlace,
    declared: Option<&str>,
) -> Decoded<'a> {
    let says_utf8 = declared.is_some_and(|label| matches!(resolve(label), Charset::Utf8));
    let marks = Marks::of(text);
    if !says_utf8 && marks.escape && has_iso2022jp_escapes(text) {
        let bytes = part_bytes(message, part);
        let (decoded, errors) = decode_counting(encoding_rs::ISO_2022_JP, &bytes);
        let declares = match declared {
            Some(label) => format!("declares the charset {}", shown(label)),
            None => "declares no charset".to_owned(),
        };
        return Decoded {
            text: Cow::Owned(decoded),
            issue: Some(if errors > 0 {
                decode_errors(place, errors, "ISO-2022-JP")
            } else {
                Issue::new(
                    IssueCode::CharsetGuessed,
                    format!(
                        "{place} {declares} but holds ISO-2022-JP escape sequences; it was decoded as ISO-2022-JP"
                    ),
                )
            }),
        };
    }
    if declared.is_some() && !says_utf8 {
        // US-ASCII: mail-parser's windows-1252 reading never fails.
        return Decoded::clean(Cow::Borrowed(text));
    }
    if !marks.replacement {
        return Decoded::clean(Cow::Borrowed(text));
    }
    let bytes = part_bytes(message, part);
    if std::str::from_utf8(&bytes).is_ok() {
        // The replacement characters were in the text itself.
        return Decoded::clean(Cow::Borrowed(text));
    }
    if says_utf8 {
        let errors = decode_counting(encoding_rs::UTF_8, &bytes).1;
        return Decoded {
            text: Cow::Borrowed(text),
            issue: Some(decode_errors(place, errors, "UTF-8")),
        };
    }
    let encoding = guess(&bytes);
    let (decoded, errors) = decode_counting(encoding, &bytes);
    Decoded {
        text: Cow::Owned(decoded),
        issue: Some(if errors > 0 {
            decode_errors(place, errors, encoding.name())
        } else {
            Issue::new(
                IssueCode::CharsetGuessed,
                format!(
                    "{place} declares no charset and is not valid UTF-8; it was decoded as {}, the detector's guess",
                    encoding.name()
                ),
            )
        }),
    }
}

/// Every charset issue of `message` and of the messages nested in it, at most [`MAX_ISSUES`].
///
/// `clean` receives the ids of the message's own body parts whose text is mail-parser's as it
/// stands (no issue, nothing decoded again), so the text and HTML views can use those parts
/// without checking them a second time.
pub(crate) fn issues(message: &Message<'_>, clean: &mut Vec<u32>) -> Vec<Issue> {
    let mut out = Vec::new();
    collect(message, "", 0, &mut out, clean);
    out.dedup();
    out.truncate(MAX_ISSUES);
    out
}

fn collect(
    message: &Message<'_>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<Issue>,
    clean: &mut Vec<u32>,
) {
    header_issues(message, prefix, out);
    let mut seen: Vec<u32> = Vec::new();
    for &id in message.text_body.iter().chain(&message.html_body) {
        if out.len() >= MAX_ISSUES {
            return;
        }
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(part) = message.part(id) else {
            continue;
        };
        let decoded = match &part.body {
            PartType::Text(text) => body_text(message, id, part, text, false),
            PartType::Html(html) => body_text(message, id, part, html, true),
            _ => continue,
        };
        match decoded.issue {
            Some(mut issue) => {
                issue.message.insert_str(0, prefix);
                out.push(issue);
            }
            None if depth == 0 && matches!(decoded.text, Cow::Borrowed(_)) => clean.push(id),
            None => {}
        }
    }
    if depth >= MAX_NESTED_DEPTH {
        return;
    }
    let nested = message.attachments().filter_map(|part| match &part.body {
        PartType::Message(nested) => Some(nested),
        _ => None,
    });
    for (n, nested) in nested.enumerate() {
        let prefix = format!("{prefix}in nested message {}: ", n + 1);
        collect(nested, &prefix, depth + 1, out, &mut Vec::new());
    }
}

/// Encoded words and RFC 2231 parameters in charsets mail-parser cannot decode, and header
/// values that hold replacement characters or raw ISO-2022-JP escapes.
fn header_issues(message: &Message<'_>, prefix: &str, out: &mut Vec<Issue>) {
    let raw = message.raw_message();
    for (id, part) in message.parts.iter().enumerate() {
        for header in &part.headers {
            if out.len() >= MAX_ISSUES {
                return;
            }
            let name = header.name();
            let where_ = || {
                if id == 0 {
                    format!("{prefix}header `{name}`")
                } else {
                    format!("{prefix}header `{name}` of MIME part {id}")
                }
            };
            let value = raw
                .get(header.offset_start() as usize..header.offset_end() as usize)
                .unwrap_or_default();
            if is_plain_ascii_header(value) {
                continue;
            }
            let value_text = String::from_utf8_lossy(value);
            for label in declared_labels(&value_text) {
                let why = match resolve(label) {
                    Charset::Utf8 | Charset::MailParser(_) => continue,
                    Charset::Undecodable => "which mailex cannot decode",
                    Charset::Encoding(_) | Charset::Unknown => {
                        "which mailex cannot decode in headers"
                    }
                };
                out.push(Issue::new(
                    IssueCode::UnknownCharset,
                    format!(
                        "{} uses the charset {}, {why}; it was read as UTF-8",
                        where_(),
                        shown(label)
                    ),
                ));
            }
            let mut broken = false;
            let mut escaped = false;
            for_each_text(header.value(), &mut |text| {
                broken |= text.contains('\u{FFFD}');
                escaped |= has_iso2022jp_escapes(text);
            });
            if broken && !String::from_utf8_lossy(value).contains('\u{FFFD}') {
                out.push(Issue::new(
                    IssueCode::CharsetDecodeErrors,
                    format!(
                        "{} has bytes that are not valid in their charset; they were replaced by U+FFFD",
                        where_()
                    ),
                ));
            } else if broken {
                out.push(Issue::new(
                    IssueCode::CharsetDecodeErrors,
                    format!(
                        "{} holds raw bytes that are not UTF-8 outside encoded words; they were replaced by U+FFFD",
                        where_()
                    ),
                ));
            }
            if escaped {
                out.push(Issue::new(
                    IssueCode::CharsetDecodeErrors,
                    format!(
                        "{} holds raw ISO-2022-JP escape sequences outside encoded words; they were not decoded",
                        where_()
                    ),
                ));
            }
        }
    }
}

/// Calls `f` with every piece of decoded text a header value holds.
fn for_each_text(value: &HeaderValue<'_>, f: &mut dyn FnMut(&str)) {
    match value {
        HeaderValue::Text(text) => f(text),
        HeaderValue::TextList(list) => list.iter().for_each(|t| f(t)),
        HeaderValue::Address(address) => {
            if let Some(groups) = address.as_group() {
                groups
                    .iter()
                    .filter_map(|g| g.name.as_deref())
                    .for_each(&mut *f);
            }
            address.iter().filter_map(|a| a.name()).for_each(f);
        }
        HeaderValue::ContentType(ct) => ct
            .attributes()
            .unwrap_or_default()
            .iter()
            .for_each(|a| f(&a.value)),
        _ => {}
    }
}

/// The charset labels a raw header value declares: of encoded words (`=?label?B?...?=`, RFC 2231
/// language tags stripped) and of RFC 2231 extended parameters (`name*=label'lang'...`).
/// Raw bytes that are not UTF-8 do not hide the labels around them (the caller reads the value
/// lossily).
/// Whether a raw header value can hold no charset problem: ASCII (so valid UTF-8) without an
/// escape byte, an encoded word (`=?`) or an RFC 2231 parameter (`*=`). Most header fields
/// are; the check is two vectorised scans, so they cost next to nothing.
fn is_plain_ascii_header(value: &[u8]) -> bool {
    value.is_ascii()
        && memchr::memchr2_iter(b'=', 0x1b, value).all(|at| {
            value[at] == b'='
                && value.get(at + 1) != Some(&b'?')
                && (at == 0 || value[at - 1] != b'*')
        })
}

fn declared_labels(text: &str) -> Vec<&str> {
    let mut labels = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("=?") {
        let after = rest.get(at + 2..).unwrap_or_default();
        // An encoded word: `label?X?data?=` with X one of B, Q.
        let Some(q) = after.find('?') else { break };
        let label = after.get(..q).unwrap_or_default();
        let encoding = after.get(q + 1..q + 2).unwrap_or_default();
        let well_formed = !label.is_empty()
            && label.len() <= 64
            && !label.contains(|c: char| c.is_whitespace())
            && matches!(encoding, "B" | "b" | "Q" | "q")
            && after.get(q + 2..q + 3) == Some("?");
        if well_formed {
            labels.push(label.split('*').next().unwrap_or(label));
        }
        rest = after;
    }
    let mut rest = text;
    while let Some(at) = rest.find("*=") {
        let after = rest.get(at + 2..).unwrap_or_default();
        let after = after.trim_start_matches('"');
        if let Some(quote) = after.find('\'') {
            let label = after.get(..quote).unwrap_or_default();
            if !label.is_empty() && label.len() <= 64 && label.bytes().all(|b| b.is_ascii_graphic())
            {
                labels.push(label);
            }
        }
        rest = after;
    }
    labels.sort_unstable();
    labels.dedup();
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_headers_are_told_apart_in_one_scan() {
        for plain in [
            &b"Jane <jane@example.com>"[..],
            b"v=1; a=rsa-sha256; d=x",
            b"",
            b"=",
        ] {
            assert!(is_plain_ascii_header(plain), "{plain:?}");
        }
        for not_plain in [
            &b"=?utf-8?q?Jane?="[..],
            b"attachment; filename*=utf-8''x",
            b"\x1b$B",
            "Ren\u{e9}".as_bytes(),
            b"trailing =?",
        ] {
            assert!(!is_plain_ascii_header(not_plain), "{not_plain:?}");
        }
    }

    #[test]
    fn one_scan_finds_escapes_and_replacement_characters() {
        let marks = |t: &str| {
            let m = Marks::of(t);
            (m.escape, m.replacement)
        };
        assert_eq!(marks("plain ASCII text"), (false, false));
        assert_eq!(marks("caf\u{e9} \u{fe0f} \u{ffef}"), (false, false)); // EF lead bytes, not FFFD
        assert_eq!(marks("end \u{FFFD}"), (false, true));
        assert_eq!(marks("\u{1b}$B text"), (true, false));
        assert_eq!(marks("\u{FFFD} and \u{1b}(J"), (true, true));
        for text in ["", "\u{1b}", "\u{FFFD}", "x\u{ef}"] {
            let m = Marks::of(text);
            assert_eq!(m.escape, text.contains('\u{1b}'), "{text:?}");
            assert_eq!(m.replacement, text.contains('\u{FFFD}'), "{text:?}");
        }
    }

    #[test]
    fn labels_resolve_through_mail_parser_the_standard_and_the_aliases() {
        assert!(matches!(resolve("UTF-8"), Charset::Utf8));
        assert!(matches!(resolve("utf8"), Charset::Utf8));
        assert!(matches!(resolve("utf8mb4"), Charset::Utf8));
        for label in [
            "iso-2022-jp",
            "Shift_JIS",
            "euc-jp",
            "GB2312",
            "gbk",
            "gb18030",
            "big5",
            "euc-kr",
            "ks_c_5601-1987",
            "koi8-r",
            "windows-1252",
        ] {
            assert!(matches!(resolve(label), Charset::MailParser(_)), "{label}");
        }
        assert!(matches!(resolve("CP932"), Charset::Encoding(e) if e == encoding_rs::SHIFT_JIS));
        assert!(
            matches!(resolve("x_windows_949"), Charset::Encoding(e) if e == encoding_rs::EUC_KR)
        );
        assert!(
            matches!(resolve("ISO-2022-JP-2"), Charset::Encoding(e) if e == encoding_rs::ISO_2022_JP)
        );
        assert!(matches!(resolve("hz-gb-2312"), Charset::Undecodable));
        assert!(matches!(resolve("iso-2022-kr"), Charset::Undecodable));
        assert!(matches!(resolve("x-no-such-charset"), Charset::Unknown));
    }

    #[test]
    fn labels_are_shown_only_when_they_look_like_labels() {
        assert_eq!(shown(" x-sjis "), "`x-sjis`");
        assert_eq!(shown("Jane Doe <jane@example.com>"), "an unreadable label");
        assert_eq!(shown(&"a".repeat(41)), "an unreadable label");
    }

    #[test]
    fn decoding_counts_malformed_sequences() {
        assert_eq!(
            decode_counting(encoding_rs::SHIFT_JIS, b"\x82\xa0abc"),
            ("あabc".to_owned(), 0)
        );
        let (text, errors) = decode_counting(encoding_rs::UTF_8, b"a\xffb\xfe");
        assert_eq!((text.as_str(), errors), ("a\u{FFFD}b\u{FFFD}", 2));
    }

    #[test]
    fn the_detector_tells_cjk_charsets_apart() {
        let text =
            "お問い合わせありがとうございます。担当者よりご連絡いたします。物件についてのご質問";
        for encoding in [
            encoding_rs::SHIFT_JIS,
            encoding_rs::EUC_JP,
            encoding_rs::ISO_2022_JP,
        ] {
            let (bytes, _, _) = encoding.encode(text);
            assert_eq!(guess(&bytes), encoding, "{}", encoding.name());
        }
        let (bytes, _, _) =
            encoding_rs::EUC_KR.encode("안녕하세요. 매물에 대해 문의드립니다. 연락 부탁드립니다.");
        assert_eq!(guess(&bytes), encoding_rs::EUC_KR);
    }

    #[test]
    fn header_labels_are_found_in_encoded_words_and_rfc2231_parameters() {
        let value =
            " =?ISO-2022-JP?B?GyRCJDMbKEI=?= =?x-weird*ja?Q?a?= =?not a word?= =?utf-8?q?x?=";
        assert_eq!(
            declared_labels(value),
            vec!["ISO-2022-JP", "utf-8", "x-weird"]
        );
        let value = " attachment; filename*=cp932''%82%A0.pdf";
        assert_eq!(declared_labels(value), vec!["cp932"]);
        assert!(declared_labels("plain text, no words").is_empty());
        let raw = b" =?x-klingon?B?cWFwbGE=?= \xb0\xa1";
        assert_eq!(
            declared_labels(&String::from_utf8_lossy(raw)),
            vec!["x-klingon"]
        );
    }
}
