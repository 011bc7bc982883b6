//! The mailex rule language: grammar, syntax tree and diagnostics.
//!
//! A rule file describes the layouts of one sender's lead emails. This crate
//! turns its text into a typed [`RuleFile`] ([`parse`]) and defines the
//! [`Diagnostic`]s every stage reports, with stable [`codes`] and rustc-style
//! rendering ([`Diagnostic::render`]). The compiler and evaluator live in
//! `mailex-core` (`mailex_core::rules`).
//!
//! **Architecture invariant:** this crate knows nothing of mail-parser or
//! wasmtime. Parsing never fails: it returns the tree plus every diagnostic.
//!
//! ```
//! use mailex_grammar::{parse, render_all, SourceFile};
//! let src = "version 1\nprofile \"p\" {\n  fild name: text = text\n}\n";
//! let parsed = parse(src);
//! let out = render_all(&parsed.diagnostics, &SourceFile::new("p.rules", src));
//! assert!(out.starts_with("error[E001]: expected `match`, `field` or `sensitive`, found `fild`"));
//! assert!(out.contains("help: did you mean `field`?"));
//! ```
#![deny(missing_docs)]

pub mod ast;
pub mod codes;
mod diagnostic;
mod error;
pub mod limits;
mod lower;
mod parser;
mod span;

pub use ast::RuleFile;
pub use codes::{Code, Severity, Stage};
pub use diagnostic::{Diagnostic, Label, Note, render_all};
pub use error::ParseError;
pub use parser::{Parsed, parse, suggest};
pub use span::{Position, SourceFile, Span, Spanned};

impl std::str::FromStr for RuleFile {
    type Err = ParseError;

    /// Parses and fails on any syntax error (warnings are dropped).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = parse(s);
        let errors: Vec<Diagnostic> = parsed
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        if errors.is_empty() {
            Ok(parsed.file)
        } else {
            Err(ParseError {
                diagnostics: errors,
            })
        }
    }
}
