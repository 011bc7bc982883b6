//! `mailex:extractor/html`: CSS selection ([`crate::css`]) on the message HTML, parsed at most
//! once per call and only when a selector asks for it, and the lead `<meta>` tags (read as
//! [`crate::Email::meta_tags`] reads them). Building the document, matching and reading element
//! text all draw from the call's budget.

use crate::budget::Exceeded;
use crate::plugin::bindings::mailex::extractor::html::Host;
use crate::plugin::host::regex::STRING_OVERHEAD;
use crate::plugin::state::{HostState, with_document};

impl HostState {
    /// The elements `selector` matches, mapped by `each` (`None` drops an element); an invalid
    /// selector is the guest's error, a spent budget a trap.
    fn select(
        &mut self,
        name: &'static str,
        selector: &str,
        arg_bytes: usize,
        each: impl Fn(
            &scraper::ElementRef<'_>,
            &crate::budget::Budget,
        ) -> Result<Option<String>, Exceeded>,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.host_call(name, arg_bytes, |state| {
            let parsed = match crate::css::global_cache().get(selector) {
                Ok(parsed) => parsed,
                Err(e) => return Ok(Err(e.to_string())),
            };
            let budget = state.budget();
            let found = with_document(|call| -> Result<Vec<String>, Exceeded> {
                let Some(doc) = call.document(budget)? else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for element in crate::css::select_within(doc, &parsed, usize::MAX, budget)? {
                    if let Some(value) = each(&element, budget)? {
                        budget.charge(STRING_OVERHEAD as u64)?;
                        out.push(value);
                    }
                }
                Ok(out)
            });
            Ok(Ok(found.transpose()?.unwrap_or_default()))
        })
    }
}

impl Host for HostState {
    fn css_select(&mut self, selector: String) -> wasmtime::Result<Result<Vec<String>, String>> {
        self.select(
            "css-select",
            &selector,
            selector.len(),
            |element, budget| crate::css::text_within(element, usize::MAX, budget).map(Some),
        )
    }

    fn css_select_attr(
        &mut self,
        selector: String,
        attribute: String,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        let arg_bytes = selector.len() + attribute.len();
        self.select(
            "css-select-attr",
            &selector,
            arg_bytes,
            |element, budget| match crate::css::attr(element, &attribute) {
                Some(value) => {
                    budget.charge(value.len() as u64)?;
                    Ok(Some(value.to_owned()))
                }
                None => Ok(None),
            },
        )
    }

    fn meta(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        self.host_call("meta", name.len(), |state| {
            let budget = state.budget();
            let found = with_document(|call| -> Result<Option<String>, Exceeded> {
                Ok(call
                    .meta_tags(budget)?
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    .map(|(_, content)| content.clone()))
            });
            Ok(found.transpose()?.flatten())
        })
    }
}
