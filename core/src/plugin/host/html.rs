//! `mailex:extractor/html`: CSS selection ([`crate::css`]) and lead `<meta>` tags
//! ([`crate::html::meta_tags`]) on the message HTML, parsed at most once per call.

use crate::plugin::bindings::mailex::extractor::html::Host;
use crate::plugin::state::{HostState, with_document};

impl Host for HostState {
    fn css_select(&mut self, selector: String) -> Result<Vec<String>, String> {
        with_document(|doc| {
            crate::css::select(doc, &selector)
                .map(|els| els.iter().map(crate::css::text).collect())
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|| {
            crate::css::parse_selector(&selector)
                .map(|_| Vec::new())
                .map_err(|e| e.to_string())
        })
    }

    fn css_select_attr(
        &mut self,
        selector: String,
        attribute: String,
    ) -> Result<Vec<String>, String> {
        with_document(|doc| {
            crate::css::select(doc, &selector)
                .map(|els| {
                    els.iter()
                        .filter_map(|el| crate::css::attr(el, &attribute).map(str::to_owned))
                        .collect()
                })
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|| {
            crate::css::parse_selector(&selector)
                .map(|_| Vec::new())
                .map_err(|e| e.to_string())
        })
    }

    fn meta(&mut self, name: String) -> Option<String> {
        with_document(|doc| {
            crate::html::meta_tags(doc)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, content)| content)
        })
        .flatten()
    }
}
