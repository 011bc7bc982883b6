//! `mailex:extractor/normalize`: the normalisers of [`crate::normalize`], the ones the DSL
//! uses. A value that does not normalise is `none`; the reason is not passed on (it could
//! quote the value).

use crate::normalize;
use crate::plugin::bindings::mailex::extractor::normalize::Host;
use crate::plugin::bindings::types::{Money, PersonName};
use crate::plugin::state::HostState;

impl Host for HostState {
    fn normalize_email(&mut self, input: String) -> Option<String> {
        normalize::email(&input).ok()
    }

    fn normalize_phone(&mut self, input: String, region: Option<String>) -> Option<String> {
        let region = region.as_deref().unwrap_or(normalize::DEFAULT_REGION);
        normalize::phone(&input, region).ok()
    }

    fn normalize_url(&mut self, input: String) -> Option<String> {
        normalize::url(&input).ok()
    }

    fn normalize_money(
        &mut self,
        input: String,
        default_currency: Option<String>,
    ) -> Option<Money> {
        normalize::money(&input, default_currency.as_deref())
            .ok()
            .map(|m| Money {
                amount: m.amount,
                currency: m.currency,
            })
    }

    fn normalize_date(&mut self, input: String) -> Option<String> {
        normalize::date(&input, normalize::DateOrder::default())
            .ok()
            .map(|d| d.format("%Y-%m-%d").to_string())
    }

    fn normalize_name(&mut self, input: String) -> Option<PersonName> {
        normalize::person_name(&input).ok().map(|n| PersonName {
            full: n.full,
            first: n.first,
            last: n.last,
        })
    }
}
