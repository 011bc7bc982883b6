//! `enum(...)`: check a value against a fixed list.

use super::{NormalizeError, collapse_ws, prepare};

/// Returns the entry of `allowed` that equals `input`, ignoring case and collapsing whitespace.
pub fn enum_value<S: AsRef<str>>(input: &str, allowed: &[S]) -> Result<String, NormalizeError> {
    let s = collapse_ws(prepare(input, 1024)?);
    allowed
        .iter()
        .map(AsRef::as_ref)
        .find(|a| collapse_ws(a).to_lowercase() == s.to_lowercase())
        .map(str::to_string)
        .ok_or_else(|| NormalizeError::NotAllowed {
            allowed: allowed.iter().map(|a| a.as_ref().to_string()).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ignoring_case_and_space() {
        let allowed = ["buy", "trade-in", "test drive"];
        assert_eq!(enum_value("Trade-In", &allowed).as_deref(), Ok("trade-in"));
        assert_eq!(
            enum_value("TEST   drive", &allowed).as_deref(),
            Ok("test drive")
        );
        let e = enum_value("lease", &allowed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not one of the allowed values (buy, trade-in, test drive)"
        );
        assert_eq!(enum_value("", &allowed), Err(NormalizeError::Empty));
        let none: [&str; 0] = [];
        assert!(enum_value("x", &none).is_err());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::enum_value;
        assert_eq!(enum_value(" USED ", &["new", "used"]).unwrap(), "used");
        assert!(enum_value("broken", &["new", "used"]).is_err());
    }
}
