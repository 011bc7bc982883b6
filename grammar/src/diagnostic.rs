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
                let line_start = file.line_start(*line);
                // A long line is shown as a window around its first label, so a diagnostic
                // never prints more than a screenful however long the line is.
                let focus = by_line
                    .iter()
                    .filter(|(l, _)| l == line)
                    .map(|(_, l)| l.span.start.saturating_sub(line_start))
                    .min()
                    .unwrap_or(0);
                let (text, cut_before) = line_window(file.line_text(*line), focus);
                if last_line != Some(*line) {
                    if let Some(prev) = last_line
                        && *line > prev + 1
                    {
                        let _ = writeln!(out, "...");
                    }
                    let more = if cut_before + text.len() < file.line_text(*line).len() {
                        ELLIPSIS
                    } else {
                        ""
                    };
                    let less = if cut_before > 0 { ELLIPSIS } else { "" };
                    let _ = writeln!(out, "{:>width$} | {less}{text}{more}", line + 1);
                }
                last_line = Some(*line);
                let line_start = line_start + cut_before;
                let lead = if cut_before > 0 {
                    " ".repeat(ELLIPSIS.len())
                } else {
                    String::new()
                };
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
                let _ = writeln!(out, "{pad} | {lead}{prefix}{mark}{msg}");
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

/// Lines longer than this many bytes are shown as a window of about this size.
const MAX_SHOWN_LINE: usize = 160;
/// How much of a long line is shown before the first label.
const SHOWN_BEFORE_LABEL: usize = 40;
const ELLIPSIS: &str = "...";

/// The part of `line` shown for a label at byte `focus`, and how many bytes were cut before it.
fn line_window(line: &str, focus: usize) -> (&str, usize) {
    if line.len() <= MAX_SHOWN_LINE {
        return (line, 0);
    }
    let floor = |mut i: usize| {
        i = i.min(line.len());
        while !line.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    // Near the start of the line, show the line from its start.
    let start = if focus <= MAX_SHOWN_LINE / 2 {
        0
    } else {
        floor(focus.saturating_sub(SHOWN_BEFORE_LABEL))
    };
    let end = floor(start + MAX_SHOWN_LINE);
    (&line[start..end], start)
}

/// At most this many diagnostics are rendered by [`render_all`]; the summary counts them all.
pub const MAX_RENDERED_DIAGNOSTICS: usize = 100;

/// Renders many diagnostics separated by blank lines, followed by a summary line
/// (`error: could not compile `a.rules` due to 2 errors; 1 warning emitted`). Only the first
/// [`MAX_RENDERED_DIAGNOSTICS`] are rendered in full.
pub fn render_all(diagnostics: &[Diagnostic], file: &SourceFile) -> String {
    let mut out = String::new();
    for d in diagnostics.iter().take(MAX_RENDERED_DIAGNOSTICS) {
        out.push_str(&d.render(file));
        out.push('\n');
    }
    if let Some(hidden) = diagnostics.len().checked_sub(MAX_RENDERED_DIAGNOSTICS)
        && hidden > 0
    {
        let _ = writeln!(
            out,
            "note: {hidden} more diagnostic{} not shown\n",
            if hidden == 1 { "" } else { "s" }
        );
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
