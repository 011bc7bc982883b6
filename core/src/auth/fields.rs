//! The header fields of a raw mail, read from its bytes.
//!
//! Authentication must see the receiver's header block exactly as it is stored: mail-parser's
//! view drops fields it cannot decode (a Latin-1 byte in a `Received:` line is enough), which
//! would let a forged field below take the dropped one's place. This reader keeps every field,
//! in order, and says which ones are not well-formed instead of skipping them.
//!
//! The header section ends at the first empty line (or the end of the input). A field is a line
//! that does not start with white space, plus the continuation lines that do; line breaks may
//! be CRLF or LF. Values are returned folded (line breaks kept) so parsers can see the folds.
//! Reading is lazy and linear: one pass, no copies.

/// One header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawField<'a> {
    /// The bytes before the colon (white space before the colon trimmed), or the whole line when
    /// there is no colon.
    pub name: &'a [u8],
    /// The bytes after the colon up to the end of the field's last line (line break excluded),
    /// or `None` when the line has no colon.
    pub value: Option<&'a [u8]>,
}

impl<'a> RawField<'a> {
    /// Whether the field is called `name` (ASCII case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value as text, when the field is well-formed: a name of printable ASCII without
    /// white space or colon, a colon, and a value that is valid UTF-8 (RFC 6532) with no
    /// control character other than tab and the line breaks of folding.
    pub fn text(&self) -> Option<&'a str> {
        let name_ok = !self.name.is_empty() && self.name.iter().all(|&b| b.is_ascii_graphic());
        let value = self.value?;
        let folding_ok = value.iter().enumerate().all(|(i, &b)| match b {
            // A CR only as part of CRLF; every line break is followed by white space (that is
            // what made it a continuation line).
            b'\r' => value.get(i + 1) == Some(&b'\n'),
            b'\t' | b'\n' => true,
            b if b < 0x20 || b == 0x7f => false,
            _ => true,
        });
        if !(name_ok && folding_ok) {
            return None;
        }
        std::str::from_utf8(value).ok()
    }
}

/// The header fields of `raw`, top to bottom.
pub(crate) fn header_fields(raw: &[u8]) -> HeaderFields<'_> {
    HeaderFields { raw, pos: 0 }
}

/// Iterator of [`header_fields`].
#[derive(Debug, Clone)]
pub(crate) struct HeaderFields<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> HeaderFields<'a> {
    /// The line starting at `start`: its end (line break excluded) and the start of the next.
    fn line(&self, start: usize) -> (usize, usize) {
        match memchr::memchr(b'\n', &self.raw[start..]) {
            Some(offset) => {
                let newline = start + offset;
                let end = if newline > start && self.raw[newline - 1] == b'\r' {
                    newline - 1
                } else {
                    newline
                };
                (end, newline + 1)
            }
            None => (self.raw.len(), self.raw.len()),
        }
    }
}

impl<'a> Iterator for HeaderFields<'a> {
    type Item = RawField<'a>;

    fn next(&mut self) -> Option<RawField<'a>> {
        if self.pos >= self.raw.len() {
            return None;
        }
        let start = self.pos;
        let (mut end, mut next) = self.line(start);
        if end == start {
            // The empty line: the header section is over.
            self.pos = self.raw.len();
            return None;
        }
        // Continuation lines start with white space.
        while next < self.raw.len() && matches!(self.raw[next], b' ' | b'\t') {
            (end, next) = self.line(next);
        }
        self.pos = next;
        let field = &self.raw[start..end];
        Some(match memchr::memchr(b':', field) {
            Some(colon) => RawField {
                name: trim_end_wsp(&field[..colon]),
                value: Some(&field[colon + 1..]),
            },
            None => RawField {
                name: field,
                value: None,
            },
        })
    }
}

fn trim_end_wsp(bytes: &[u8]) -> &[u8] {
    let keep = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &bytes[..keep]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &[u8]) -> Vec<String> {
        header_fields(raw)
            .map(|f| String::from_utf8_lossy(f.name).into_owned())
            .collect()
    }

    #[test]
    fn fields_end_at_the_empty_line_with_crlf_or_lf() {
        assert_eq!(names(b"A: 1\r\nB: 2\r\n\r\nC: body\r\n"), ["A", "B"]);
        assert_eq!(names(b"A: 1\nB: 2\n\nC: body\n"), ["A", "B"]);
        assert_eq!(names(b"A: 1"), ["A"]);
        assert!(names(b"").is_empty());
        assert!(names(b"\r\nA: body").is_empty());
    }

    #[test]
    fn folded_values_are_kept_whole() {
        let raw = b"Authentication-Results: amazonses.com;\r\n spf=pass;\r\n\tdkim=none\r\nFrom: a@b.example\r\n\r\n";
        let fields: Vec<_> = header_fields(raw).collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(
            fields[0].text(),
            Some(" amazonses.com;\r\n spf=pass;\r\n\tdkim=none")
        );
        assert!(fields[1].is("from"));
    }

    #[test]
    fn malformed_fields_are_reported_not_skipped() {
        let raw = b"Received: from h\xe9lo by inbound-smtp.us-east-1.amazonaws.com\r\nno colon here\r\nX Y: z\r\nA: \x01\r\nB : ok\r\n\r\n";
        let fields: Vec<_> = header_fields(raw).collect();
        assert_eq!(fields.len(), 5);
        assert!(fields[0].is("received"));
        assert_eq!(fields[0].text(), None, "Latin-1 is not UTF-8");
        assert_eq!(fields[1].value, None);
        assert_eq!(fields[1].text(), None);
        assert_eq!(fields[2].text(), None, "white space in a name");
        assert_eq!(fields[3].text(), None, "control character");
        assert!(fields[4].is("B"), "white space before the colon is trimmed");
        assert_eq!(fields[4].text(), Some(" ok"));
        // A bare CR is not a line break.
        let raw = b"A: x\ry\r\n\r\n";
        assert_eq!(header_fields(raw).next().and_then(|f| f.text()), None);
    }

    #[test]
    fn a_leading_continuation_line_is_a_malformed_field() {
        let fields: Vec<_> = header_fields(b" folded: x\r\nA: 1\r\n\r\n").collect();
        assert_eq!(fields[0].text(), None);
        assert!(fields[1].is("A"));
    }
}
