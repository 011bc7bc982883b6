//! mailex plugin for Facebook lead-ad form fills that Zapier forwards by email
//! (`no-reply.*@zapiermail.com`, subject "New Lead: Facebook Form Fill" or
//! "New Facebook Lead").
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p facebook-zapier
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/facebook_zapier.wasm`)
//! Run:    mailex extract --config mailex.toml tests/fixtures/leads/zapiermail.eml
//!         from the repository root, with this route in its mailex.toml:
//!
//! ```toml
//! [[route]]
//! name = "facebook-leads"
//! sender = "*@zapiermail.com"
//! # The fixture was not received by your mail server (no Authentication-Results of
//! # a receiver you trust); for real mail keep the default "dmarc" and set up [auth].
//! require_auth = "none"
//! extractor = "target/plugins/facebook_zapier.wasm"    # relative to mailex.toml
//!
//! [route.settings]
//! phone_region = "US"
//! ```
//!
//! The body is a fixed greeting, then one value per line: first name, last name, then the
//! email address and the phone number in either order (both layouts occur). The HTML part
//! carries the same lines separated by `<br />`; the text view is enough.
//!
//! Fields: `first_name`, `last_name`, `name`, `email`, `phone`, `source`.
//! Config: `phone_region` (default `US`), `source` (default `facebook`).

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

/// The line that opens the lead block in every Zapier lead-ad mail.
const MARKER: &str = "You have received a new lead from a Facebook ad:";

struct FacebookZapier;

impl Plugin for FacebookZapier {
    const NAME: &'static str = "facebook-zapier";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let Some((_, block)) = message.text.split_once(MARKER) else {
            return Err(ExtractError::NotApplicable(
                "the text has no Facebook lead marker".into(),
            ));
        };
        // The block ends at the dashed separator before the unsubscribe link.
        let block = block.split("-----").next().unwrap_or(block);
        let lines: Vec<&str> = block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();

        let mut fields = Fields::new();
        let mut names = Vec::new();
        for line in &lines {
            if !fields.contains("email") && line.contains('@') && fields.email("email", line) {
                continue;
            }
            let looks_like_phone = line.chars().filter(char::is_ascii_digit).count() >= 7;
            if !fields.contains("phone")
                && looks_like_phone
                && fields.phone("phone", line, Some(region))
            {
                continue;
            }
            if names.len() < 2 && !looks_like_phone {
                // A name typed with a double or no-break space reads as one space.
                names.push(host::collapse_whitespace(line));
            }
        }

        match names.as_slice() {
            [first, last] => {
                fields.text("first_name", first).text("last_name", last);
                fields.name("name", &format!("{first} {last}"));
            }
            [whole] => {
                fields.name("name", whole);
            }
            _ => {}
        }
        if !fields.contains("email") && !fields.contains("phone") {
            return Err(ExtractError::InvalidInput(
                "the lead block has neither an email address nor a phone number".into(),
            ));
        }
        fields.text("source", config.get_or("source", "facebook"));
        // The lead form's name sometimes follows in the subject: "New Lead: <form>".
        if let Some(form) = host::regex_group(r"(?i)^New Lead:\s*(.+)$", message.subject_str(), 1)?
        {
            fields.text("form", form);
        }
        log::debug!(
            "extracted {} fields from {} lead lines",
            fields.len(),
            lines.len()
        );
        Ok(fields)
    }
}

export!(FacebookZapier);
