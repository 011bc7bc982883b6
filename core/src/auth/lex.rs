//! Lexical rules shared by the header parsers of [`crate::auth`] (RFC 5322 section 3.2):
//! folding white space, comments (nested, with quoted pairs) and quoted strings.
//!
//! The parsers work on the *folded* header value as it is in the raw mail (line breaks kept),
//! so a [`Cursor`] can tell whether the white space it skipped crossed a line break. Every
//! function here runs in time linear in what it consumes and never recurses (comment nesting
//! is counted, not recursed into), so hostile input cannot exhaust the stack.

use std::fmt;

/// Why a value could not be read lexically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexError {
    /// A `(` comment was never closed.
    UnclosedComment,
    /// A `)` appeared outside any comment.
    UnopenedComment,
    /// A `"` quoted string was never closed.
    UnclosedQuote,
    /// A control character (other than tab and a line break) appeared.
    ControlCharacter,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LexError::UnclosedComment => "a comment is not closed",
            LexError::UnopenedComment => "a `)` closes no comment",
            LexError::UnclosedQuote => "a quoted string is not closed",
            LexError::ControlCharacter => "a control character appears",
        })
    }
}

/// What [`Cursor::skip_cfws`] skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Anything at all (white space or a comment).
    pub any: bool,
    /// A line break (of a folded header) was crossed.
    pub line_break: bool,
}

impl Skipped {
    /// Both skips together.
    pub fn and(self, other: Skipped) -> Skipped {
        Skipped {
            any: self.any || other.any,
            line_break: self.line_break || other.line_break,
        }
    }
}

/// A position in a header value.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

/// RFC 5322 `atext`: the characters of an atom (ASCII only; see [`is_atext_or_utf8`]).
pub(crate) fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// `atext` extended by RFC 6532 to every non-ASCII UTF-8 byte (display names only).
pub(crate) fn is_atext_or_utf8(b: u8) -> bool {
    is_atext(b) || b >= 0x80
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_line_break(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

fn is_forbidden_control(b: u8) -> bool {
    (b < 0x20 && !is_wsp(b) && !is_line_break(b)) || b == 0x7f
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    /// The next byte, if any.
    pub fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Whether the whole value was consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes `byte` if it is next.
    pub fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of bytes for which `accept` holds.
    pub fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && accept(bytes[self.pos]) {
            self.pos += 1;
        }
        // Only whole UTF-8 sequences are accepted by the callers' predicates (ASCII sets, or
        // every byte >= 0x80), so the cut is on a character boundary; stay safe regardless.
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// Skips CFWS: white space, line breaks of a folded value, and comments.
    pub fn skip_cfws(&mut self) -> Result<Skipped, LexError> {
        let mut skipped = Skipped::default();
        loop {
            match self.peek() {
                Some(b) if is_wsp(b) => {
                    self.pos += 1;
                    skipped.any = true;
                }
                Some(b) if is_line_break(b) => {
                    self.pos += 1;
                    skipped.any = true;
                    skipped.line_break = true;
                }
                Some(b'(') => {
                    skipped = skipped.and(self.comment()?);
                }
                Some(b')') => return Err(LexError::UnopenedComment),
                Some(b) if is_forbidden_control(b) => return Err(LexError::ControlCharacter),
                _ => return Ok(skipped),
            }
        }
    }

    /// Consumes one comment, nested comments and quoted pairs included. The cursor is on `(`.
    fn comment(&mut self) -> Result<Skipped, LexError> {
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        let mut skipped = Skipped {
            any: true,
            line_break: false,
        };
        while let Some(&b) = bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(skipped);
                    }
                }
                b'\\' => self.quoted_pair()?,
                b if is_line_break(b) => skipped.line_break = true,
                b if is_forbidden_control(b) => return Err(LexError::ControlCharacter),
                _ => {}
            }
        }
        Err(LexError::UnclosedComment)
    }

    /// The character after a `\` (already consumed): any but a line break or a control.
    fn quoted_pair(&mut self) -> Result<(), LexError> {
        match self.peek() {
            None => Err(LexError::UnclosedQuote),
            Some(b) if is_line_break(b) || is_forbidden_control(b) => {
                Err(LexError::ControlCharacter)
            }
            Some(_) => {
                // Step over a whole UTF-8 character.
                let width = self.text[self.pos..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                self.pos += width;
                Ok(())
            }
        }
    }

    /// Reads a quoted string; the cursor is on `"`. Returns its content with quoted pairs
    /// resolved and folding removed.
    pub fn quoted_string(&mut self) -> Result<String, LexError> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut content = String::new();
        let start = self.pos;
        let mut chunk_start = start;
        loop {
            let Some(b) = self.peek() else {
                return Err(LexError::UnclosedQuote);
            };
            match b {
                b'"' => {
                    content.push_str(&self.text[chunk_start..self.pos]);
                    self.pos += 1;
                    return Ok(content);
                }
                b'\\' => {
                    content.push_str(&self.text[chunk_start..self.pos]);
                    self.pos += 1;
                    let pair_start = self.pos;
                    self.quoted_pair()?;
                    content.push_str(&self.text[pair_start..self.pos]);
                    chunk_start = self.pos;
                }
                b if is_line_break(b) => {
                    // Unfold: the line break goes, the white space after it stays.
                    content.push_str(&self.text[chunk_start..self.pos]);
                    self.pos += 1;
                    chunk_start = self.pos;
                }
                b if is_forbidden_control(b) => return Err(LexError::ControlCharacter),
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfws_skips_space_folding_and_nested_comments() {
        let mut c = Cursor::new(" (a (b) \\) c)\r\n\tx");
        let skipped = c.skip_cfws().unwrap();
        assert!(skipped.any && skipped.line_break);
        assert_eq!(c.peek(), Some(b'x'));
        let mut c = Cursor::new("x");
        assert_eq!(c.skip_cfws().unwrap(), Skipped::default());
    }

    #[test]
    fn comments_must_balance() {
        assert_eq!(
            Cursor::new("(a (b)").skip_cfws(),
            Err(LexError::UnclosedComment)
        );
        assert_eq!(
            Cursor::new(") x").skip_cfws(),
            Err(LexError::UnopenedComment)
        );
        // An escaped parenthesis neither opens nor closes.
        assert_eq!(
            Cursor::new("(a \\( b").skip_cfws(),
            Err(LexError::UnclosedComment)
        );
        let mut c = Cursor::new("(a \\( b)y");
        c.skip_cfws().unwrap();
        assert_eq!(c.peek(), Some(b'y'));
    }

    #[test]
    fn a_line_break_inside_a_comment_counts() {
        let mut c = Cursor::new("(a\r\n b)z");
        assert!(c.skip_cfws().unwrap().line_break);
    }

    #[test]
    fn quoted_strings_keep_specials_and_resolve_pairs() {
        let mut c = Cursor::new("\"a;dmarc=pass (x\\\" y\"@rest");
        assert_eq!(c.quoted_string().unwrap(), "a;dmarc=pass (x\" y");
        assert_eq!(c.peek(), Some(b'@'));
        assert_eq!(
            Cursor::new("\"never closed; dmarc=pass").quoted_string(),
            Err(LexError::UnclosedQuote)
        );
        assert_eq!(
            Cursor::new("\"folded\r\n line\"").quoted_string().unwrap(),
            "folded line"
        );
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            Cursor::new(" \u{0}").skip_cfws(),
            Err(LexError::ControlCharacter)
        );
        assert_eq!(
            Cursor::new("(a\u{7f})").skip_cfws(),
            Err(LexError::ControlCharacter)
        );
        assert_eq!(
            Cursor::new("\"a\u{1b}\"").quoted_string(),
            Err(LexError::ControlCharacter)
        );
    }

    #[test]
    fn utf8_inside_comments_and_quotes_is_text() {
        let mut c = Cursor::new("(Grüße \\é)x");
        c.skip_cfws().unwrap();
        assert_eq!(c.peek(), Some(b'x'));
        assert_eq!(Cursor::new("\"José\"").quoted_string().unwrap(), "José");
    }
}
