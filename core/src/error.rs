//! Errors of the engine's public API.
//!
//! Per-email problems never surface as errors: they become [`crate::Record`]s. Errors are for
//! what stops the engine from starting, a bad `mailex.toml` or a referenced extractor that does
//! not load, and they carry every problem found, each with its `file:line:col`.

use std::fmt;
use std::path::PathBuf;

/// One problem in a configuration file, located in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, and how to fix it where that helps.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl ConfigProblem {
    /// The problem as a warning line: `file:line:col: warning: message`.
    pub fn warning_line(&self) -> String {
        format!(
            "{}:{}:{}: warning: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// The configuration (or something it references) could not be loaded.
///
/// Holds every problem found, so one run of `mailex check` shows them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
    reports: Vec<String>,
}

impl ConfigError {
    /// An error made of located problems.
    pub fn new(problems: Vec<ConfigProblem>) -> Self {
        ConfigError {
            problems,
            reports: Vec::new(),
        }
    }

    /// An error about a file as a whole (line 1, column 1), e.g. one that cannot be read.
    pub fn whole_file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError::new(vec![ConfigProblem {
            file: file.into(),
            line: 1,
            column: 1,
            message: message.into(),
        }])
    }

    /// Adds a pre-rendered report (e.g. a rule file's rustc-style diagnostics).
    pub fn with_report(mut self, report: String) -> Self {
        self.reports.push(report);
        self
    }

    /// Merges another error's problems into this one.
    pub fn extend(&mut self, other: ConfigError) {
        self.problems.extend(other.problems);
        self.reports.extend(other.reports);
    }

    /// Whether nothing is wrong (used while collecting).
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.reports.is_empty()
    }

    /// The located problems.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }

    /// Pre-rendered reports of referenced files.
    pub fn reports(&self) -> &[String] {
        &self.reports
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for problem in &self.problems {
            if !first {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
            first = false;
        }
        for report in &self.reports {
            if !first {
                writeln!(f)?;
            }
            write!(f, "{}", report.trim_end())?;
            first = false;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
