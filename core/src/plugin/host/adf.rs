//! `mailex:extractor/adf`: paths into the email's ADF/XML document, found and parsed by
//! [`crate::adf::find_in_email`] and evaluated by [`crate::adf::AdfDocument::values`]: the
//! same search and path syntax as `builtin:adf` and the DSL's `adf(...)`
//! (`prospect/vehicle[@interest=buy]/make`, `prospect/vehicle#2/year`, a final `@attr`).

use crate::adf::AdfDocument;
use crate::message::Email;
use crate::plugin::bindings::mailex::extractor::adf::Host;
use crate::plugin::state::HostState;

/// Most values one path returns.
const MAX_VALUES: usize = 10_000;

impl Host for HostState {
    fn adf_path(&mut self, path: String) -> Vec<String> {
        let Some(doc) = &self.input.adf else {
            return Vec::new();
        };
        doc.values(&path)
            .into_iter()
            .take(MAX_VALUES)
            .map(str::to_owned)
            .collect()
    }

    fn adf_count(&mut self, path: String) -> u32 {
        let Some(doc) = &self.input.adf else {
            return 0;
        };
        u32::try_from(doc.values(&path).len()).unwrap_or(u32::MAX)
    }
}

/// The email's ADF document, wherever it sits (attachment, body, HTML, forwarded message).
pub(crate) fn find_adf(email: &Email<'_>) -> Option<AdfDocument> {
    crate::adf::find_in_email(email).map(|(doc, _origin)| doc)
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
