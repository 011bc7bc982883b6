//! `mailex:extractor/normalize`: the normalisers of [`crate::normalize`], the ones the DSL
//! uses. A value that does not normalise is `none`; the reason is not passed on (it could
//! quote the value). Each call counts against the call's budget (its input is held while it
//! runs; normalisers read at most [`normalize::MAX_INPUT_LEN`] bytes of it).

use crate::normalize;
use crate::plugin::bindings::mailex::extractor::normalize::Host;
use crate::plugin::bindings::types::{Money, PersonName};
use crate::plugin::state::HostState;

impl HostState {
    /// Runs one normaliser under the call's budget.
    fn normalise<R>(
        &mut self,
        name: &'static str,
        input: &str,
        extra: usize,
        normaliser: impl FnOnce(&str) -> Option<R>,
    ) -> wasmtime::Result<Option<R>> {
        self.host_call(name, input.len() + extra, |state| {
            state.budget().work(input.len() as u64)?;
            Ok(normaliser(input))
        })
    }
}

impl Host for HostState {
    fn normalize_email(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise("normalize-email", &input, 0, |s| normalize::email(s).ok())
    }

    fn normalize_phone(
        &mut self,
        input: String,
        region: Option<String>,
    ) -> wasmtime::Result<Option<String>> {
        let region = region.unwrap_or_else(|| normalize::DEFAULT_REGION.to_owned());
        self.normalise("normalize-phone", &input, region.len(), |s| {
            normalize::phone(s, &region).ok()
        })
    }

    fn normalize_url(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise("normalize-url", &input, 0, |s| normalize::url(s).ok())
    }

    fn normalize_money(
        &mut self,
        input: String,
        default_currency: Option<String>,
    ) -> wasmtime::Result<Option<Money>> {
        let extra = default_currency.as_ref().map_or(0, String::len);
        self.normalise("normalize-money", &input, extra, |s| {
            normalize::money(s, default_currency.as_deref())
                .ok()
                .map(|m| Money {
                    amount: m.amount,
                    currency: m.currency,
                })
        })
    }

    fn normalize_date(&mut self, input: String) -> wasmtime::Result<Option<String>> {
        self.normalise("normalize-date", &input, 0, |s| {
            normalize::date(s, normalize::DateOrder::default())
                .ok()
                .map(|d| d.format("%Y-%m-%d").to_string())
        })
    }

    fn normalize_name(&mut self, input: String) -> wasmtime::Result<Option<PersonName>> {
        self.normalise("normalize-name", &input, 0, |s| {
            normalize::person_name(s).ok().map(|n| PersonName {
                full: n.full,
                first: n.first,
                last: n.last,
            })
        })
    }
}
