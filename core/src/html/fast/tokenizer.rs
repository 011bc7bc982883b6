//! The tokenizer: one linear pass over the HTML string that finds tags, comments, doctypes,
//! CDATA and raw-text content (`<script>`, `<title>`, ... up to their end tag) and hands them to the
//! tree emulation ([`Builder`](super::tree::Builder)); it reads only the attributes that matter
//! (`<meta>`, `<font>`, `<input>`) and never slices inside a character.

use super::char_ref::decode;
use super::doctype::doctype_quirks;
use super::tree::{Attrs, Builder, Raw};

pub(super) fn run(html: &str, b: &mut Builder) {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let mut buf = String::new();
    let mut name_buf = String::new();
    let mut i = 0;
    while i < len {
        let lt = find_byte(bytes, i, b'<').unwrap_or(len);
        // Text only matters to the rendering (meta tags do not depend on it).
        if lt > i && b.r.on {
            emit_text(b, &html[i..lt], &mut buf);
        }
        if lt >= len {
            break;
        }
        i = lt;
        // `i` is at '<', an ASCII byte: every slice below starts and ends at ASCII bytes.
        let next = bytes.get(i + 1).copied();
        match next {
            Some(b'!') => {
                i = markup_declaration(html, i, b, &mut buf);
            }
            Some(b'/') => match bytes.get(i + 2).copied() {
                Some(c) if c.is_ascii_alphabetic() => {
                    let name_end = tag_name_end(bytes, i + 2);
                    lower_into(&html[i + 2..name_end], &mut name_buf);
                    match skip_attributes(html, name_end, None) {
                        Some((end, _, _)) => {
                            b.end(&name_buf);
                            i = end;
                        }
                        None => i = len,
                    }
                }
                Some(b'>') => i += 3,
                None => {
                    emit_text(b, "</", &mut buf);
                    i = len;
                }
                Some(_) => i = bogus_comment(bytes, i + 2),
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let name_end = tag_name_end(bytes, i + 1);
                lower_into(&html[i + 1..name_end], &mut name_buf);
                let want = match name_buf.as_str() {
                    "meta" => AttrWant::Meta,
                    "font" => AttrWant::Font,
                    "input" => AttrWant::Input,
                    _ => AttrWant::None,
                };
                let mut attrs = Attrs::default();
                let Some((end, self_closing, _)) =
                    skip_attributes(html, name_end, Some((want, &mut attrs)))
                else {
                    break;
                };
                i = end;
                if let Some((raw, name)) = b.start(&name_buf, self_closing, &mut attrs) {
                    i = raw_content(html, i, raw, name, b, &mut buf);
                }
            }
            Some(b'?') => i = bogus_comment(bytes, i + 1),
            _ => {
                emit_text(b, "<", &mut buf);
                i += 1;
            }
        }
    }
    b.eof();
}

/// Reads the content of a raw-text element starting at `from`, up to and including its end tag;
/// returns where scanning continues.
pub(super) fn raw_content(
    html: &str,
    from: usize,
    raw: Raw,
    name: &str,
    b: &mut Builder,
    buf: &mut String,
) -> usize {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let end = if raw == Raw::Plaintext {
        len
    } else {
        find_end_tag(bytes, from, name.as_bytes()).unwrap_or(len)
    };
    let content = &html[from..end];
    if !content.is_empty() && b.r.on {
        if raw == Raw::Rcdata {
            buf.clear();
            decode(content, false, buf, true);
            let t = std::mem::take(buf);
            b.raw_text(&t);
            *buf = t;
        } else if content.contains(['\r', '\0']) {
            buf.clear();
            normalize_raw(content, buf);
            let t = std::mem::take(buf);
            b.raw_text(&t);
            *buf = t;
        } else {
            b.raw_text(content);
        }
    }
    if end >= len {
        return len;
    }
    // At "</name": skip the end tag (its attributes, if any) and close the element.
    let after = end + 2 + name.len();
    b.raw_end();
    match skip_attributes(html, after, None) {
        Some((e, _, _)) => e,
        None => len,
    }
}

/// The start of the first `</name` (case-insensitive) at or after `from` that is followed by
/// whitespace, `/` or `>`.
pub(crate) fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find_byte(bytes, i, b'<') {
        if bytes.get(p + 1) == Some(&b'/') {
            let s = p + 2;
            let e = s + name.len();
            if let Some(candidate) = bytes.get(s..e)
                && candidate.eq_ignore_ascii_case(name)
                && bytes
                    .get(e)
                    .is_some_and(|&c| is_ascii_ws_byte(c) || c == b'/' || c == b'>')
            {
                return Some(p);
            }
        }
        i = p + 1;
    }
    None
}

pub(super) fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| from + p)
}

pub(super) fn tag_name_end(bytes: &[u8], from: usize) -> usize {
    let mut j = from;
    while let Some(&c) = bytes.get(j) {
        if is_ascii_ws_byte(c) || c == b'/' || c == b'>' {
            break;
        }
        j += 1;
    }
    j
}

pub(super) fn lower_into(name: &str, out: &mut String) {
    out.clear();
    if !name.bytes().any(|c| c.is_ascii_uppercase() || c == 0) {
        out.push_str(name);
        return;
    }
    for c in name.chars() {
        out.push(match c {
            '\0' => '\u{FFFD}',
            c => c.to_ascii_lowercase(),
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AttrWant {
    None,
    Meta,
    Font,
    Input,
}

/// Skips the attributes of a tag whose name ends at `from`; returns the byte after its `>`,
/// whether it was self-closing and how many attributes it has (duplicates included), or `None`
/// if the input ends inside the tag (the tag is dropped). Collects what `want` asks for.
pub(super) fn skip_attributes(
    html: &str,
    from: usize,
    mut want: Option<(AttrWant, &mut Attrs)>,
) -> Option<(usize, bool, usize)> {
    let bytes = html.as_bytes();
    let mut j = from;
    let mut attributes = 0;
    let mut seen_name = false;
    let mut seen_content = false;
    let mut seen_charset = false;
    let mut seen_http_equiv = false;
    let mut seen_type = false;
    loop {
        while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
            j += 1;
        }
        match bytes.get(j)? {
            b'>' => return Some((j + 1, false, attributes)),
            b'/' => {
                j += 1;
                if bytes.get(j) == Some(&b'>') {
                    return Some((j + 1, true, attributes));
                }
                continue;
            }
            _ => {}
        }
        // Attribute name: the first character may be anything (even '=').
        attributes += 1;
        let ns = j;
        j += 1;
        while let Some(&c) = bytes.get(j) {
            if is_ascii_ws_byte(c) || matches!(c, b'/' | b'>' | b'=') {
                break;
            }
            j += 1;
        }
        // `ns` is an ASCII-or-lead byte position; advance `j` to a char boundary.
        while !html.is_char_boundary(j) {
            j += 1;
        }
        let name = &html[ns..j];
        while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
            j += 1;
        }
        let mut value: Option<&str> = None;
        if bytes.get(j) == Some(&b'=') {
            j += 1;
            while bytes.get(j).is_some_and(|&c| is_ascii_ws_byte(c)) {
                j += 1;
            }
            match *bytes.get(j)? {
                q @ (b'"' | b'\'') => {
                    let close = find_byte(bytes, j + 1, q)?;
                    value = Some(&html[j + 1..close]);
                    j = close + 1;
                }
                b'>' => value = Some(""),
                _ => {
                    let vs = j;
                    while let Some(&c) = bytes.get(j) {
                        if is_ascii_ws_byte(c) || c == b'>' {
                            break;
                        }
                        j += 1;
                    }
                    value = Some(&html[vs..j]);
                }
            }
        }
        if let Some((kind, attrs)) = want.as_mut() {
            let value = value.unwrap_or("");
            match kind {
                AttrWant::Meta => {
                    if name.eq_ignore_ascii_case("name") {
                        if !std::mem::replace(&mut seen_name, true) {
                            attrs.name = Some(decoded_attr(value));
                        }
                    } else if name.eq_ignore_ascii_case("content")
                        && !std::mem::replace(&mut seen_content, true)
                    {
                        attrs.content = Some(decoded_attr(value));
                    } else if name.eq_ignore_ascii_case("charset")
                        && !std::mem::replace(&mut seen_charset, true)
                    {
                        attrs.charset = Some(decoded_attr(value));
                    } else if name.eq_ignore_ascii_case("http-equiv")
                        && !std::mem::replace(&mut seen_http_equiv, true)
                    {
                        attrs.http_equiv = Some(decoded_attr(value));
                    }
                }
                AttrWant::Font => {
                    if ["color", "face", "size"]
                        .iter()
                        .any(|a| name.eq_ignore_ascii_case(a))
                    {
                        attrs.font_breakout = true;
                    }
                }
                AttrWant::Input => {
                    if name.eq_ignore_ascii_case("type") && !std::mem::replace(&mut seen_type, true)
                    {
                        attrs.hidden = decoded_attr(value).eq_ignore_ascii_case("hidden");
                    }
                }
                AttrWant::None => {}
            }
        }
    }
}

pub(super) fn decoded_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    decode(value, true, &mut out, true);
    out
}

/// Handles a comment, doctype, CDATA section or bogus comment at `i` (`<!`); returns where
/// scanning continues.
pub(super) fn markup_declaration(html: &str, i: usize, b: &mut Builder, buf: &mut String) -> usize {
    let bytes = html.as_bytes();
    let len = bytes.len();
    let rest = &bytes[i + 2..];
    b.ignore_lf = false;
    if rest.starts_with(b"--") {
        return comment_end(bytes, i + 4);
    }
    if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
        let end = find_byte(bytes, i + 9, b'>');
        let body = &html[i + 9..end.unwrap_or(len)];
        b.doctype(end.is_none() || doctype_quirks(body));
        return end.map_or(len, |e| e + 1);
    }
    if rest.starts_with(b"[CDATA[") && b.in_foreign() {
        let start = i + 9;
        let end = find_sub(bytes, start, b"]]>");
        let text = &html[start..end.unwrap_or(len)];
        if text.contains(['\r', '\0']) {
            buf.clear();
            normalize_raw(text, buf);
            let t = std::mem::take(buf);
            b.chars(&t);
            *buf = t;
        } else {
            b.chars(text);
        }
        return end.map_or(len, |e| e + 3);
    }
    bogus_comment(bytes, i + 2)
}

/// The byte after the comment whose text starts at `from` (after `<!--`): after `-->`, `--!>`,
/// or an abrupt `>` / `->` right at the start; the end of the input if it is not closed.
pub(super) fn comment_end(bytes: &[u8], from: usize) -> usize {
    if bytes.get(from) == Some(&b'>') {
        return from + 1;
    }
    if bytes.get(from..from + 2) == Some(b"->") {
        return from + 2;
    }
    let mut j = from;
    while let Some(k) = find_byte(bytes, j, b'-') {
        if bytes.get(k + 1) == Some(&b'-') {
            match bytes.get(k + 2) {
                Some(b'>') => return k + 3,
                Some(b'!') if bytes.get(k + 3) == Some(&b'>') => return k + 4,
                _ => {}
            }
        }
        j = k + 1;
    }
    bytes.len()
}

pub(super) fn find_sub(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find_byte(bytes, i, needle[0]) {
        if bytes.get(p..p + needle.len()) == Some(needle) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

pub(super) fn bogus_comment(bytes: &[u8], from: usize) -> usize {
    find_byte(bytes, from, b'>').map_or(bytes.len(), |e| e + 1)
}

/// Decodes a run of character data and hands it to the builder.
pub(super) fn emit_text(b: &mut Builder, raw: &str, buf: &mut String) {
    if raw.contains(['&', '\r', '\0']) {
        buf.clear();
        decode(raw, false, buf, false);
        let t = std::mem::take(buf);
        b.chars(&t);
        *buf = t;
    } else {
        b.chars(raw);
    }
}

/// Normalises newlines and replaces NUL in raw text.
pub(super) fn normalize_raw(s: &str, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// ASCII whitespace as the HTML standard defines it.
pub(super) fn is_ascii_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

/// [`is_ascii_ws`] for a byte.
pub(super) fn is_ascii_ws_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// One piece of markup the tokenizer finds at a `<`, for callers that look at tags without
/// building anything ([`markup_at`]).
pub(crate) enum Markup<'h> {
    /// A start tag: its name as written, how many attributes it has, whether it ends in `/>`.
    Start {
        /// The tag name as written.
        name: &'h str,
        /// Its attributes, duplicates included.
        attributes: usize,
        /// Written `<name ... />`.
        self_closing: bool,
    },
    /// An end tag, with its name as written.
    End(&'h str),
    /// A comment, doctype, processing instruction or other bogus comment, or `</>`.
    Other,
}

/// The markup that starts at the `<` at byte `lt` of `html`, read as [`run`] reads it, and the
/// byte after it; `None` when that `<` is text (`a < b`) or the input ends inside a tag.
/// [`crate::html::strip_tags`] and the bounds of [`crate::html::parse_document_within`] read
/// markup with it.
pub(crate) fn markup_at(html: &str, lt: usize) -> Option<(Markup<'_>, usize)> {
    let bytes = html.as_bytes();
    match *bytes.get(lt + 1)? {
        b'!' if bytes.get(lt + 2..lt + 4) == Some(b"--") => {
            Some((Markup::Other, comment_end(bytes, lt + 4)))
        }
        b'!' => Some((Markup::Other, bogus_comment(bytes, lt + 2))),
        b'?' => Some((Markup::Other, bogus_comment(bytes, lt + 1))),
        b'/' => match *bytes.get(lt + 2)? {
            c if c.is_ascii_alphabetic() => {
                let name_end = tag_name_end(bytes, lt + 2);
                let (end, _, _) = skip_attributes(html, name_end, None)?;
                Some((Markup::End(&html[lt + 2..name_end]), end))
            }
            b'>' => Some((Markup::Other, lt + 3)),
            _ => Some((Markup::Other, bogus_comment(bytes, lt + 2))),
        },
        c if c.is_ascii_alphabetic() => {
            let name_end = tag_name_end(bytes, lt + 1);
            let (end, self_closing, attributes) = skip_attributes(html, name_end, None)?;
            let name = &html[lt + 1..name_end];
            Some((
                Markup::Start {
                    name,
                    attributes,
                    self_closing,
                },
                end,
            ))
        }
        _ => None,
    }
}
