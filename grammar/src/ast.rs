//! The typed syntax tree of a rule file. Every node carries its [`Span`].

use crate::span::{Span, Spanned};

/// An identifier with its span.
pub type Ident = Spanned<String>;

/// A whole rule file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleFile {
    /// The `version N` line, if present.
    pub version: Option<Spanned<i64>>,
    /// Profiles in source order.
    pub profiles: Vec<Profile>,
    /// Test blocks in source order.
    pub tests: Vec<Test>,
}

/// `profile "name" priority N { ... }`: one layout of a sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile's name.
    pub name: Spanned<String>,
    /// Its priority (higher wins); `None` means 0.
    pub priority: Option<Spanned<i64>>,
    /// The `match { ... }` blocks' conditions; all must hold.
    pub conditions: Vec<Condition>,
    /// Span of the first `match` keyword block, if any.
    pub match_span: Option<Span>,
    /// Field declarations.
    pub fields: Vec<Field>,
    /// Names listed on `sensitive` lines.
    pub sensitive: Vec<Ident>,
    /// The whole profile.
    pub span: Span,
    /// The `profile "name"` head, for labels.
    pub head_span: Span,
}

/// One line of a `match` block: atoms joined by `or`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// At least one atom holds.
    pub any: Vec<CondAtom>,
    /// The whole line.
    pub span: Span,
}

/// `[not] <chain> <op> <literal>` or `[not] <chain> exists`.
#[derive(Debug, Clone, PartialEq)]
pub struct CondAtom {
    /// `not` in front.
    pub negated: bool,
    /// The value tested.
    pub subject: Alternative,
    /// The operator.
    pub op: Spanned<CondOp>,
    /// The literal operand (absent for `exists`).
    pub value: Option<Literal>,
    /// The whole atom.
    pub span: Span,
}

/// A `match` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondOp {
    /// Substring test (case-insensitive).
    Contains,
    /// Equality (case-insensitive, trimmed).
    Equals,
    /// Regex search.
    Matches,
    /// Prefix test (case-insensitive).
    StartsWith,
    /// Suffix test (case-insensitive).
    EndsWith,
    /// The value is present and non-empty.
    Exists,
}

/// `required` or `optional`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A missing value makes the record `partial`.
    Required,
    /// A missing value is fine.
    Optional,
}

/// `field name: type [required|optional] = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field name.
    pub name: Ident,
    /// The declared type.
    pub ty: TypeRef,
    /// Presence, if written (default optional).
    pub presence: Option<Spanned<Presence>>,
    /// The value expression.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// A type with optional arguments, e.g. `phone(region: "US")`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    /// The type name.
    pub name: Ident,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// The whole type.
    pub span: Span,
}

/// `a ?? b ?? c`: alternatives tried in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// At least one alternative.
    pub alternatives: Vec<Alternative>,
    /// The whole expression.
    pub span: Span,
}

/// One alternative: a head followed by method calls and pipes.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// The first element.
    pub head: Head,
    /// `.call` and `| call` steps, in order.
    pub steps: Vec<Call>,
    /// The whole alternative.
    pub span: Span,
}

/// The start of an alternative.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    /// A constant.
    Literal(Literal),
    /// A source function such as `text` or `header("Reply-To")`.
    Call(Call),
}

/// A function call; arguments are constants.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name.
    pub name: Ident,
    /// Arguments (empty when written without parentheses).
    pub args: Vec<Arg>,
    /// True when written with `|` instead of `.`.
    pub piped: bool,
    /// The whole call.
    pub span: Span,
}

/// An argument: `literal` or `name: literal`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The name of a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Literal,
    /// The whole argument.
    pub span: Span,
}

/// A literal value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: LiteralValue,
    /// Where it was written.
    pub span: Span,
}

/// The value of a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralValue {
    /// A string (escapes resolved) or raw string.
    Str(String),
    /// An integer.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
}

impl LiteralValue {
    /// A short name of the literal's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            LiteralValue::Str(_) => "string",
            LiteralValue::Int(_) => "integer",
            LiteralValue::Bool(_) => "boolean",
        }
    }
}

/// `test "name" { input "path" expect { ... } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The test's name.
    pub name: Spanned<String>,
    /// `input` lines (exactly one is valid).
    pub inputs: Vec<Spanned<String>>,
    /// Expected field values.
    pub expects: Vec<Expectation>,
    /// The whole block.
    pub span: Span,
    /// The `test "name"` head.
    pub head_span: Span,
}

/// `field = "value"` or `field = none` inside `expect { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The field (or `status` / `profile`).
    pub field: Ident,
    /// The expected rendering, `None` for `none` (the field must be absent).
    pub value: Option<Spanned<String>>,
    /// The whole line.
    pub span: Span,
}
