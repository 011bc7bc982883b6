//! A compile budget for the regular expressions of one configuration file.
//!
//! Each pattern is already bounded on its own ([`Compiled::compile`]: pattern length,
//! compiled size, nesting). A rule file or `mailex.toml` can still hold thousands of patterns,
//! each just under the limits: compiling 2,000 of them once took 87 s and 9 GB. A
//! [`RegexBudget`] bounds the whole file: at most `max_count` distinct patterns and
//! `max_bytes` of compiled programs in total, so loading any file takes bounded time and
//! memory. Each pattern's size is measured by building its forward NFA under a size limit no
//! larger than what is left of the budget, so a pattern that would not fit stops early too.
//! Rule-file patterns ([`BudgetedRegex`]) are compiled under that limit and measured from the
//! forward NFA they compile anyway ([`Compiled::compile_measured`]); other patterns
//! are measured by a compile of their own first.

use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use thiserror::Error;

use crate::textops::{
    BudgetedRegex, MAX_PATTERN_LEN, REGEX_DFA_SIZE_LIMIT, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT,
    RegexError,
};

/// Fixed cost charged per compiled pattern on top of its measured size (the regex engine's
/// per-pattern structures).
const PER_PATTERN_BYTES: usize = 4 * 1024;
/// The regex engine keeps a forward and a reverse program; the forward one is measured and
/// charged this many times over (the reverse program of a Unicode class is about 2.2 times the
/// forward one).
const CHARGE_PER_MEASURED_BYTE: usize = 3;

/// Why a pattern was not compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The pattern itself is invalid or over the per-pattern limits.
    #[error(transparent)]
    Invalid(RegexError),
    /// The file already holds `limit` distinct patterns.
    #[error("more than {limit} distinct regular expressions in one file")]
    TooMany {
        /// The limit on distinct patterns.
        limit: usize,
    },
    /// The file's patterns together would compile to more than `limit` bytes.
    #[error(
        "the regular expressions of this file would compile to more than {} MiB in total",
        limit >> 20
    )]
    TooLarge {
        /// The limit on the total compiled size, in bytes.
        limit: usize,
    },
}

/// A compiled form of a regular expression a [`RegexBudget`] can hand out: the `regex` crate's
/// (route patterns, matched outside any run) or a [`BudgetedRegex`] (rule files, whose searches
/// draw from the run's budget).
pub trait Compiled: Clone {
    /// Compiles `pattern` with the crate's per-pattern limits ([`MAX_PATTERN_LEN`],
    /// [`REGEX_SIZE_LIMIT`], [`REGEX_DFA_SIZE_LIMIT`], [`REGEX_NEST_LIMIT`]).
    fn compile(pattern: &str) -> Result<Self, RegexError>;

    /// Compiles `pattern` with its program limited to `size_limit` bytes and says how large its
    /// forward program is, when the compiled form knows; `None` from the default, which makes
    /// the budget measure the pattern with a compile of its own first.
    fn compile_measured(
        _pattern: &str,
        _size_limit: usize,
    ) -> Option<Result<(Self, usize), RegexError>> {
        None
    }
}

impl Compiled for Regex {
    fn compile(pattern: &str) -> Result<Self, RegexError> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(RegexError::PatternTooLong);
        }
        RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(limit) => RegexError::TooBig { limit },
                other => RegexError::Syntax(other.to_string()),
            })
    }
}

impl Compiled for Arc<BudgetedRegex> {
    fn compile(pattern: &str) -> Result<Self, RegexError> {
        BudgetedRegex::new(pattern).map(Arc::new)
    }

    // Rule files hold most patterns: measuring them from the forward program they compile
    // anyway saves one compile of each (about 8% of the example config's start-up).
    fn compile_measured(
        pattern: &str,
        size_limit: usize,
    ) -> Option<Result<(Self, usize), RegexError>> {
        Some(
            BudgetedRegex::new_measured(pattern, size_limit).map(|(re, size)| (Arc::new(re), size)),
        )
    }
}

/// Compiles the regular expressions of one file within a total budget (see the module docs).
#[derive(Debug)]
pub struct RegexBudget<R: Compiled> {
    max_count: usize,
    max_bytes: usize,
    used_bytes: usize,
    compiled: HashMap<String, R>,
    attempted: usize,
}

impl<R: Compiled> RegexBudget<R> {
    /// A budget of at most `max_count` distinct patterns and `max_bytes` compiled bytes.
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        RegexBudget {
            max_count,
            max_bytes,
            used_bytes: 0,
            compiled: HashMap::new(),
            attempted: 0,
        }
    }

    /// Bytes of the budget spent so far (compiled patterns, and the work of patterns that did
    /// not fit).
    #[cfg(test)]
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    /// Compiles `pattern` with the limits of [`Compiled::compile`], charging it to the budget.
    /// A pattern compiled before is returned again at no cost.
    pub fn compile(&mut self, pattern: &str) -> Result<R, BudgetError> {
        if let Some(re) = self.compiled.get(pattern) {
            return Ok(re.clone());
        }
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(BudgetError::Invalid(RegexError::PatternTooLong));
        }
        if self.attempted >= self.max_count {
            return Err(BudgetError::TooMany {
                limit: self.max_count,
            });
        }
        let left = self.max_bytes.saturating_sub(self.used_bytes) / CHARGE_PER_MEASURED_BYTE;
        let limit = REGEX_SIZE_LIMIT.min(left.saturating_sub(PER_PATTERN_BYTES));
        if limit == 0 {
            return Err(BudgetError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.attempted += 1;
        match R::compile_measured(pattern, limit) {
            Some(Ok((re, size))) => {
                self.charge(size);
                self.compiled.insert(pattern.to_owned(), re.clone());
                return Ok(re);
            }
            Some(Err(RegexError::TooBig { .. })) => return Err(self.too_big(limit)),
            Some(Err(e)) => {
                self.charge(0);
                return Err(BudgetError::Invalid(e));
            }
            None => {}
        }
        let measured = thompson::Compiler::new()
            .syntax(syntax::Config::new().nest_limit(REGEX_NEST_LIMIT))
            .configure(thompson::Config::new().nfa_size_limit(Some(limit)))
            .build(pattern);
        let size = match measured {
            Ok(nfa) => nfa.memory_usage(),
            Err(e) if e.size_limit().is_some() => return Err(self.too_big(limit)),
            // A syntax error: let the regular compiler word it, as everywhere else.
            Err(_) => 0,
        };
        // Charged before compiling: a pattern the regex engine then rejects (its reverse
        // program can be larger than the forward one) cost the work all the same.
        self.charge(size);
        let re = R::compile(pattern).map_err(BudgetError::Invalid)?;
        self.compiled.insert(pattern.to_owned(), re.clone());
        Ok(re)
    }

    /// A pattern over `limit`: the work done until the limit was hit is charged either way;
    /// over what is left of the file's budget it is [`BudgetError::TooLarge`], over the
    /// per-pattern limit it is invalid.
    fn too_big(&mut self, limit: usize) -> BudgetError {
        self.charge(limit);
        if limit < REGEX_SIZE_LIMIT {
            BudgetError::TooLarge {
                limit: self.max_bytes,
            }
        } else {
            BudgetError::Invalid(RegexError::TooBig {
                limit: REGEX_SIZE_LIMIT,
            })
        }
    }

    fn charge(&mut self, program_bytes: usize) {
        self.used_bytes = self
            .used_bytes
            .saturating_add(program_bytes.saturating_mul(CHARGE_PER_MEASURED_BYTE))
            .saturating_add(PER_PATTERN_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_size_is_bounded() {
        // `\w{20}` compiles to a large program (Unicode word characters, twenty times: about
        // 350 KB forward, charged about 1 MiB), so three fit in 4 MiB and the fifth does not.
        let mut budget = RegexBudget::<Regex>::new(100, 4 << 20);
        let mut outcomes = Vec::new();
        for i in 0..20 {
            outcomes.push(budget.compile(&format!(r"\w{{20}}x{i}")));
        }
        assert!(outcomes[1].is_ok());
        assert!(outcomes[0].is_ok());
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(BudgetError::TooLarge { .. }))),
            "{outcomes:?}"
        );
        assert!(budget.used_bytes() <= (4 << 20) + REGEX_SIZE_LIMIT * CHARGE_PER_MEASURED_BYTE);
    }

    #[test]
    fn invalid_and_oversized_patterns_keep_their_own_errors() {
        let mut budget = RegexBudget::<Regex>::new(100, 64 << 20);
        assert!(matches!(
            budget.compile("(unclosed"),
            Err(BudgetError::Invalid(RegexError::Syntax(_)))
        ));
        assert!(matches!(
            budget.compile(r"\w{1000}\w{1000}"),
            Err(BudgetError::Invalid(RegexError::TooBig { .. }))
        ));
        assert!(matches!(
            budget.compile(&"a".repeat(MAX_PATTERN_LEN + 1)),
            Err(BudgetError::Invalid(RegexError::PatternTooLong))
        ));
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::regex_budget::{BudgetError, RegexBudget};
        let mut budget = RegexBudget::<regex::Regex>::new(2, 1 << 20);
        assert!(budget.compile(r"Name:\s*(\S+)").is_ok());
        assert!(budget.compile(r"Name:\s*(\S+)").is_ok()); // the same pattern is compiled once
        assert!(budget.compile(r"Phone: (\d+)").is_ok());
        assert!(matches!(
            budget.compile("third"),
            Err(BudgetError::TooMany { limit: 2 })
        ));
    }
}
