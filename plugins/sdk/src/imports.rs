//! The host's imports as the rest of the SDK calls them.
//!
//! In a plugin (`wasm32`), these are the functions generated from the contract. On any other
//! target (a plugin's native `cargo test`) there is no mailex host to call: the generated
//! stand-ins would abort the whole test binary ("panic in a function that cannot unwind"), so
//! the SDK calls these instead, which panic with an ordinary, catchable panic that names the
//! host function and says how to test code that needs the host.

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::mailex::extractor::{
    adf, attachments, html, logging, normalize, regex, text,
};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use self::native::{adf, attachments, html, logging, normalize, regex, text};

/// The panic message of a host function called outside mailex.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn outside_mailex_message(import: &str) -> String {
    format!(
        "mailex host function `{import}` called outside mailex: the SDK's host primitives \
         (regex, CSS, meta, ADF, attachments, normalisers, text helpers) exist only while the \
         plugin runs inside mailex. In a native `cargo test`, test code that does not call them; \
         run the whole plugin on mail with `mailex test --plugin <plugin>.wasm <dir>` \
         (see docs/plugins.md, \"Test\")"
    )
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    //! Same signatures as the generated imports; every call panics (catchably).

    fn outside(import: &str) -> ! {
        panic!("{}", super::outside_mailex_message(import))
    }

    pub(crate) mod regex {
        use super::outside;

        pub(crate) fn regex_capture(
            _pattern: &str,
            _haystack: &str,
        ) -> Result<Option<Vec<Option<String>>>, String> {
            outside("regex.regex-capture")
        }

        pub(crate) fn regex_find_all(
            _pattern: &str,
            _haystack: &str,
        ) -> Result<Vec<String>, String> {
            outside("regex.regex-find-all")
        }
    }

    pub(crate) mod html {
        use super::outside;

        pub(crate) fn css_select(_selector: &str) -> Result<Vec<String>, String> {
            outside("html.css-select")
        }

        pub(crate) fn css_select_attr(
            _selector: &str,
            _attribute: &str,
        ) -> Result<Vec<String>, String> {
            outside("html.css-select-attr")
        }

        pub(crate) fn meta(_name: &str) -> Option<String> {
            outside("html.meta")
        }
    }

    pub(crate) mod adf {
        use super::outside;

        pub(crate) fn adf_path(_path: &str) -> Vec<String> {
            outside("adf.adf-path")
        }

        pub(crate) fn adf_count(_path: &str) -> u32 {
            outside("adf.adf-count")
        }
    }

    pub(crate) mod attachments {
        use super::outside;

        pub(crate) fn attachment_bytes(_index: u32) -> Option<Vec<u8>> {
            outside("attachments.attachment-bytes")
        }
    }

    pub(crate) mod normalize {
        use super::outside;
        use crate::{Money, PersonName};

        pub(crate) fn normalize_email(_input: &str) -> Option<String> {
            outside("normalize.normalize-email")
        }

        pub(crate) fn normalize_phone(_input: &str, _region: Option<&str>) -> Option<String> {
            outside("normalize.normalize-phone")
        }

        pub(crate) fn normalize_url(_input: &str) -> Option<String> {
            outside("normalize.normalize-url")
        }

        pub(crate) fn normalize_money(
            _input: &str,
            _default_currency: Option<&str>,
        ) -> Option<Money> {
            outside("normalize.normalize-money")
        }

        pub(crate) fn normalize_date(_input: &str) -> Option<String> {
            outside("normalize.normalize-date")
        }

        pub(crate) fn normalize_date_in_order(
            _input: &str,
            _order: crate::DateOrder,
        ) -> Option<String> {
            outside("normalize.normalize-date-in-order")
        }

        pub(crate) fn normalize_name(_input: &str) -> Option<PersonName> {
            outside("normalize.normalize-name")
        }
    }

    pub(crate) mod text {
        use super::outside;

        pub(crate) fn strip_tags(_html: &str) -> String {
            outside("text.strip-tags")
        }

        pub(crate) fn collapse_whitespace(_text: &str) -> String {
            outside("text.collapse-whitespace")
        }
    }

    pub(crate) mod logging {
        use crate::LogLevel;

        /// Outside mailex, log lines go to stderr (the test harness captures them).
        pub(crate) fn log(level: LogLevel, message: &str) {
            eprintln!("[{level:?}] {message}");
        }
    }
}
