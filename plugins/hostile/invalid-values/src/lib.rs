//! Hostile mailex plugin: returns typed values that their types reject, set directly (not
//! through the SDK's normalising setters): an email that is not one, a `javascript:` URL, a
//! `NaN` decimal, a phone of letters, a date that is not one, money in no currency. Each must
//! become a field error, and the one valid field must still be recorded.
//!
//! Build:  `scripts/build-plugins.sh` (copies it to `target/plugins/hostile_invalid_values.wasm`)
//! Run:    cargo test -p mailex-core --test budgets

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Money, Plugin, Value, export};

struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-invalid-values";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(_message: &Message, _config: &Config) -> Result<Fields, ExtractError> {
        let mut fields = Fields::new();
        fields.text("status", "ok");
        fields.set("email", Value::Email("NOT AN EMAIL; DROP TABLE leads".into()));
        fields.set("website", Value::Url("javascript:alert(document.cookie)".into()));
        fields.set("budget", Value::Decimal(f64::NAN));
        fields.set("rooms", Value::Decimal(f64::INFINITY));
        fields.set("phone", Value::Phone("call me maybe".into()));
        fields.set("move_in", Value::Date("someday".into()));
        fields.set(
            "rent",
            Value::Money(Money {
                amount: "1,200".into(),
                currency: "dollars".into(),
            }),
        );
        fields.set("contact", Value::Email(" Jane.Doe@Example.COM ".into()));
        Ok(fields)
    }
}

export!(Hostile);
