//! The function library of the rule language, one file per function (VRL style).
//!
//! Every function is a [`Function`]: its name, the receivers it applies to, its
//! parameters, a summary and a list of [`Example`]s. [`all`] registers them. The
//! examples run as tests (`every_function_example_holds`) and render the function
//! reference in `docs/dsl.md` ([`reference_markdown`]), so code, tests and docs
//! cannot drift apart.

use std::fmt::Write as _;

use mailex_grammar::Code;
use mailex_grammar::ast::LiteralValue;

pub use super::value::Ty;
pub(crate) use super::value::{Cx, Value};

mod address;
mod adf;
mod after;
mod attachment;
mod attr;
mod before;
mod between;
mod collapse;
mod css;
mod first;
mod from;
mod grep;
mod header;
mod html;
mod html_text;
mod join;
mod last;
mod line;
mod lines;
mod lower;
mod meta;
mod name;
mod nested;
mod nth;
mod regex;
mod replace;
mod reply_to;
mod split;
mod strip_tags;
mod subject;
mod take;
mod text;
mod texts;
mod to;
mod trim;
mod until;
mod upper;

pub(crate) mod samples;

pub(crate) use self::regex::regex_error;

/// Every function of the language, sorted by name.
pub fn all() -> &'static [Function] {
    static ALL: &[Function] = &[
        address::FUNCTION,
        adf::FUNCTION,
        after::FUNCTION,
        attachment::FUNCTION,
        attr::FUNCTION,
        before::FUNCTION,
        between::FUNCTION,
        collapse::FUNCTION,
        css::FUNCTION,
        first::FUNCTION,
        from::FUNCTION,
        grep::FUNCTION,
        header::FUNCTION,
        html::FUNCTION,
        html_text::FUNCTION,
        join::FUNCTION,
        last::FUNCTION,
        line::FUNCTION,
        lines::FUNCTION,
        lower::FUNCTION,
        meta::FUNCTION,
        name::FUNCTION,
        nested::FUNCTION,
        nth::FUNCTION,
        regex::FUNCTION,
        replace::FUNCTION,
        reply_to::FUNCTION,
        split::FUNCTION,
        strip_tags::FUNCTION,
        subject::FUNCTION,
        take::FUNCTION,
        text::FUNCTION,
        texts::FUNCTION,
        to::FUNCTION,
        trim::FUNCTION,
        until::FUNCTION,
        upper::FUNCTION,
    ];
    ALL
}

/// Looks a function up by name.
pub fn lookup(name: &str) -> Option<&'static Function> {
    all().iter().find(|f| f.name == name)
}

/// One typing of a function: what it applies to and what it returns.
#[derive(Debug, Clone, Copy)]
pub struct Sig {
    /// The value the function is called on (`Message` for sources such as `text`).
    pub receiver: Ty,
    /// The value it produces.
    pub returns: Ty,
}

/// The kind of literal a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A string (or raw string).
    Str,
    /// An integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// A string holding a regular expression: the compiler compiles it within the file's
    /// regex budget and hands it over as [`Args::regex`].
    Regex,
    /// A string holding a CSS selector: the compiler checks its complexity, parses it and
    /// hands it over as [`Args::selector`].
    Selector,
}

impl ParamKind {
    /// The kind's name in messages and the reference.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Str | ParamKind::Regex | ParamKind::Selector => "string",
            ParamKind::Int => "integer",
            ParamKind::Bool => "boolean",
        }
    }
}

/// A parameter of a function. Arguments are constants, checked at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name, usable as `name: value`.
    pub name: &'static str,
    /// The literal kind it takes.
    pub kind: ParamKind,
    /// Whether it must be given.
    pub required: bool,
    /// What it means.
    pub doc: &'static str,
}

/// An example: an expression evaluated on a sample email, with its result.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// What the example shows.
    pub title: &'static str,
    /// The sample email (raw RFC 5322, see `samples.rs`).
    pub email: &'static str,
    /// A field expression.
    pub expr: &'static str,
    /// The value of a `text` field with that expression (`None`: no value).
    pub result: Option<&'static str>,
}

/// Why a call's arguments were rejected.
#[derive(Debug, Clone)]
pub struct ArgError {
    /// The diagnostic code (`E101`, `E104`, `E105`, `E106`, ...).
    pub code: Code,
    /// The parameter concerned (index into [`Function::params`]), if one.
    pub param: Option<usize>,
    /// Label text.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl ArgError {
    pub(crate) fn new(code: Code, param: usize, message: impl Into<String>) -> Self {
        ArgError {
            code,
            param: Some(param),
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The checked arguments of a call, indexed like [`Function::params`].
#[derive(Debug, Default)]
pub struct Args {
    pub(crate) values: Vec<Option<LiteralValue>>,
    /// Regular expressions and selectors the compiler prepared, by parameter.
    pub(crate) prepared: Vec<Option<Prepared>>,
}

/// An argument the compiler compiled before the function's own compile hook runs.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// A [`ParamKind::Regex`] argument.
    Regex(std::sync::Arc<crate::textops::BudgetedRegex>),
    /// A [`ParamKind::Selector`] argument.
    Selector(scraper::Selector),
}

impl Args {
    /// The string argument at `i`, if given.
    pub fn str(&self, i: usize) -> Option<&str> {
        match self.values.get(i)? {
            Some(LiteralValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The integer argument at `i`, if given.
    pub fn int(&self, i: usize) -> Option<i64> {
        match self.values.get(i)? {
            Some(LiteralValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// The boolean argument at `i`, if given.
    pub fn bool(&self, i: usize) -> Option<bool> {
        match self.values.get(i)? {
            Some(LiteralValue::Bool(v)) => Some(*v),
            _ => None,
        }
    }

    /// A required string argument (the compiler has checked it is present).
    pub(crate) fn req_str(&self, i: usize) -> String {
        self.str(i).unwrap_or_default().to_owned()
    }

    /// The compiled regular expression of a [`ParamKind::Regex`] parameter.
    pub(crate) fn regex(
        &self,
        i: usize,
    ) -> Result<&std::sync::Arc<crate::textops::BudgetedRegex>, ArgError> {
        match self.prepared.get(i) {
            Some(Some(Prepared::Regex(re))) => Ok(re),
            _ => Err(not_prepared(i)),
        }
    }

    /// The parsed selector of a [`ParamKind::Selector`] parameter.
    pub(crate) fn selector(&self, i: usize) -> Result<&scraper::Selector, ArgError> {
        match self.prepared.get(i) {
            Some(Some(Prepared::Selector(s))) => Ok(s),
            _ => Err(not_prepared(i)),
        }
    }
}

/// The compiler prepares every regex and selector argument; reaching this is a bug, reported
/// as a diagnostic rather than a panic.
fn not_prepared(param: usize) -> ArgError {
    ArgError::new(
        mailex_grammar::codes::BAD_ARGUMENTS,
        param,
        "internal error: this argument was not compiled",
    )
}

/// A compiled call, applied to a value during evaluation.
pub(crate) trait Step: Send + Sync {
    /// Applies the step; `None` means "no value" (the alternative fails over).
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>>;
}

/// The compile hook of a function.
pub(crate) type CompileFn = fn(Ty, &Args) -> Result<Box<dyn Step>, ArgError>;

/// A function of the rule language.
#[derive(Clone, Copy)]
pub struct Function {
    /// Its name.
    pub name: &'static str,
    /// One paragraph of documentation.
    pub summary: &'static str,
    /// The receivers it applies to, and what it returns for each.
    pub sigs: &'static [Sig],
    /// Its parameters, positional in this order or named.
    pub params: &'static [Param],
    /// Examples, run as tests and shown in the reference.
    pub examples: &'static [Example],
    pub(crate) compile: CompileFn,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Function {
    /// The signature for a receiver, if the function applies to it.
    pub fn sig_for(&self, receiver: Ty) -> Option<Sig> {
        self.sigs.iter().copied().find(|s| s.receiver == receiver)
    }

    /// Whether it is a source (applies to an email).
    pub fn is_source(&self) -> bool {
        self.sig_for(Ty::Message).is_some()
    }

    /// `name(a, b: string)` as written in the reference.
    pub fn usage(&self) -> String {
        if self.params.is_empty() {
            return self.name.to_owned();
        }
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let opt = if p.required { "" } else { "?" };
                format!("{}{opt}: {}", p.name, p.kind.name())
            })
            .collect();
        format!("{}({})", self.name, params.join(", "))
    }
}

/// The function reference as Markdown, generated from [`all`] (pasted into `docs/dsl.md`).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for f in all() {
        let _ = writeln!(out, "### `{}`\n", f.name);
        let _ = writeln!(out, "`{}`\n", f.usage());
        let sigs: Vec<String> = f
            .sigs
            .iter()
            .map(|s| format!("{} → {}", s.receiver.name(), s.returns.name()))
            .collect();
        let _ = writeln!(out, "Applies to: {}.\n", sigs.join("; "));
        let _ = writeln!(out, "{}\n", f.summary);
        if !f.params.is_empty() {
            for p in f.params {
                let req = if p.required { "required" } else { "optional" };
                let _ = writeln!(out, "- `{}` ({}, {req}): {}", p.name, p.kind.name(), p.doc);
            }
            out.push('\n');
        }
        for e in f.examples {
            let result = match e.result {
                Some(r) => format!("`{}`", r.replace('\n', "\\n")),
                None => "no value".to_owned(),
            };
            let _ = writeln!(
                out,
                "- {}: `{}` → {result} (sample `{}`)",
                e.title,
                e.expr,
                samples::name_of(e.email)
            );
        }
        out.push('\n');
    }
    out
}

// ---- shared step helpers ----

/// A text-to-text transformation.
pub(crate) type TextFn = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;
/// A text-to-slice selection.
pub(crate) type SliceFn = Box<dyn for<'a> Fn(&'a str) -> Option<&'a str> + Send + Sync>;

/// A step mapping one text to one text.
pub(crate) struct MapText(pub(crate) TextFn);

impl Step for MapText {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let out = (self.0)(input.as_text()?)?;
        Value::text(out)
    }
}

/// A step that picks one sub-slice of a text (never allocates).
pub(crate) struct SliceText(pub(crate) SliceFn);

impl Step for SliceText {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Text(std::borrow::Cow::Borrowed(s)) => Value::text((self.0)(s)?),
            Value::Text(std::borrow::Cow::Owned(s)) => Value::text((self.0)(&s)?.to_owned()),
            _ => None,
        }
    }
}

/// A text search of `crate::textops` (`after`, `before` and their `_ci` twins).
pub(crate) type SearchFn = for<'a> fn(&'a str, &str) -> Option<&'a str>;

/// Compiles `after(marker)` / `before(marker)`: a non-empty `marker` (argument 0) and the
/// `ignore_case` flag (argument 1, default true) choose between `ignore_case` and `exact`.
pub(crate) fn marker_search(
    args: &Args,
    ignore_case: SearchFn,
    exact: SearchFn,
) -> Result<Box<dyn Step>, ArgError> {
    let marker = args.req_str(0);
    if marker.is_empty() {
        return Err(ArgError::new(
            mailex_grammar::codes::BAD_ARGUMENTS,
            0,
            "the marker is empty",
        ));
    }
    let search = if args.bool(1).unwrap_or(true) {
        ignore_case
    } else {
        exact
    };
    Ok(Box::new(SliceText(Box::new(move |s| search(s, &marker)))))
}

pub(crate) const TEXT_TO_TEXT: &[Sig] = &[Sig {
    receiver: Ty::Text,
    returns: Ty::Text,
}];
pub(crate) const LIST_TO_TEXT: &[Sig] = &[Sig {
    receiver: Ty::List,
    returns: Ty::Text,
}];
pub(crate) const SOURCE_TEXT: &[Sig] = &[Sig {
    receiver: Ty::Message,
    returns: Ty::Text,
}];

/// The standard `ignore_case` parameter of the marker functions.
pub(crate) const IGNORE_CASE: Param = Param {
    name: "ignore_case",
    kind: ParamKind::Bool,
    required: false,
    doc: "match markers ignoring ASCII case (default `true`)",
};

/// The step behind `from`, `to` and `reply_to`: one address header of a message, `None` when
/// the header has no address.
pub(crate) struct AddressHeader(
    pub(crate) for<'a, 'm> fn(&'a crate::message::Email<'m>) -> Vec<crate::message::Address>,
);

impl Step for AddressHeader {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::Message(m) => {
                let list = (self.0)(m);
                (!list.is_empty()).then_some(Value::Addresses(list))
            }
            _ => None,
        }
    }
}
