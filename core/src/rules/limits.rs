//! Every compile-time limit of a rule file, in one place.
//!
//! The parser's limits (file size, nesting, counts, lengths) come from
//! [`mailex_grammar::limits`] and are re-exported here; the limits below need the compiled
//! patterns. Together they make checking any rule file take bounded time and memory
//! (`mailex check` on any file stays under 5 s and 512 MB; see `docs/security.md`).
//! Run-time limits (text and list sizes) are in [`crate::rules`] (`MAX_TEXT_LEN`, ...).

pub use mailex_grammar::limits::*;

/// Distinct regular expressions in one rule file (`E116`).
pub const MAX_REGEXES: usize = 256;
/// Estimated compiled size of all regular expressions of one rule file together, in bytes
/// (`E116`). One pattern alone may use up to [`crate::textops::REGEX_SIZE_LIMIT`] (`E104`).
pub const MAX_REGEX_BYTES: usize = 32 * 1024 * 1024;

/// Candidate names compared for "did you mean" suggestions in one file. Suggesting among
/// thousands of field names for thousands of unknown ones would be quadratic; past this budget
/// diagnostics come without a suggestion.
pub const MAX_SUGGESTION_COMPARISONS: usize = 20_000;

/// Selectors separated by `,` in one CSS selector (`E117`).
pub const MAX_SELECTOR_LIST: usize = 16;
/// Compound selectors (the parts joined by combinators such as ` `, `>`, `+`, `~`) in one CSS
/// selector, counted across its whole list and inside pseudo-classes (`E117`).
pub const MAX_SELECTOR_COMPOUNDS: usize = 32;
/// Nesting of parentheses in one CSS selector, e.g. `:not(:is(td))` nests two deep (`E117`).
pub const MAX_SELECTOR_NESTING: usize = 4;

/// Checks a CSS selector's shape against the selector limits before it is parsed. The count
/// is lexical (strings and attribute values are skipped), so it never rejects less than the
/// selector really holds.
///
/// ```
/// use mailex_core::rules::limits::selector_complexity;
/// assert!(selector_complexity("table#lead td:nth-child(2) > a[href~='x y']").is_ok());
/// assert!(selector_complexity(&"div ".repeat(40)).is_err());
/// assert!(selector_complexity(":not(:not(:not(:not(:not(td)))))").is_err());
/// ```
pub fn selector_complexity(selector: &str) -> Result<(), String> {
    let mut list = 1;
    let mut compounds = 0;
    let mut nesting = 0usize;
    let mut brackets = 0usize;
    let mut quote: Option<char> = None;
    // True when the last character seen ends a compound (so whitespace or a combinator after
    // it starts a new one).
    let mut in_compound = false;
    for c in selector.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' => brackets += 1,
            ']' => brackets = brackets.saturating_sub(1),
            _ if brackets > 0 => {}
            '(' => {
                nesting += 1;
                if nesting > MAX_SELECTOR_NESTING {
                    return Err(format!(
                        "parentheses nest more than {MAX_SELECTOR_NESTING} deep"
                    ));
                }
                in_compound = false;
            }
            ')' => {
                nesting = nesting.saturating_sub(1);
                in_compound = true;
            }
            ',' => {
                list += 1;
                if list > MAX_SELECTOR_LIST {
                    return Err(format!(
                        "more than {MAX_SELECTOR_LIST} selectors separated by `,`"
                    ));
                }
                in_compound = false;
            }
            ' ' | '\t' | '\n' | '\r' | '\u{c}' | '>' | '+' | '~' => in_compound = false,
            _ => {
                if !in_compound {
                    compounds += 1;
                    if compounds > MAX_SELECTOR_COMPOUNDS {
                        return Err(format!(
                            "more than {MAX_SELECTOR_COMPOUNDS} compound selectors"
                        ));
                    }
                }
                in_compound = true;
            }
        }
    }
    Ok(())
}
