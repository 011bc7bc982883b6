//! The size limits of a rule file.
//!
//! A rule file may come from someone the operator does not fully trust, so parsing and
//! compiling it must stay within a small, fixed amount of time and memory whatever its bytes.
//! Every limit below is far above what a real rule file needs (the largest example is 4 KiB
//! with 8 alternatives in its longest chain); exceeding one gives a diagnostic with its own
//! code ([`crate::codes`]), never a crash or a stall. `docs/dsl.md` lists them.
//!
//! The parser checks the size, nesting and count limits; the compiler in `mailex-core` checks
//! the regular-expression and CSS-selector limits, which need the compiled patterns.

/// Largest rule file accepted, in bytes (`E007`); larger files are rejected before parsing.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// Deepest nesting of `{ }` blocks (`E009`). A valid file nests two deep (`profile { match { } }`).
pub const MAX_NESTING: usize = 8;

/// Longest string literal, in bytes as written between its quotes (`E011`). Regex patterns
/// have their own, equal limit in `mailex-core`.
pub const MAX_LITERAL_BYTES: usize = 4096;

/// Longest identifier (field, function, type or parameter name), in bytes (`E011`).
pub const MAX_IDENT_BYTES: usize = 64;

/// Profiles in one file (`E010`).
pub const MAX_PROFILES: usize = 256;
/// `test` blocks in one file (`E010`).
pub const MAX_TESTS: usize = 512;
/// Fields in one profile (`E010`).
pub const MAX_FIELDS: usize = 128;
/// Names on the `sensitive` lines of one profile, in total (`E010`).
pub const MAX_SENSITIVE: usize = 128;
/// Condition lines in the `match` blocks of one profile, in total (`E010`).
pub const MAX_CONDITIONS: usize = 64;
/// Atoms joined by `or` in one condition line (`E010`).
pub const MAX_CONDITION_ATOMS: usize = 32;
/// `??` alternatives in one field (`E010`).
pub const MAX_ALTERNATIVES: usize = 32;
/// `.call` and `| call` steps in one alternative (`E010`).
pub const MAX_STEPS: usize = 32;
/// Arguments of one call or type (`E010`).
pub const MAX_ARGS: usize = 8;
/// Lines in the `expect` blocks of one test, in total (`E010`).
pub const MAX_EXPECTATIONS: usize = 128;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Decodes the bytes of a rule file, rejecting a file over [`MAX_FILE_BYTES`] (`E007`) or one
/// that is not UTF-8 (`E008`, pointing at the first bad byte) before anything parses it.
///
/// ```
/// use mailex_grammar::{codes, limits};
/// assert_eq!(limits::decode(b"version 1\n").unwrap(), "version 1\n");
/// let bad = limits::decode(b"version 1\n\xff\n").unwrap_err();
/// assert_eq!(bad.code, codes::INVALID_UTF8);
/// assert_eq!(bad.primary_span().unwrap().start, 10);
/// ```
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_too_large(bytes.len() as u64));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Diagnostic::new(codes::INVALID_UTF8, "the rule file is not valid UTF-8")
            .primary(
                Span::new(at, at + 1),
                format!("byte {at} does not start a UTF-8 character"),
            )
            .help("save the file as UTF-8; write characters such as `é` directly, not in another encoding")
    })
}

/// The `E007` diagnostic for a file of `len` bytes (more than [`MAX_FILE_BYTES`]).
pub fn file_too_large(len: u64) -> Diagnostic {
    Diagnostic::new(
        codes::FILE_TOO_LARGE,
        format!("the rule file is {len} bytes, over the limit of {MAX_FILE_BYTES} bytes"),
    )
    .note("the file was not parsed")
    .help("a rule file describes the layouts of one sender; split unrelated senders into their own rule files")
}

/// Finds the first `{` nested deeper than [`MAX_NESTING`] (`E009`), skipping strings and
/// comments. Runs in one pass, before the parser.
pub(crate) fn check_nesting(source: &str) -> Option<Diagnostic> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i = end_of_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = end_of_line(bytes, i),
            b'"' => {
                let raw = i > 0 && bytes[i - 1] == b'r';
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    let escape = bytes[i] == b'\\' && !raw && bytes.get(i + 1) != Some(&b'\n');
                    i += if escape { 2 } else { 1 };
                }
            }
            b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::new(
                            codes::NESTING_TOO_DEEP,
                            format!("blocks are nested more than {MAX_NESTING} deep"),
                        )
                        .primary(Span::new(i, i + 1), format!("block {depth} deep"))
                        .note("the file was not parsed")
                        .help("a rule file nests two deep (`profile { match { } }`); check for unclosed `}`"),
                    );
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn end_of_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}
