//! Structural limits of an email, checked on the raw bytes before mail-parser builds it.
//!
//! mail-parser keeps everything it finds: one entry per header, per address, per MIME part and
//! per nested message, each many times the size of the bytes it came from. A hostile email under
//! the 40 MB input cap could make it build gigabytes (10 million tiny headers, a `To:` list of
//! millions of addresses, millions of tiny MIME parts), and a message nested 25 000 levels deep
//! overflows the stack when it is dropped. [`check`] walks the same structure first, with
//! mail-parser's own primitives (header names, `Content-Type`, `Content-Transfer-Encoding`,
//! the boundary search, the transfer decoding of nested messages) and the same state machine,
//! but keeps nothing: it counts what parsing would build, in time linear in the input and
//! memory bounded by the nesting cap (plus the decoded copy of an encoded nested message, which
//! parsing makes as well), and stops at the first limit exceeded.

use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, HeaderName, HeaderValue, Message, PartType};

use crate::record::{Issue, IssueCode};

/// Deepest nesting of multiparts and `message/rfc822` parts an email may have.
///
/// Real mail nests a few levels (a forwarded message in a multipart inside a multipart); the
/// cap keeps every recursive walk over the parsed message (mail-parser's own, when it copies
/// an encoded nested message, and dropping it) far from the stack limit of any thread.
pub const MAX_MIME_NESTING: usize = 50;

/// How many levels of transfer-encoded (base64, quoted-printable) nested messages mail-parser
/// opens (its `MAX_NESTED_ENCODED`).
const ENCODED_LEVELS: usize = 3;

/// Caps on the structure of one email; their defaults are the `[settings]` defaults of
/// `mailex.toml` ([`crate::Settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLimits {
    /// Most MIME parts (multipart containers, leaves and nested messages, at every level).
    pub max_mime_parts: usize,
    /// Most header fields (of the message, of every part and of every nested message).
    pub max_headers: usize,
    /// Most bytes of header fields in total (names, values and folding).
    pub max_header_bytes: usize,
    /// Most addresses in the address headers (`From`, `To`, `Cc`, `Reply-To`, ...) together.
    pub max_addresses: usize,
}

/// Default of [`MessageLimits::max_mime_parts`].
pub const DEFAULT_MAX_MIME_PARTS: usize = 1_000;
/// Default of [`MessageLimits::max_headers`].
pub const DEFAULT_MAX_HEADERS: usize = 10_000;
/// Default of [`MessageLimits::max_header_bytes`]: 1 MiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 1024 * 1024;
/// Default of [`MessageLimits::max_addresses`].
pub const DEFAULT_MAX_ADDRESSES: usize = 1_000;

impl Default for MessageLimits {
    fn default() -> Self {
        MessageLimits {
            max_mime_parts: DEFAULT_MAX_MIME_PARTS,
            max_headers: DEFAULT_MAX_HEADERS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_addresses: DEFAULT_MAX_ADDRESSES,
        }
    }
}

/// The limit an email exceeds; it is not parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// Multiparts and nested messages nest deeper than [`MAX_MIME_NESTING`].
    #[error(
        "MIME parts and nested messages nest deeper than {MAX_MIME_NESTING} levels; the email was not parsed"
    )]
    TooDeep,
    /// More MIME parts than `settings.max_mime_parts`.
    #[error("the email has more than {0} MIME parts (settings.max_mime_parts); it was not parsed")]
    TooManyParts(usize),
    /// More header fields than `settings.max_headers`.
    #[error("the email has more than {0} header fields (settings.max_headers); it was not parsed")]
    TooManyHeaders(usize),
    /// More header bytes than `settings.max_header_bytes`.
    #[error(
        "the email's header fields exceed {0} bytes together (settings.max_header_bytes); it was not parsed"
    )]
    HeadersTooLarge(usize),
    /// More addresses than `settings.max_addresses`.
    #[error(
        "the email's address headers hold more than {0} addresses (settings.max_addresses); it was not parsed"
    )]
    TooManyAddresses(usize),
}

impl LimitExceeded {
    /// The record error for this limit, with its stable code.
    pub fn issue(&self) -> Issue {
        let message = self.to_string();
        match self {
            LimitExceeded::TooDeep => Issue::new(IssueCode::TooDeep, message),
            LimitExceeded::TooManyParts(_) => Issue::new(IssueCode::TooManyParts, message),
            LimitExceeded::TooManyHeaders(_) => Issue::new(IssueCode::TooManyHeaders, message),
            LimitExceeded::HeadersTooLarge(_) => Issue::new(IssueCode::HeadersTooLarge, message),
            LimitExceeded::TooManyAddresses(_) => Issue::new(IssueCode::TooManyAddresses, message),
        }
    }
}

/// Checks `raw` against `limits` without building the message.
pub(crate) fn check(raw: &[u8], limits: &MessageLimits) -> Result<(), LimitExceeded> {
    Walk::new(limits).message(raw, ENCODED_LEVELS, 0)
}

/// How deeply `message/rfc822` parts of a parsed message nest (0: none), without recursion.
pub(crate) fn message_depth(message: &Message<'_>) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(message, 0usize)];
    while let Some((message, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        for part in &message.parts {
            if let PartType::Message(inner) = &part.body {
                pending.push((inner, depth + 1));
            }
        }
    }
    deepest
}

/// Drops a parsed message without recursion: nested messages are taken out of their parts and
/// dropped one by one, so no depth of nesting can overflow the stack.
pub(crate) fn dismantle(message: Message<'_>) {
    let mut pending = vec![message];
    while let Some(mut message) = pending.pop() {
        for part in &mut message.parts {
            if matches!(part.body, PartType::Message(_))
                && let PartType::Message(inner) = std::mem::take(&mut part.body)
            {
                pending.push(inner);
            }
        }
    }
}

/// What a MIME type means for the structure (mail-parser's `mime_type`, reduced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Multipart { digest: bool },
    Message,
    Leaf,
}

fn kind(content_type: Option<&ContentType<'_>>, parent: Kind) -> Kind {
    match content_type {
        Some(ct) => match ct.ctype() {
            "multipart" => Kind::Multipart {
                digest: ct.subtype() == Some("digest"),
            },
            "message" if matches!(ct.subtype(), Some("rfc822" | "global")) => Kind::Message,
            _ => Kind::Leaf,
        },
        None if parent == (Kind::Multipart { digest: true }) => Kind::Message,
        None => Kind::Leaf,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    None,
    Base64,
    QuotedPrintable,
}

/// The state of one open container (mail-parser's `MessageParserState`, reduced).
struct State {
    kind: Kind,
    boundary: Option<Vec<u8>>,
}

/// What a header block says about its part.
struct PartHeaders<'x> {
    content_type: Option<ContentType<'x>>,
    encoding: Encoding,
}

struct Walk<'l> {
    limits: &'l MessageLimits,
    parts: usize,
    headers: usize,
    header_bytes: usize,
    addresses: usize,
    deepest: usize,
}

impl<'l> Walk<'l> {
    fn new(limits: &'l MessageLimits) -> Self {
        Walk {
            limits,
            parts: 0,
            headers: 0,
            header_bytes: 0,
            addresses: 0,
            deepest: 0,
        }
    }

    fn count_part(&mut self) -> Result<(), LimitExceeded> {
        self.parts += 1;
        if self.parts > self.limits.max_mime_parts {
            return Err(LimitExceeded::TooManyParts(self.limits.max_mime_parts));
        }
        Ok(())
    }

    /// Notes a container at nesting `depth`.
    fn enter(&mut self, depth: usize) -> Result<(), LimitExceeded> {
        self.deepest = self.deepest.max(depth);
        if depth > MAX_MIME_NESTING {
            Err(LimitExceeded::TooDeep)
        } else {
            Ok(())
        }
    }

    /// Walks one message the way `MessageParser::parse` does. `encoded_levels` is how many more
    /// levels of encoded nested messages parsing opens; `base_depth` is the nesting of this
    /// message inside the outermost one.
    fn message(
        &mut self,
        data: &[u8],
        encoded_levels: usize,
        base_depth: usize,
    ) -> Result<(), LimitExceeded> {
        let mut stream = MessageStream::new(data);
        let mut state = State {
            kind: Kind::Message,
            boundary: None,
        };
        // Each entry: the parent state, and whether it is the parent of a nested message.
        let mut stack: Vec<(State, bool)> = Vec::new();
        let parts_before = self.parts;
        'outer: loop {
            let headers_before = self.headers;
            let Some(part) = self.headers(&mut stream, data)? else {
                if self.parts == parts_before && self.headers > headers_before {
                    // A message of headers only still becomes a part.
                    self.count_part()?;
                }
                break;
            };
            self.count_part()?;
            let mut kind = kind(part.content_type.as_ref(), state.kind);
            if let Kind::Multipart { .. } = kind {
                match part
                    .content_type
                    .as_ref()
                    .and_then(|c| c.attribute("boundary"))
                {
                    Some(boundary) if stream.seek_next_part(boundary.as_bytes()) => {
                        let inner = State {
                            kind,
                            boundary: Some(boundary.as_bytes().to_vec()),
                        };
                        stack.push((std::mem::replace(&mut state, inner), false));
                        self.enter(base_depth + stack.len())?;
                        stream.skip_crlf();
                        continue;
                    }
                    _ => kind = Kind::Leaf,
                }
            }
            if kind == Kind::Message && part.encoding == Encoding::None {
                let inner = State {
                    kind: Kind::Message,
                    boundary: state.boundary.take(),
                };
                stack.push((std::mem::replace(&mut state, inner), true));
                self.enter(base_depth + stack.len())?;
                continue;
            }
            let boundary = state.boundary.clone().unwrap_or_default();
            let mut decoded = false;
            if kind == Kind::Message && encoded_levels > 0 {
                // Parsing decodes the part and parses the result as a message of its own.
                let (end, bytes) = match part.encoding {
                    Encoding::Base64 => stream.decode_base64_mime(&boundary),
                    _ => stream.decode_quoted_printable_mime(&boundary),
                };
                if end != usize::MAX {
                    decoded = true;
                    self.enter(base_depth + stack.len() + 1)?;
                    self.message(&bytes, encoded_levels - 1, base_depth + stack.len() + 1)?;
                }
            }
            if !decoded {
                // Where a leaf ends: the first `--boundary`, whether the body decodes or not.
                if !skip_past_delimiter(&mut stream, data, state.boundary.as_deref()) {
                    state.boundary = None;
                }
            }
            if state.boundary.is_some() {
                'inner: loop {
                    if state.kind == Kind::Message {
                        // The nested message ends here: back to its parent.
                        match stack.pop() {
                            Some((mut parent, true)) => {
                                parent.boundary = state.boundary.take();
                                state = parent;
                            }
                            _ => break 'outer,
                        }
                    }
                    if stream.is_multipart_end() {
                        if let Some((parent, _)) = stack.pop() {
                            state = parent;
                            if let Some(boundary) = &state.boundary
                                && stream.seek_next_part_offset(boundary).is_some()
                            {
                                continue 'inner;
                            }
                        }
                        break 'outer;
                    }
                    break 'inner;
                }
            } else if stream.offset() >= data.len() {
                break 'outer;
            }
        }
        Ok(())
    }

    /// Reads one header block the way `MessageStream::parse_headers` does, counting its fields;
    /// `None` when the input ends first.
    fn headers<'x>(
        &mut self,
        stream: &mut MessageStream<'x>,
        data: &'x [u8],
    ) -> Result<Option<PartHeaders<'x>>, LimitExceeded> {
        let mut part = PartHeaders {
            content_type: None,
            encoding: Encoding::None,
        };
        loop {
            loop {
                match stream.peek() {
                    Some(b'\n') => {
                        stream.next();
                        return Ok(Some(part));
                    }
                    None => return Ok(None),
                    Some(ch) if !ch.is_ascii_whitespace() => break,
                    _ => {
                        stream.next();
                    }
                }
            }
            let field_start = stream.offset();
            let Some(name) = stream.parse_header_name() else {
                if stream.is_eof() {
                    return Ok(None);
                }
                continue;
            };
            let value_start = stream.offset();
            let value_end = value_end(data, value_start);
            self.headers += 1;
            if self.headers > self.limits.max_headers {
                return Err(LimitExceeded::TooManyHeaders(self.limits.max_headers));
            }
            self.header_bytes += value_end - field_start;
            if self.header_bytes > self.limits.max_header_bytes {
                return Err(LimitExceeded::HeadersTooLarge(self.limits.max_header_bytes));
            }
            match name {
                HeaderName::ContentType => {
                    part.content_type = match stream.parse_content_type() {
                        HeaderValue::ContentType(ct) => Some(ct),
                        _ => None,
                    };
                }
                HeaderName::ContentTransferEncoding => {
                    part.encoding = match stream.parse_unstructured() {
                        HeaderValue::Text(e) if e.eq_ignore_ascii_case("base64") => {
                            Encoding::Base64
                        }
                        HeaderValue::Text(e) if e.eq_ignore_ascii_case("quoted-printable") => {
                            Encoding::QuotedPrintable
                        }
                        _ => Encoding::None,
                    };
                }
                name => {
                    if is_address_header(&name) {
                        // mail-parser starts a new address at every `,` and `;`.
                        let value = &data[value_start..value_end];
                        self.addresses +=
                            1 + value.iter().filter(|&&b| b == b',' || b == b';').count();
                        if self.addresses > self.limits.max_addresses {
                            return Err(LimitExceeded::TooManyAddresses(self.limits.max_addresses));
                        }
                    }
                    stream.parse_and_ignore();
                }
            }
        }
    }
}

/// Where a header value starting at `start` ends: after the first line break that is not
/// followed by a space or tab (folding), as every value parser of mail-parser reads it.
/// Moves `stream` (over `data`) past the first `--boundary` from where it is, as mail-parser's
/// `seek_part_end` does (it too takes `--boundary` anywhere, not only at a line start), and
/// says whether there was one; without a boundary the part runs to the end. The walk only
/// needs the new position, so a substring search (`memchr::memmem`, many bytes at a time)
/// replaces the byte-by-byte scan that also tracks where the part's content ends.
fn skip_past_delimiter(
    stream: &mut MessageStream<'_>,
    data: &[u8],
    boundary: Option<&[u8]>,
) -> bool {
    let Some(boundary) = boundary else {
        stream.seek_end();
        return true;
    };
    let delimiter = [b"--".as_slice(), boundary].concat();
    let rest = data.get(stream.offset()..).unwrap_or_default();
    match memchr::memmem::find(rest, &delimiter) {
        Some(at) => {
            stream.skip_bytes(at + delimiter.len());
            true
        }
        None => {
            stream.seek_end();
            false
        }
    }
}

fn value_end(data: &[u8], start: usize) -> usize {
    let mut i = start;
    while let Some(off) = data
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let lf = i + off;
        match data.get(lf + 1) {
            Some(b' ' | b'\t') => i = lf + 2,
            _ => return lf + 1,
        }
    }
    data.len()
}

/// The headers mail-parser parses into address lists (`MessageParser::with_address_headers`).
fn is_address_header(name: &HeaderName<'_>) -> bool {
    matches!(
        name,
        HeaderName::From
            | HeaderName::Sender
            | HeaderName::ReplyTo
            | HeaderName::To
            | HeaderName::Cc
            | HeaderName::Bcc
            | HeaderName::ResentFrom
            | HeaderName::ResentSender
            | HeaderName::ResentTo
            | HeaderName::ResentCc
            | HeaderName::ResentBcc
    )
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    /// What the walk counts: parts, header fields, deepest nesting.
    fn walked(raw: &[u8]) -> (usize, usize, usize) {
        let unlimited = MessageLimits {
            max_mime_parts: usize::MAX,
            max_headers: usize::MAX,
            max_header_bytes: usize::MAX,
            max_addresses: usize::MAX,
        };
        let mut walk = Walk::new(&unlimited);
        // Depth is capped even here: deeper inputs stop the walk.
        let _ = walk.message(raw, ENCODED_LEVELS, 0);
        (walk.parts, walk.headers, walk.deepest)
    }

    /// What mail-parser builds: parts, header fields, deepest message nesting (every nested
    /// message counted).
    fn built(message: &Message<'_>) -> (usize, usize, usize) {
        let mut totals = (message.parts.len(), 0, 0);
        for part in &message.parts {
            totals.1 += part.headers.len();
            if let PartType::Message(inner) = &part.body {
                let (parts, headers, depth) = built(inner);
                totals.0 += parts;
                totals.1 += headers;
                totals.2 = totals.2.max(depth + 1);
            }
        }
        totals
    }

    fn parser() -> MessageParser {
        MessageParser::new()
            .with_mime_headers()
            .with_date_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(HeaderName::Subject)
            .header_text(HeaderName::Comments)
    }

    /// The walk never counts less than parsing builds; returns whether it counted exactly.
    fn agrees(raw: &[u8], what: &str) -> bool {
        let (parts, headers, deepest) = walked(raw);
        let Some(message) = parser().parse(raw) else {
            return true;
        };
        let (built_parts, built_headers, built_depth) = built(&message);
        assert!(
            parts >= built_parts && headers >= built_headers && deepest >= built_depth,
            "{what}: walked {parts} parts, {headers} headers, depth {deepest}; \
             built {built_parts} parts, {built_headers} headers, message depth {built_depth}"
        );
        let exact = parts == built_parts && headers == built_headers;
        if !exact {
            eprintln!(
                "{what}: walked {parts} parts, {headers} headers; built {built_parts}, {built_headers}"
            );
        }
        exact
    }

    #[test]
    fn the_walk_counts_what_parsing_builds_on_real_mail() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        let mut stack = vec![root];
        let (mut files, mut exact) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "eml") {
                    let raw = std::fs::read(&path).unwrap();
                    files += 1;
                    exact += usize::from(agrees(&raw, &path.display().to_string()));
                }
            }
        }
        assert!(files > 100, "only {files} fixtures found");
        // Where they differ, the walk counts header blocks parsing reads and then drops (a
        // block cut short by the end of the input, a nested message it gives up on).
        assert!(
            exact * 100 >= files * 95,
            "{exact} of {files} counted exactly"
        );
    }

    #[test]
    fn the_walk_counts_what_parsing_builds_on_random_mime() {
        let pieces = [
            "Content-Type: multipart/mixed; boundary=a\r\n",
            "Content-Type: multipart/alternative; boundary=\"b\"\r\n",
            "Content-Type: multipart/digest; boundary=d\r\n",
            "Content-Type: multipart/mixed; boundary*0=x; boundary*1=y\r\n",
            "Content-Type: message/rfc822\r\n",
            "Content-Type: text/plain\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "From: a@b.example, c@d.example\r\n",
            "To: x@y.example;\r\n",
            "Subject: =?utf-8?q?x?=\r\n folded\r\n",
            "X:\r\n",
            "no colon\r\n",
            "\r\n",
            "\n",
            "--a\r\n",
            "--a--\r\n",
            "--b\r\n",
            "--b--",
            "--d\r\n",
            "--xy\r\n",
            "--xy--\r\n",
            "RnJvbTogYUBiLmV4YW1wbGUNCg0KYm9keQ0K\r\n",
            "From: a@b=2Eexample=\r\n\r\n",
            "text --a text\r\n",
            " \t\r\n",
        ];
        let mut documents = 0;
        for doc in crate::testing::random_documents(0x6d61696c, &pieces, 40, 3_000) {
            agrees(doc.as_bytes(), &format!("{doc:?}"));
            documents += 1;
        }
        assert!(documents >= 3_000);
    }

    #[test]
    fn each_cap_is_reported_with_its_code() {
        let limits = MessageLimits {
            max_mime_parts: 3,
            max_headers: 5,
            max_header_bytes: 100,
            max_addresses: 2,
        };
        let cases: [(&[u8], &str); 4] = [
            (
                b"From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--\r\n",
                "too_many_parts",
            ),
            (b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n", "too_many_headers"),
            (
                b"Subject: a very long subject\r\n that is folded\r\n over many lines\r\n and more lines\r\n and more lines\r\n and more lines\r\n and more lines\r\n and more lines\r\n and more lines\r\n\r\n",
                "headers_too_large",
            ),
            (b"To: a@b, c@d, e@f\r\n\r\n", "too_many_addresses"),
        ];
        for (raw, code) in cases {
            let error = check(raw, &limits).expect_err(code);
            assert_eq!(error.issue().code, code);
        }
        let deep = b"Content-Type: message/rfc822\r\n\r\n".repeat(MAX_MIME_NESTING + 2);
        let error = check(&deep, &MessageLimits::default()).expect_err("too deep");
        assert_eq!(error.issue().code, "too_deep");
        let fine = b"From: a@b\r\nTo: c@d\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n1\r\n--b--\r\n";
        assert_eq!(check(fine, &limits), Ok(()));
    }

    #[test]
    fn nesting_inside_an_encoded_message_counts() {
        let inner = "Content-Type: message/rfc822\r\n\r\n".repeat(MAX_MIME_NESTING + 5);
        // Quoted-printable: every `=` must be encoded, there is none.
        let raw = format!(
            "From: a@b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{inner}"
        );
        assert_eq!(
            check(raw.as_bytes(), &MessageLimits::default()),
            Err(LimitExceeded::TooDeep)
        );
        // Ten levels are fine.
        let inner = "Content-Type: message/rfc822\r\n\r\n".repeat(10) + "From: c@d\r\n\r\nx";
        let raw = format!(
            "From: a@b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{inner}"
        );
        assert!(agrees(raw.as_bytes(), "ten levels"));
        assert_eq!(walked(raw.as_bytes()).2, 11);
    }

    #[test]
    fn deep_messages_are_dropped_without_recursion() {
        // 25 000 levels: dropping this recursively overflows any thread's stack.
        let raw = "Content-Type: message/rfc822\r\n\r\n".repeat(25_000) + "From: a@b\r\n\r\nx";
        let message = parser().parse(raw.as_bytes()).expect("it parses");
        assert!(message_depth(&message) >= 24_000);
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn_scoped(scope, move || dismantle(message))
                .expect("a thread starts")
                .join()
                .expect("dismantling does not overflow");
        });
    }
}
