//! `mailex:extractor/text` (contract 1.1): the rule language's `strip_tags`
//! ([`crate::html::strip_tags`]) and `collapse` ([`crate::normalize::collapse_ws`]). Each call
//! counts against the call's budget: its input is scanned once (work) and its result, at most
//! as long as the input, is held until it is handed over (memory).

use crate::plugin::bindings::mailex::extractor::text::Host;
use crate::plugin::state::HostState;

impl HostState {
    /// Runs one text operation under the call's budget.
    fn text_op(
        &mut self,
        name: &'static str,
        input: &str,
        op: impl FnOnce(&str) -> String,
    ) -> wasmtime::Result<String> {
        self.host_call(name, input.len(), |state| {
            state.budget().work(input.len() as u64)?;
            let out = op(input);
            state.budget().charge(out.len() as u64)?;
            Ok(out)
        })
    }
}

impl Host for HostState {
    fn strip_tags(&mut self, html: String) -> wasmtime::Result<String> {
        self.text_op("strip-tags", &html, crate::html::strip_tags)
    }

    fn collapse_whitespace(&mut self, text: String) -> wasmtime::Result<String> {
        self.text_op("collapse-whitespace", &text, crate::normalize::collapse_ws)
    }
}
