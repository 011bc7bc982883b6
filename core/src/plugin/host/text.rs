//! `mailex:extractor/text` (contract 1.1): the rule language's `strip_tags`
//! ([`crate::html::strip_tags`]) and `collapse` ([`crate::normalize::collapse_ws`]).

use crate::plugin::bindings::mailex::extractor::text::Host;
use crate::plugin::state::HostState;

impl Host for HostState {
    fn strip_tags(&mut self, html: String) -> String {
        crate::html::strip_tags(&html)
    }

    fn collapse_whitespace(&mut self, text: String) -> String {
        crate::normalize::collapse_ws(&text)
    }
}
