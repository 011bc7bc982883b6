//! The registry of diagnostic codes.
//!
//! Every diagnostic mailex reports about a rule file, and every runtime issue a
//! rule file puts into a record, carries one of these codes. Codes are grouped
//! by range and never reused:
//!
//! | range | stage |
//! |---|---|
//! | `E001`–`E099` | syntax (this crate's parser) |
//! | `E100`–`E199` | semantic checks (the compiler in `mailex-core`) |
//! | `E200`–`E299` | runtime issues written into records |
//!
//! `docs/dsl.md` has one section per code; a test keeps the two in step.

use std::fmt;

/// The stage of the pipeline that reports a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Reported by the parser (`E001`–`E099`).
    Syntax,
    /// Reported by the compiler before anything runs (`E100`–`E199`).
    Semantic,
    /// Reported while extracting a record (`E200`–`E299`).
    Runtime,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The file still compiles; something is probably wrong.
    Warning,
    /// The file does not compile (or, at runtime, the field is in error).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A stable diagnostic code such as `E104`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    number: u16,
    name: &'static str,
    title: &'static str,
    severity: Severity,
}

impl Code {
    const fn new(number: u16, name: &'static str, title: &'static str, severity: Severity) -> Self {
        Code {
            number,
            name,
            title,
            severity,
        }
    }

    /// The number, e.g. `104` for `E104`.
    pub fn number(&self) -> u16 {
        self.number
    }

    /// A short kebab-case name, e.g. `invalid-regex`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A one-line description used as the heading in `docs/dsl.md`.
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The default severity of diagnostics with this code.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The stage that reports this code, derived from its range.
    pub fn stage(&self) -> Stage {
        match self.number {
            0..=99 => Stage::Syntax,
            100..=199 => Stage::Semantic,
            _ => Stage::Runtime,
        }
    }

    /// Looks a code up by its rendered form (`"E104"`).
    pub fn lookup(text: &str) -> Option<Code> {
        ALL.iter().copied().find(|c| c.to_string() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E{:03}", self.number)
    }
}

use Severity::{Error, Warning};

/// `E001`: the parser met something the grammar does not allow.
pub const SYNTAX_ERROR: Code = Code::new(1, "syntax-error", "syntax error", Error);
/// `E002`: a string literal is not closed on its line.
pub const UNTERMINATED_STRING: Code = Code::new(
    2,
    "unterminated-string",
    "unterminated string literal",
    Error,
);
/// `E003`: a backslash escape in a string is not one the language knows.
pub const INVALID_ESCAPE: Code = Code::new(3, "invalid-escape", "unknown escape sequence", Error);
/// `E004`: the `version` line names a language version this build does not speak.
pub const UNSUPPORTED_VERSION: Code = Code::new(
    4,
    "unsupported-version",
    "unsupported language version",
    Error,
);
/// `E005`: the file does not start with a `version` line.
pub const MISSING_VERSION: Code = Code::new(5, "missing-version", "missing version line", Warning);
/// `E006`: an integer literal does not fit.
pub const INTEGER_OUT_OF_RANGE: Code = Code::new(
    6,
    "integer-out-of-range",
    "integer literal out of range",
    Error,
);
/// `E007`: the rule file is larger than [`crate::limits::MAX_FILE_BYTES`]; it is not parsed.
pub const FILE_TOO_LARGE: Code = Code::new(7, "file-too-large", "rule file too large", Error);
/// `E008`: the rule file is not valid UTF-8; it is not parsed.
pub const INVALID_UTF8: Code = Code::new(8, "invalid-utf8", "rule file is not UTF-8", Error);
/// `E009`: `{ }` blocks nest deeper than [`crate::limits::MAX_NESTING`]; the file is not parsed.
pub const NESTING_TOO_DEEP: Code =
    Code::new(9, "nesting-too-deep", "blocks nested too deeply", Error);
/// `E010`: a list (profiles, tests, fields, conditions, alternatives, steps, arguments,
/// expectations, sensitive names) has more items than its limit in [`crate::limits`].
pub const TOO_MANY_ITEMS: Code = Code::new(10, "too-many-items", "too many items", Error);
/// `E011`: a string literal or an identifier is longer than its limit in [`crate::limits`].
pub const TOO_LONG: Code = Code::new(11, "too-long", "literal or name too long", Error);

/// `E100`: a call names a function that does not exist.
pub const UNKNOWN_FUNCTION: Code = Code::new(100, "unknown-function", "unknown function", Error);
/// `E101`: a call passes the wrong number or kind of arguments.
pub const BAD_ARGUMENTS: Code = Code::new(101, "bad-arguments", "wrong arguments", Error);
/// `E102`: a field declares a type that does not exist.
pub const UNKNOWN_TYPE: Code = Code::new(102, "unknown-type", "unknown field type", Error);
/// `E103`: a function is applied to a value of the wrong kind.
pub const TYPE_MISMATCH: Code = Code::new(103, "type-mismatch", "type mismatch", Error);
/// `E104`: a regular expression does not compile.
pub const INVALID_REGEX: Code =
    Code::new(104, "invalid-regex", "invalid regular expression", Error);
/// `E105`: a regular expression lacks the capture group it is asked for.
pub const UNKNOWN_REGEX_GROUP: Code = Code::new(
    105,
    "unknown-regex-group",
    "unknown regex capture group",
    Error,
);
/// `E106`: a CSS selector does not parse.
pub const INVALID_SELECTOR: Code =
    Code::new(106, "invalid-selector", "invalid CSS selector", Error);
/// `E107`: a profile declares the same field twice.
pub const DUPLICATE_FIELD: Code = Code::new(107, "duplicate-field", "duplicate field", Error);
/// `E108`: a `sensitive` line or a test expectation names a field no profile declares.
pub const UNKNOWN_FIELD: Code = Code::new(108, "unknown-field", "unknown field", Error);
/// `E109`: a profile can never be chosen because an earlier one always wins.
pub const UNREACHABLE_PROFILE: Code =
    Code::new(109, "unreachable-profile", "unreachable profile", Warning);
/// `E110`: a test's `input` file does not exist.
pub const MISSING_FIXTURE: Code = Code::new(110, "missing-fixture", "test input not found", Error);
/// `E111`: two profiles (or two tests) share a name.
pub const DUPLICATE_NAME: Code = Code::new(111, "duplicate-name", "duplicate name", Error);
/// `E112`: a type argument (region, day order, enum variants, currency) is invalid.
pub const INVALID_TYPE_ARGUMENT: Code =
    Code::new(112, "invalid-type-argument", "invalid type argument", Error);
/// `E113`: the file declares no profile at all.
pub const NO_PROFILES: Code = Code::new(113, "no-profiles", "no profile", Error);
/// `E114`: a test block has no `input` line, or more than one.
pub const BAD_TEST: Code = Code::new(114, "bad-test", "malformed test block", Error);
/// `E115`: a `match` condition uses an operator that needs a different literal.
pub const BAD_CONDITION: Code = Code::new(115, "bad-condition", "invalid match condition", Error);
/// `E116`: the file's regular expressions together exceed the compile budget (their number or
/// their total compiled size).
pub const REGEX_BUDGET_EXCEEDED: Code = Code::new(
    116,
    "regex-budget-exceeded",
    "too many or too large regular expressions",
    Error,
);
/// `E117`: a CSS selector is more complex than the selector limits allow.
pub const SELECTOR_TOO_COMPLEX: Code = Code::new(
    117,
    "selector-too-complex",
    "CSS selector too complex",
    Error,
);
/// `E118`: a test's `input` path leaves the fixtures root (absolute, `..` or a symlink out).
pub const INPUT_OUTSIDE_ROOT: Code = Code::new(
    118,
    "input-outside-root",
    "test input outside the fixtures root",
    Error,
);
/// `E119`: a test's `input` file is not an email (or not a regular file); it is not shown.
pub const INPUT_NOT_MAIL: Code =
    Code::new(119, "input-not-mail", "test input is not an email", Error);

/// `E200`: a required field has no value in this email.
pub const MISSING_REQUIRED: Code =
    Code::new(200, "missing-required", "required field missing", Error);
/// `E201`: a value was found but its type's normaliser rejected it.
pub const NORMALIZE_FAILED: Code = Code::new(
    201,
    "normalize-failed",
    "value rejected by its type",
    Warning,
);
/// `E202`: a required field came from a fallback, not its first alternative.
pub const DEGRADED: Code = Code::new(202, "degraded", "field came from a fallback", Warning);
/// `E203`: no profile of the rule file matched the email.
pub const NO_PROFILE_MATCHED: Code =
    Code::new(203, "no-profile-matched", "no profile matched", Error);
/// `E204`: an intermediate value exceeded the size cap and was cut.
pub const VALUE_TRUNCATED: Code = Code::new(204, "value-truncated", "value truncated", Warning);

/// Every code, in numeric order.
pub const ALL: &[Code] = &[
    SYNTAX_ERROR,
    UNTERMINATED_STRING,
    INVALID_ESCAPE,
    UNSUPPORTED_VERSION,
    MISSING_VERSION,
    INTEGER_OUT_OF_RANGE,
    FILE_TOO_LARGE,
    INVALID_UTF8,
    NESTING_TOO_DEEP,
    TOO_MANY_ITEMS,
    TOO_LONG,
    UNKNOWN_FUNCTION,
    BAD_ARGUMENTS,
    UNKNOWN_TYPE,
    TYPE_MISMATCH,
    INVALID_REGEX,
    UNKNOWN_REGEX_GROUP,
    INVALID_SELECTOR,
    DUPLICATE_FIELD,
    UNKNOWN_FIELD,
    UNREACHABLE_PROFILE,
    MISSING_FIXTURE,
    DUPLICATE_NAME,
    INVALID_TYPE_ARGUMENT,
    NO_PROFILES,
    BAD_TEST,
    BAD_CONDITION,
    REGEX_BUDGET_EXCEEDED,
    SELECTOR_TOO_COMPLEX,
    INPUT_OUTSIDE_ROOT,
    INPUT_NOT_MAIL,
    MISSING_REQUIRED,
    NORMALIZE_FAILED,
    DEGRADED,
    NO_PROFILE_MATCHED,
    VALUE_TRUNCATED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_in_range() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].number < pair[1].number,
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(Code::lookup("E104"), Some(INVALID_REGEX));
        assert_eq!(INVALID_REGEX.stage(), Stage::Semantic);
        assert_eq!(DEGRADED.stage(), Stage::Runtime);
        assert_eq!(SYNTAX_ERROR.to_string(), "E001");
    }
}
