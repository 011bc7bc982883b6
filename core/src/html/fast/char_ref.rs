//! Character references: decodes `&name;`, `&#NNN;` and `&#xHHH;` in text and attribute values
//! the way the HTML tokenizer does (legacy names without `;`, the attribute-value exception,
//! Windows-1252 meanings of C1 references, newline normalisation).
//!
//! The names are html5ever's table (`html5ever::data::NAMED_ENTITIES`, all 2,125 names of the
//! HTML standard, two code points for some), the one entity table of mailex: the scanner, the
//! DOM html5ever builds, `strip_tags` and the ADF parser all decode through it.

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};

/// Decodes character references in `s` into `out`, normalising newlines (CR LF and CR become LF).
/// In attribute values (`attr`) a legacy reference without `;` followed by `=` or an alphanumeric
/// is kept literally. NUL is dropped in text and replaced by U+FFFD elsewhere (`nul_replace`).
pub(crate) fn decode(s: &str, attr: bool, out: &mut String, nul_replace: bool) {
    let bytes = s.as_bytes();
    let len = bytes.len();
    let mut i = 0;
    let mut last = 0;
    while i < len {
        match bytes[i] {
            b'\r' => {
                out.push_str(&s[last..i]);
                if bytes.get(i + 1) != Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
                last = i;
            }
            0 => {
                out.push_str(&s[last..i]);
                if nul_replace {
                    out.push('\u{FFFD}');
                }
                i += 1;
                last = i;
            }
            b'&' => {
                out.push_str(&s[last..i]);
                let (consumed, decoded) = char_ref(&bytes[i + 1..], attr);
                match decoded {
                    Some((first, second)) => {
                        out.push(first);
                        out.extend(second);
                    }
                    None => out.push('&'),
                }
                i += 1 + consumed;
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[last..]);
}

/// Decodes the character references of `s` into `out` and changes nothing else (newlines and
/// NUL stay as written), as in text; with `fold_nbsp`, a named no-break space (`&nbsp;`)
/// becomes a plain space.
pub(crate) fn decode_references(s: &str, out: &mut String, fold_nbsp: bool) {
    let bytes = s.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'&', &bytes[i..]) {
        let amp = i + offset;
        out.push_str(&s[last..amp]);
        let (consumed, decoded) = char_ref(&bytes[amp + 1..], false);
        match decoded {
            Some(('\u{A0}', None)) if fold_nbsp && bytes.get(amp + 1) != Some(&b'#') => {
                out.push(' ')
            }
            Some((first, second)) => {
                out.push(first);
                out.extend(second);
            }
            None => out.push('&'),
        }
        i = amp + 1 + consumed;
        last = i;
    }
    out.push_str(&s[last..]);
}

/// What a character reference decodes to: one code point, or two for a few names
/// (`&NotEqualTilde;`).
type Decoded = (char, Option<char>);

/// Parses a character reference after `&`; returns the bytes consumed (all ASCII) and what they
/// decode to (`None`: the `&` is literal and nothing is consumed).
fn char_ref(rest: &[u8], attr: bool) -> (usize, Option<Decoded>) {
    match rest.first() {
        Some(b'#') => {
            let (hex, start) = match rest.get(1) {
                Some(b'x' | b'X') => (true, 2),
                _ => (false, 1),
            };
            let mut j = start;
            let mut value: u32 = 0;
            let mut too_big = false;
            while let Some(&c) = rest.get(j) {
                let d = match (hex, c) {
                    (_, b'0'..=b'9') => u32::from(c - b'0'),
                    (true, b'a'..=b'f') => u32::from(c - b'a' + 10),
                    (true, b'A'..=b'F') => u32::from(c - b'A' + 10),
                    _ => break,
                };
                value = value
                    .saturating_mul(if hex { 16 } else { 10 })
                    .saturating_add(d);
                if value > 0x10FFFF {
                    too_big = true;
                }
                j += 1;
            }
            if j == start {
                return (0, None);
            }
            if rest.get(j) == Some(&b';') {
                j += 1;
            }
            (j, Some((numeric(value, too_big), None)))
        }
        Some(c) if c.is_ascii_alphanumeric() => named(rest, attr),
        _ => (0, None),
    }
}

/// The longest name of the table that prefixes `rest` (with its `;`, or a legacy name without
/// one), as html5ever's tokenizer matches it: the table also lists every prefix of a name, so
/// the search stops at the first run that no name starts with (at most the longest name, 32
/// bytes).
fn named(rest: &[u8], attr: bool) -> (usize, Option<Decoded>) {
    let mut best: Option<(usize, u32, u32)> = None;
    let mut j = 0;
    while let Some(&c) = rest.get(j) {
        if !(c.is_ascii_alphanumeric() || c == b';') {
            break;
        }
        j += 1;
        // ASCII only, so this slice is valid UTF-8.
        let Some(&(first, second)) = std::str::from_utf8(&rest[..j])
            .ok()
            .and_then(|name| NAMED_ENTITIES.get(name))
        else {
            break;
        };
        if first != 0 {
            best = Some((j, first, second));
        }
        if c == b';' {
            break;
        }
    }
    let Some((len, first, second)) = best else {
        return (0, None);
    };
    let ends_with_semicolon = rest.get(len - 1) == Some(&b';');
    let next = rest.get(len).copied();
    if attr && !ends_with_semicolon && next.is_some_and(|c| c == b'=' || c.is_ascii_alphanumeric())
    {
        return (0, None);
    }
    let Some(first) = char::from_u32(first) else {
        return (0, None);
    };
    let second = (second != 0).then(|| char::from_u32(second)).flatten();
    (len, Some((first, second)))
}

/// The character a numeric reference stands for, with the HTML standard's replacements (U+FFFD
/// for zero, surrogates and values past U+10FFFF; Windows-1252 for C1 controls).
fn numeric(n: u32, too_big: bool) -> char {
    if too_big || n == 0 || n > 0x10FFFF || (0xD800..=0xDFFF).contains(&n) {
        return '\u{FFFD}';
    }
    if (0x80..=0x9F).contains(&n)
        && let Some(c) = C1_REPLACEMENTS[(n - 0x80) as usize]
    {
        return c;
    }
    char::from_u32(n).unwrap_or('\u{FFFD}')
}

/// The characters the named reference `name` (without `&` and `;`) stands for, if the table
/// has it.
pub(crate) fn lookup(name: &str) -> Option<Decoded> {
    if name.len() > 64 {
        return None;
    }
    let key = format!("{name};");
    let &(first, second) = NAMED_ENTITIES.get(key.as_str())?;
    let first = char::from_u32(first).filter(|_| first != 0)?;
    Some((
        first,
        (second != 0).then(|| char::from_u32(second)).flatten(),
    ))
}
