//! The pest parser and the explanation of syntax errors.
//!
//! `Pair` and `Rule` stay inside this crate: [`parse`] returns the typed
//! [`RuleFile`] and every diagnostic.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

use crate::ast::RuleFile;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::limits;
use crate::lower;
use crate::span::Span;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct RawParser;

/// The result of parsing: the syntax tree and every diagnostic found.
///
/// Parsing never fails. Constructs that do not parse are left out of the tree
/// and explained in `diagnostics`.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The syntax tree of everything that parsed.
    pub file: RuleFile,
    /// Syntax diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// True when the file was rejected before parsing (`E007`, `E009`): the tree is empty
    /// because nothing was parsed, so later stages should not check it.
    pub fn was_rejected(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.code == codes::FILE_TOO_LARGE || d.code == codes::NESTING_TOO_DEEP)
    }
}

/// Parses a rule file.
///
/// ```
/// let parsed = mailex_grammar::parse(r#"
/// version 1
/// profile "p" { field name: text = text.after("Name:").line }
/// "#);
/// assert!(parsed.diagnostics.is_empty());
/// assert_eq!(parsed.file.profiles[0].fields[0].name.node, "name");
/// ```
///
/// A file larger than [`limits::MAX_FILE_BYTES`] (`E007`) or with blocks nested deeper than
/// [`limits::MAX_NESTING`] (`E009`) is not parsed: the result holds that one diagnostic. The
/// grammar itself has no unbounded recursion, so no input can exhaust the stack.
pub fn parse(source: &str) -> Parsed {
    let rejected = |d: Diagnostic| Parsed {
        file: RuleFile::default(),
        diagnostics: vec![d],
    };
    if source.len() > limits::MAX_FILE_BYTES {
        return rejected(limits::file_too_large(source.len() as u64));
    }
    if let Some(d) = limits::check_nesting(source) {
        return rejected(d);
    }
    let mut diagnostics = Vec::new();
    let file = match RawParser::parse(Rule::file, source) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => lower::file(pair, &mut diagnostics),
            None => RuleFile::default(),
        },
        // The grammar's `bad_item` accepts anything, so this is a safety net.
        Err(e) => {
            diagnostics.push(from_pest(&e, source, 0));
            RuleFile::default()
        }
    };
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start).unwrap_or(0));
    Parsed { file, diagnostics }
}

/// Where a bad fragment was found, which decides the statements allowed there.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Context {
    TopLevel,
    Profile,
    Test,
}

impl Context {
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Context::TopLevel => &["version", "profile", "test"],
            Context::Profile => &["match", "field", "sensitive"],
            Context::Test => &["input", "expect"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Context::TopLevel => "at the top level of a rule file",
            Context::Profile => "in a profile",
            Context::Test => "in a test block",
        }
    }
}

/// Explains a fragment that the recovering grammar could not parse.
pub(crate) fn explain_bad(text: &str, offset: usize, context: Context) -> Diagnostic {
    if let Some(d) = unterminated_string(text, offset) {
        return d;
    }
    let trimmed = text.trim_end();
    let word_len = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    let word = &trimmed[..word_len];
    let rule = match word {
        "version" => Some(Rule::version_only),
        "profile" => Some(Rule::profile_only),
        "test" => Some(Rule::test_only),
        "field" => Some(Rule::field_only),
        "match" => Some(Rule::match_only),
        "sensitive" => Some(Rule::sensitive_only),
        "input" => Some(Rule::input_only),
        "expect" => Some(Rule::expect_only),
        _ => None,
    };
    if let Some(d) = dangling(trimmed, offset) {
        return d;
    }
    let allowed = context.keywords();
    let list = or_list(&allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>());
    match rule {
        Some(rule) if allowed.contains(&word) => {
            pest::set_error_detail(true);
            match RawParser::parse(rule, trimmed) {
                Err(e)
                    if matches!(rule, Rule::profile_only | Rule::test_only)
                        && error_at_end(&e, trimmed) =>
                {
                    unclosed(trimmed, offset, word)
                }
                Err(e) => from_pest(&e, trimmed, offset),
                Ok(_) => Diagnostic::new(codes::SYNTAX_ERROR, format!("unexpected `{word}`"))
                    .primary(
                        Span::new(offset, offset + word_len),
                        "could not be parsed here",
                    ),
            }
        }
        Some(_) => Diagnostic::new(
            codes::SYNTAX_ERROR,
            format!("`{word}` is not allowed {}", context.describe()),
        )
        .primary(
            Span::new(offset, offset + word_len),
            format!("expected {list}"),
        )
        .help(match word {
            "field" | "match" | "sensitive" => {
                "move this line into a `profile \"name\" { ... }` block"
            }
            "input" | "expect" => "move this line into a `test \"name\" { ... }` block",
            _ => "check the braces: this item may sit inside another block",
        }),
        None => {
            let found = found_token(trimmed, 0);
            let len = found.len().max(1);
            let mut d = Diagnostic::new(
                codes::SYNTAX_ERROR,
                format!("expected {list}, found {}", show_found(found)),
            )
            .primary(Span::new(offset, offset + len), format!("expected {list}"));
            if let Some(s) = suggest(word, allowed.iter().copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            d
        }
    }
}

/// A fragment that starts with punctuation continues the statement before it.
fn dangling(text: &str, offset: usize) -> Option<Diagnostic> {
    let first = text.chars().next()?;
    if first.is_alphanumeric() || first == '_' || first == '}' {
        return None;
    }
    let token = if text.starts_with("??") {
        "??"
    } else {
        &text[..first.len_utf8()]
    };
    let help = match token {
        "??" => "each `??` must be followed by an alternative, e.g. `?? reply_to.address`",
        "|" => "each `|` must be followed by a function, e.g. `| trim`",
        "." => "each `.` must be followed by a function, e.g. `.line`",
        _ => {
            "this does not continue the statement before it; check for a missing `=`, `(` or quote"
        }
    };
    Some(
        Diagnostic::new(codes::SYNTAX_ERROR, format!("unexpected `{token}`"))
            .primary(
                Span::new(offset, offset + token.len()),
                "the statement before cannot continue here",
            )
            .help(help),
    )
}

fn error_at_end(e: &pest::error::Error<Rule>, text: &str) -> bool {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let at = e
        .parse_attempts()
        .map(|a| a.max_position)
        .unwrap_or(0)
        .max(pos);
    at >= text.trim_end().len()
}

/// A `profile` or `test` block whose `{` is never closed.
fn unclosed(text: &str, offset: usize, word: &str) -> Diagnostic {
    let open = text.find('{').unwrap_or(0);
    let end = text.trim_end().len();
    Diagnostic::new(
        codes::SYNTAX_ERROR,
        format!("this `{word}` block is never closed"),
    )
    .primary(Span::new(offset + open, offset + open + 1), "unclosed `{`")
    .context(
        Span::new(offset + end, offset + end),
        "the block should be closed by here",
    )
    .help(
        "add `}` after the block's last statement; blocks end before the next `profile` or `test`",
    )
}

/// Finds a string literal that runs into the end of its line.
fn unterminated_string(text: &str, offset: usize) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let raw = i > 0 && bytes[i - 1] == b'r';
                let open = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => {
                            let start = if raw { open - 1 } else { open };
                            let end = text[open..]
                                .find('\n')
                                .map(|e| open + e)
                                .unwrap_or(text.len());
                            let end = text[..end].trim_end().len().max(open + 1);
                            return Some(
                                Diagnostic::new(codes::UNTERMINATED_STRING, "unterminated string literal")
                                    .primary(Span::new(offset + start, offset + end), "this string is never closed")
                                    .help("close it with `\"` on the same line; write a line break inside a string as `\\n`"),
                            );
                        }
                        Some(b'\\') if !raw => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Converts a pest error on `input` (which starts at byte `offset` of the file).
pub(crate) fn from_pest(e: &pest::error::Error<Rule>, input: &str, offset: usize) -> Diagnostic {
    let shape = input.split_whitespace().next().and_then(shape_of);
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = Vec::new();
    let attempts = e.parse_attempts();
    let attempts_pos = attempts.as_ref().map(|a| a.max_position).unwrap_or(0);
    if attempts_pos <= pos
        && let ErrorVariant::ParsingError { positives, .. } = &e.variant
    {
        expected.extend(
            positives
                .iter()
                .filter_map(|r| describe(*r))
                .map(str::to_owned),
        );
    }
    if let Some(attempts) = attempts
        && attempts_pos >= pos
    {
        pos = attempts_pos;
        // Literal tokens such as `{` or `=` (pest does not export the token type,
        // so go through its `Display`, which prints the token text).
        expected.extend(
            attempts
                .expected_tokens()
                .into_iter()
                .map(|t| t.to_string())
                .filter(|t| !t.trim().is_empty() && t != "#" && t != "//" && !t.contains(".."))
                .map(|t| format!("`{t}`")),
        );
    }
    // Token starts such as `"` or `-` say less than the rule they begin.
    if expected.iter().any(|t| t == "`\"`" || t == "`r\"`") {
        expected.push("string".to_owned());
    }
    expected.retain(|t| !matches!(t.as_str(), "`\"`" | "`r\"`" | "`-`" | "`_`"));
    expected.sort();
    expected.dedup();
    if expected.is_empty() {
        // pest only saw whitespace at its furthest point: report the next token.
        let rest = &input[pos.min(input.len())..];
        pos += rest.len() - rest.trim_start().len();
    }
    let found = found_token(input, pos);
    let span = Span::new(offset + pos, offset + pos + found.len().max(1));
    let mut d = if expected.is_empty() {
        Diagnostic::new(
            codes::SYNTAX_ERROR,
            format!("unexpected {}", show_found(found)),
        )
        .primary(span, "unexpected token")
    } else {
        let list = or_list(&expected);
        Diagnostic::new(
            codes::SYNTAX_ERROR,
            format!("expected {list}, found {}", show_found(found)),
        )
        .primary(span, format!("expected {list}"))
    };
    let candidates: Vec<&str> = expected.iter().map(|s| s.trim_matches('`')).collect();
    if let Some(s) = suggest(found, candidates.iter().copied()) {
        d = d.help(format!("did you mean `{s}`?"));
    } else if let Some(shape) = shape {
        d = d.help(shape);
    }
    d
}

/// The shape of a statement, shown as help when its syntax is wrong.
fn shape_of(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "field" => {
            "a field reads `field NAME: TYPE [required|optional] = EXPRESSION [?? EXPRESSION ...]`"
        }
        "match" => {
            "a match block reads `match { SOURCE contains \"text\" ... }`; operators: `contains`, `equals`, `matches`, `starts_with`, `ends_with`, `exists`"
        }
        "sensitive" => "a sensitive line reads `sensitive NAME, NAME, ...`",
        "profile" => "a profile reads `profile \"NAME\" [priority N] { ... }`",
        "test" => {
            "a test reads `test \"NAME\" { input \"FILE.eml\" expect { FIELD = \"VALUE\" ... } }`"
        }
        "input" => "an input line reads `input \"path/to/file.eml\"` (relative to the rule file)",
        "expect" => "an expect block reads `expect { FIELD = \"VALUE\" FIELD = none ... }`",
        "version" => "the version line reads `version 1`",
        _ => return None,
    })
}

fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident => "identifier",
        Rule::string | Rule::raw_string | Rule::string_inner | Rule::raw_inner => "string",
        Rule::integer => "integer",
        Rule::literal => "literal",
        Rule::call | Rule::chain | Rule::alternative | Rule::expr => "expression",
        Rule::presence => "`required` or `optional`",
        Rule::type_ref => "type",
        Rule::exists_op => "`exists`",
        Rule::condition | Rule::cond_atom => "condition",
        Rule::EOI => "end of input",
        Rule::match_block => "`match`",
        Rule::field => "`field`",
        Rule::sensitive => "`sensitive`",
        Rule::input => "`input`",
        Rule::expect_block => "`expect`",
        Rule::expectation => "expectation",
        Rule::priority => "`priority`",
        Rule::call_args => "`(`",
        Rule::pipe => "`|`",
        Rule::none_lit => "`none`",
        Rule::arg => "argument",
        _ => return None,
    })
}

/// The token at `pos`: a word, or one character, or empty at the end.
fn found_token(input: &str, pos: usize) -> &str {
    let rest = input.get(pos..).unwrap_or("");
    let word = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if word > 0 {
        &rest[..word]
    } else {
        rest.chars()
            .next()
            .map(|c| &rest[..c.len_utf8()])
            .unwrap_or("")
    }
}

fn show_found(found: &str) -> String {
    match found {
        "" => "end of input".to_owned(),
        "\n" | "\r" => "end of line".to_owned(),
        f => format!("`{f}`"),
    }
}

/// Joins `a, b or c`.
pub(crate) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The candidate closest to `word` within a small edit distance.
///
/// Words and candidates longer than [`limits::MAX_IDENT_BYTES`] are never compared, and a
/// candidate whose length differs too much is skipped before the (quadratic) distance, so one
/// call costs at most `candidates × MAX_IDENT_BYTES²` steps.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.is_empty() || word.len() > limits::MAX_IDENT_BYTES {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| c.len() <= limits::MAX_IDENT_BYTES)
        .filter(|c| word.len().abs_diff(c.len()) <= (c.len() / 3).max(1))
        .filter(|c| c.chars().all(|ch| ch.is_alphanumeric() || ch == '_') && *c != word)
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar has no unbounded recursion: even without the nesting check in front of it,
    /// pest parses a hundred thousand nested braces on a small stack (it would report "stack
    /// limit reached", or overflow where its stack probe is not available, if `braced`
    /// recursed without a bound).
    #[test]
    fn the_grammar_recursion_is_bounded() {
        let deep = format!(
            "version 1\nprofile \"p\" {{\n  oops {}{}\n}}\n",
            "{".repeat(100_000),
            "}".repeat(100_000)
        );
        let outcome = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                RawParser::parse(Rule::file, &deep)
                    .map(|pairs| pairs.count())
                    .map_err(|e| e.to_string())
            })
            .expect("spawn")
            .join()
            .expect("no panic");
        if let Err(e) = outcome {
            let tail: String = e
                .chars()
                .rev()
                .take(200)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!("the parser failed: ...{tail}");
        }
        let parsed = parse("version 1\nprofile \"p\" { x { { { { { { { { } } } } } } } } }\n");
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.diagnostics[0].code, codes::NESTING_TOO_DEEP);
    }

    #[test]
    fn suggestions_skip_names_over_the_length_limit() {
        let long = "f".repeat(limits::MAX_IDENT_BYTES + 1);
        assert_eq!(suggest(&long, [long.as_str()]), None);
        assert_eq!(suggest("field", ["fieldxxxxxxxxxxxxxxx"]), None);
    }

    #[test]
    fn suggestions_are_close() {
        assert_eq!(suggest("fild", ["field", "match"]), Some("field"));
        assert_eq!(suggest("zzz", ["field", "match"]), None);
    }
}
