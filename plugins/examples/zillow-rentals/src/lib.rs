//! mailex plugin for Zillow Group Rentals contact emails
//! (`rentalclientservices@zillowrentals.com`, subject "New Zillow Group Rentals Contact: <property>").
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p zillow-rentals
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/zillow_rentals.wasm`)
//! Run:    mailex extract --config mailex.toml tests/fixtures/leads/zillow.eml
//!         from the repository root, with this route in its mailex.toml:
//!
//! ```toml
//! [[route]]
//! name = "zillow-rentals"
//! sender = "*@zillowrentals.com"
//! # The fixture was not received by your mail server (no Authentication-Results of
//! # a receiver you trust); for real mail keep the default "dmarc" and set up [auth].
//! require_auth = "none"
//! extractor = "target/plugins/zillow_rentals.wasm"    # relative to mailex.toml
//!
//! [route.settings]
//! phone_region = "US"
//! ```
//!
//! The HTML marks the lead with microformat classes (`h-card`, `p-name`, `p-email`,
//! `p-tel`); the quoted message is the first cell of the card that starts with a quote;
//! the listing block (`cell-facts-new`) holds the rent, the size and the address.
//!
//! Fields: `name`, `email`, `phone`, `message`, `property`, `listing_address`, `rent`,
//! `unit_type` (when the lead names a floor plan), `ils` (`Zillow`).
//! Config: `phone_region` (default `US`).

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

struct ZillowRentals;

impl Plugin for ZillowRentals {
    const NAME: &'static str = "zillow-rentals";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let Some(card_name) = host::css_first(".h-card .p-name")? else {
            return Err(ExtractError::NotApplicable(
                "no Zillow contact card (.h-card .p-name)".into(),
            ));
        };
        let mut fields = Fields::new();

        // "Alice Ellsworth says:" or "casey halvorsen is interested in 11K and says:"
        let name = host::regex_capture(
            r"(?s)^\s*(.*?)\s+(?:is interested in (.+?) and )?says:\s*$",
            &card_name,
        )?;
        match name {
            Some(c) => {
                fields.text("name", c.get(1).unwrap_or_default());
                if let Some(plan) = c.get(2) {
                    fields.text("unit_type", plan);
                }
            }
            None => {
                fields.text("name", card_name.trim());
            }
        }

        if let Some(raw) = host::css_first(".h-card .p-email")?
            && !fields.email("email", &raw)
        {
            log::warn!("the contact card has an email cell that is not an address");
        }
        if let Some(raw) = host::css_first(".h-card .p-tel")?
            && !fields.phone("phone", &raw, Some(region))
        {
            log::warn!("the contact card has a phone cell that is not a phone number");
        }

        // The lead's message: the first card cell wrapped in straight quotes.
        let quoted = host::css_select(".h-card td")?
            .into_iter()
            .map(|t| t.trim().to_owned())
            .find(|t| t.len() > 2 && t.starts_with('"') && t.ends_with('"'));
        if let Some(q) = quoted {
            fields.text("message", &q[1..q.len() - 1]);
        }

        if let Some(property) =
            host::regex_group(r"Contact:\s*(.+?)\s*$", message.subject_str(), 1)?
        {
            fields.text("property", property);
        }

        let facts = host::css_select(".cell-facts-new a")?;
        for fact in facts.iter().map(|f| f.trim()) {
            if fact.starts_with('$') {
                fields.money("rent", fact.trim_end_matches('+'), Some("USD"));
            } else if host::regex_capture(r",\s*[A-Z]{2}(?:\s+\d{5})?$", fact)?.is_some() {
                fields.text("listing_address", fact);
            }
        }

        if !fields.contains("email") && !fields.contains("phone") {
            return Err(ExtractError::InvalidInput(
                "the contact card has neither email nor phone".into(),
            ));
        }
        fields.text("ils", "Zillow");
        Ok(fields)
    }
}

export!(ZillowRentals);
