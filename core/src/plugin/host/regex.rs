//! `mailex:extractor/regex`: regex matching on [`crate::textops::RegexCache`], the cache the
//! DSL uses (patterns are compiled once per host, with the same size limits), searched as
//! [`crate::textops::BudgetedRegex`]: a search stops when the call's budget is spent.

use crate::plugin::bindings::mailex::extractor::regex::Host;
use crate::plugin::state::HostState;
use crate::textops::RegexError;

/// Most matches `regex-find-all` returns.
const MAX_MATCHES: usize = 10_000;

impl Host for HostState {
    fn regex_capture(
        &mut self,
        pattern: String,
        haystack: String,
    ) -> wasmtime::Result<Result<Option<Vec<Option<String>>>, String>> {
        self.host_call("regex-capture", pattern.len() + haystack.len(), |state| {
            let re = match state.regex.get_within(&pattern, state.budget()) {
                Ok(re) => re,
                Err(RegexError::Budget(spent)) => return Err(spent),
                Err(e) => return Ok(Err(e.to_string())),
            };
            let budget = state.budget();
            let Some(groups) = re.captures(&haystack, budget)? else {
                return Ok(Ok(None));
            };
            let mut out = Vec::with_capacity(groups.len());
            for group in groups {
                out.push(match group {
                    Some(span) => {
                        budget.charge(span.len() as u64)?;
                        Some(haystack[span].to_owned())
                    }
                    None => None,
                });
            }
            Ok(Ok(Some(out)))
        })
    }

    fn regex_find_all(
        &mut self,
        pattern: String,
        haystack: String,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.host_call("regex-find-all", pattern.len() + haystack.len(), |state| {
            let re = match state.regex.get_within(&pattern, state.budget()) {
                Ok(re) => re,
                Err(RegexError::Budget(spent)) => return Err(spent),
                Err(e) => return Ok(Err(e.to_string())),
            };
            let budget = state.budget();
            let mut out = Vec::new();
            let mut spent = None;
            re.for_each_match(&haystack, budget, |m| {
                if let Err(e) = budget.charge((m.len() + STRING_OVERHEAD) as u64) {
                    spent = Some(e);
                    return false;
                }
                out.push(haystack[m].to_owned());
                out.len() < MAX_MATCHES
            })?;
            match spent {
                Some(e) => Err(e),
                None => Ok(Ok(out)),
            }
        })
    }
}

/// Bytes a `String` in a result list takes besides its text.
pub(crate) const STRING_OVERHEAD: usize = std::mem::size_of::<String>();
