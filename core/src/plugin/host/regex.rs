//! `mailex:extractor/regex`: regex matching on [`crate::textops::RegexCache`], the cache the
//! DSL uses (patterns are compiled once per host, with the same size limits).

use crate::plugin::bindings::mailex::extractor::regex::Host;
use crate::plugin::state::HostState;

/// Most matches `regex-find-all` returns.
const MAX_MATCHES: usize = 10_000;

impl Host for HostState {
    fn regex_capture(
        &mut self,
        pattern: String,
        haystack: String,
    ) -> Result<Option<Vec<Option<String>>>, String> {
        let re = self.regex.get(&pattern).map_err(|e| e.to_string())?;
        Ok(re.captures(&haystack).map(|caps| {
            caps.iter()
                .map(|g| g.map(|m| m.as_str().to_owned()))
                .collect()
        }))
    }

    fn regex_find_all(&mut self, pattern: String, haystack: String) -> Result<Vec<String>, String> {
        let re = self.regex.get(&pattern).map_err(|e| e.to_string())?;
        Ok(re
            .find_iter(&haystack)
            .take(MAX_MATCHES)
            .map(|m| m.as_str().to_owned())
            .collect())
    }
}
