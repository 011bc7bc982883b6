// The plugin of the author's guide, docs/plugins.md ("3. Write the extractor"); a test keeps
// the guide's code block and this file identical (below this comment).
//
// Build: scripts/build-plugins.sh   (-> target/plugins/acme_leads.wasm)
// Run:   mailex extract --config mailex.toml plugins/examples/acme-leads/fixtures/lead-card.eml
//        from the repository root, with this route in its mailex.toml (docs/plugins.md,
//        "6. Deploy", has the deployed version):
//
// ```toml
// [[route]]
// name = "acme"
// sender = "*@leads.acme.example"
// # The fixture was not received by your mail server (no Authentication-Results of
// # a receiver you trust); for real mail keep the default "dmarc" and set up [auth].
// require_auth = "none"
// extractor = "target/plugins/acme_leads.wasm"    # relative to mailex.toml
// ```

use mailex_plugin_sdk::{Config, DateOrder, ExtractError, Fields, Message, Plugin, export, host};

struct AcmeLeads;

impl Plugin for AcmeLeads {
    const NAME: &'static str = "acme-leads";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let Some(name) = host::css_first(".lead .name")? else {
            return Err(ExtractError::NotApplicable("no .lead card".into()));
        };
        let mut fields = Fields::new();
        fields.name("name", &name);
        if let Some(raw) = host::css_first(".lead .phone")? {
            fields.phone("phone", &raw, Some(region));
        }
        if let Some(email) = host::regex_group(r"(?i)e-?mail:\s*(\S+@\S+)", &message.text, 1)? {
            fields.email("email", &email);
        }
        // `03/04/2026` is March 4 unless the route says the sender writes the day first.
        let order = match config.get_or("date_order", "month_first") {
            "day_first" => DateOrder::DayFirst,
            _ => DateOrder::MonthFirst,
        };
        if let Some(raw) = host::regex_group(r"(?i)move-in:\s*(\S+)", &message.text, 1)? {
            fields.date_in_order("move_in", &raw, order);
        }
        log::debug!("{} fields", fields.len());
        Ok(fields)
    }
}

export!(AcmeLeads);
