//! Diagnostics: a code, a message, labels on spans and notes, rendered like rustc.

use std::fmt::Write as _;

use crate::codes::{Code, Severity};
use crate::span::{SourceFile, Span};

/// A label pointing at a span of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The span labelled.
    pub span: Span,
    /// Text printed next to the underline.
    pub message: String,
    /// Primary labels are underlined with `^`, context labels with `-`.
    pub primary: bool,
}

/// A note printed under the source snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// How to fix the problem (`= help: ...`).
    Help(String),
    /// Background to the problem (`= note: ...`).
    Note(String),
}

/// One problem found in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// The headline message.
    pub message: String,
    /// Labels on the source, primary first.
    pub labels: Vec<Label>,
    /// Help and notes.
    pub notes: Vec<Note>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: vec![],
            notes: vec![],
        }
    }

    /// Adds the primary label.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Adds a context label.
    pub fn context(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Adds a `help:` note.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.notes.push(Note::Help(text.into()));
        self
    }

    /// Adds a `note:`.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(Note::Note(text.into()));
        self
    }

    /// True for errors (the file does not compile).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The span of the primary label, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
    }

    /// Shifts every label by `offset` bytes (used when a fragment was parsed alone).
    pub fn shifted(mut self, offset: usize) -> Self {
        for l in &mut self.labels {
            l.span = l.span.shift(offset);
        }
        self
    }

    /// Renders the diagnostic rustc-style against its source file.
    ///
    /// ```
    /// use mailex_grammar::{codes, Diagnostic, SourceFile, Span};
    /// let file = SourceFile::new("a.rules", "version 2\n");
    /// let d = Diagnostic::new(codes::UNSUPPORTED_VERSION, "unsupported version 2")
    ///     .primary(Span::new(8, 9), "only version 1 exists")
    ///     .help("write `version 1`");
    /// assert_eq!(d.render(&file), "\
    /// error[E004]: unsupported version 2
    ///  --> a.rules:1:9
    ///   |
    /// 1 | version 2
    ///   |         ^ only version 1 exists
    ///   |
    ///   = help: write `version 1`
    /// ");
    /// ```
    pub fn render(&self, file: &SourceFile) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}[{}]: {}", self.severity, self.code, self.message);
        let mut labels: Vec<&Label> = self.labels.iter().collect();
        labels.sort_by_key(|l| (!l.primary, 0));
        let first = labels.first().map(|l| file.position(l.span.start));
        let mut by_line: Vec<(usize, &Label)> = self
            .labels
            .iter()
            .map(|l| (file.line_index(l.span.start), l))
            .collect();
        by_line.sort_by_key(|(line, l)| (*line, l.span.start));
        let max_line = by_line.iter().map(|(l, _)| l + 1).max().unwrap_or(1);
        let width = max_line.to_string().len();
        let pad = " ".repeat(width);
        match first {
            Some(pos) => {
                let _ = writeln!(out, "{pad}--> {}:{}", file.name(), pos);
            }
            None => {
                let _ = writeln!(out, "{pad}--> {}", file.name());
            }
        }
        if !by_line.is_empty() {
            let _ = writeln!(out, "{pad} |");
            let mut last_line: Option<usize> = None;
            for (line, label) in &by_line {
                if last_line != Some(*line) {
                    if let Some(prev) = last_line
                        && *line > prev + 1
                    {
                        let _ = writeln!(out, "...");
                    }
                    let text = file.line_text(*line);
                    let _ = writeln!(out, "{:>width$} | {}", line + 1, text);
                }
                last_line = Some(*line);
                let text = file.line_text(*line);
                let line_start = file.line_start(*line);
                let start_in_line = label.span.start.saturating_sub(line_start).min(text.len());
                let prefix: String = text
                    .get(..start_in_line)
                    .unwrap_or("")
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let end_in_line = label.span.end.saturating_sub(line_start).min(text.len());
                let marked = text
                    .get(start_in_line..end_in_line.max(start_in_line))
                    .unwrap_or("");
                let n = marked.chars().count().max(1);
                let mark = if label.primary { "^" } else { "-" }.repeat(n);
                let msg = if label.message.is_empty() {
                    String::new()
                } else {
                    format!(" {}", label.message)
                };
                let _ = writeln!(out, "{pad} | {prefix}{mark}{msg}");
            }
        }
        if !self.notes.is_empty() {
            if !by_line.is_empty() {
                let _ = writeln!(out, "{pad} |");
            }
            for note in &self.notes {
                let (kind, text) = match note {
                    Note::Help(t) => ("help", t),
                    Note::Note(t) => ("note", t),
                };
                let _ = writeln!(out, "{pad} = {kind}: {text}");
            }
        }
        out
    }
}

/// Renders many diagnostics separated by blank lines, followed by a summary line
/// (`error: could not compile `a.rules` due to 2 errors; 1 warning emitted`).
pub fn render_all(diagnostics: &[Diagnostic], file: &SourceFile) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render(file));
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("1 {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    if errors > 0 {
        let _ = write!(
            out,
            "error: could not compile `{}` due to {}",
            file.name(),
            plural(errors, "error")
        );
        if warnings > 0 {
            let _ = write!(out, "; {} emitted", plural(warnings, "warning"));
        }
        out.push('\n');
    } else if warnings > 0 {
        let _ = writeln!(
            out,
            "warning: `{}` generated {}",
            file.name(),
            plural(warnings, "warning")
        );
    }
    out
}
