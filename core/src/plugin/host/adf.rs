//! `mailex:extractor/adf`: paths into the email's ADF/XML document, found and parsed by
//! [`crate::adf::find_in_email`] and evaluated by [`crate::adf::AdfDocument::values`]: the
//! same search and path syntax as `builtin:adf` and the DSL's `adf(...)`
//! (`prospect/vehicle[@interest=buy]/make`, `prospect/vehicle#2/year`, a final `@attr`).

use crate::adf::{AdfDocument, MAX_ELEMENTS};
use crate::budget::{Budget, Exceeded};
use crate::message::Email;
use crate::plugin::bindings::mailex::extractor::adf::Host;
use crate::plugin::host::regex::STRING_OVERHEAD;
use crate::plugin::state::HostState;

/// Most values one path returns.
const MAX_VALUES: usize = 10_000;

impl Host for HostState {
    fn adf_path(&mut self, path: String) -> wasmtime::Result<Vec<String>> {
        self.host_call("adf-path", path.len(), |state| {
            let Some(doc) = &state.input.adf else {
                return Ok(Vec::new());
            };
            let budget = state.budget();
            // A lookup visits at most every element of the (capped) document.
            budget.work(MAX_ELEMENTS as u64)?;
            let mut out = Vec::new();
            for value in doc.values(&path).into_iter().take(MAX_VALUES) {
                budget.charge((value.len() + STRING_OVERHEAD) as u64)?;
                out.push(value.to_owned());
            }
            Ok(out)
        })
    }

    fn adf_count(&mut self, path: String) -> wasmtime::Result<u32> {
        self.host_call("adf-count", path.len(), |state| {
            let Some(doc) = &state.input.adf else {
                return Ok(0);
            };
            state.budget().work(MAX_ELEMENTS as u64)?;
            Ok(u32::try_from(doc.values(&path).len()).unwrap_or(u32::MAX))
        })
    }
}

/// The email's ADF document, wherever it sits (attachment, body, HTML, forwarded message),
/// found and parsed under the call's budget.
pub(crate) fn find_adf(
    email: &Email<'_>,
    budget: &Budget,
) -> Result<Option<AdfDocument>, Exceeded> {
    Ok(crate::adf::find_in_email_within(email, budget)?.map(|(doc, _origin)| doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<adf><prospect><vehicle interest=\"buy\"><year>2024</year><make>Kia</make></vehicle>\
        <vehicle interest=\"trade-in\"><year>2015</year><make>Ford</make></vehicle></prospect></adf>";

    fn values(path: &str) -> Vec<String> {
        let doc = AdfDocument::parse(DOC).expect("fixture parses");
        doc.values(path).into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn index_attribute_and_filter_steps() {
        assert_eq!(values("prospect/vehicle/make"), ["Kia", "Ford"]);
        assert_eq!(values("prospect/vehicle#2/year"), ["2015"]);
        assert_eq!(values("adf/prospect/vehicle#1/@interest"), ["buy"]);
        assert_eq!(
            values("prospect/vehicle[@interest=trade-in]/make"),
            ["Ford"]
        );
        assert!(values("prospect/vehicle#3/make").is_empty());
        assert!(values("prospect/vehicle#0/make").is_empty());
    }
}
