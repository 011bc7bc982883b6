//! mailex plugin for ADF/XML car leads (Auto-Lead Data Format 1.0) from a car
//! marketplace, with trade-in reconciliation.
//!
//! Build:  cd plugins && cargo build --release --target wasm32-wasip2 -p adf-cars
//!         (or `scripts/build-plugins.sh`, which copies it to `target/plugins/adf_cars.wasm`)
//! Run:    mailex extract --config mailex.toml plugins/examples/adf-cars/fixtures/trade-in-vehicle.eml
//!         from the repository root, with this route in its mailex.toml:
//!
//! ```toml
//! [[route]]
//! name = "carmarket"
//! sender = "*@carmarket.example"
//! # The fixture was not received by your mail server (no Authentication-Results of
//! # a receiver you trust); for real mail keep the default "dmarc" and set up [auth].
//! require_auth = "none"
//! extractor = "target/plugins/adf_cars.wasm"    # relative to mailex.toml
//!
//! [route.settings]
//! phone_region = "US"
//! ```
//!
//! The host finds and parses the ADF document (an XML attachment or an ADF body, with
//! the usual real-world faults repaired); the plugin reads it with `host::adf` paths.
//!
//! Trade-in reconciliation. Marketplaces report the customer's trade-in in three ways:
//! a second `<vehicle interest="trade-in">` (or `"sell"`), a second `<vehicle>` with no
//! `interest` but `status="used"` after the wanted car, or only a sentence in
//! `<comments>` ("Trade-in: 2016 Honda Civic, 84,000 miles"). The plugin accepts all
//! three, in that order of trust, records which one it used in `trade_in_source`, drops
//! a "trade-in" that is the wanted car itself (same VIN, or same year, make and model),
//! and takes the trade-in value from an appraisal `<price>` or else from the comments.
//!
//! Fields: `first_name`, `last_name`, `name`, `email`, `phone`, `request_date`,
//! `vehicle_year`, `vehicle_make`, `vehicle_model`, `vehicle_trim`, `vehicle_vin`,
//! `vehicle_status`, `vehicle_price`, `has_trade_in`, `trade_in_year`, `trade_in_make`,
//! `trade_in_model`, `trade_in_mileage`, `trade_in_value`, `trade_in_source`, `comments`,
//! `dealer`, `provider`.
//! Config: `phone_region` (default `US`), `currency` (default `USD`, when the ADF names none).

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

struct AdfCars;

/// One `<vehicle>` of the prospect, as read from the document.
#[derive(Debug, Default, Clone, PartialEq)]
struct Vehicle {
    interest: Option<String>,
    status: Option<String>,
    year: Option<String>,
    make: Option<String>,
    model: Option<String>,
    trim: Option<String>,
    vin: Option<String>,
    mileage: Option<String>,
    price: Option<String>,
    appraisal: Option<String>,
}

impl Vehicle {
    /// Read the `index`-th (1-based) vehicle.
    fn read(index: u32) -> Self {
        let at = |p: &str| host::adf_first(&format!("prospect/vehicle#{index}/{p}"));
        Self {
            interest: at("@interest").map(|s| s.to_ascii_lowercase()),
            status: at("@status").map(|s| s.to_ascii_lowercase()),
            year: at("year"),
            make: at("make"),
            model: at("model"),
            trim: at("trim"),
            vin: at("vin"),
            mileage: at("odometer"),
            price: at("price[@type=quote]")
                .or_else(|| at("price[@type=offer]"))
                .or_else(|| at("price[@type=asking]")),
            appraisal: at("price[@type=appraisal]"),
        }
    }

    fn is_trade(&self) -> bool {
        matches!(self.interest.as_deref(), Some("trade-in" | "sell"))
    }

    /// Same car: same VIN, or (no VINs) same year, make and model.
    fn same_car(&self, other: &Vehicle) -> bool {
        match (&self.vin, &other.vin) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => {
                let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => false,
                };
                eq(&self.year, &other.year)
                    && eq(&self.make, &other.make)
                    && eq(&self.model, &other.model)
            }
        }
    }
}

/// The trade-in and how it was found (`vehicle`, `second-vehicle` or `comments`).
type TradeIn = (Vehicle, &'static str);

/// Split the prospect's vehicles into the wanted car and the trade-in (see the crate docs).
fn reconcile(
    vehicles: &[Vehicle],
    comments: &str,
) -> Result<(Option<Vehicle>, Option<TradeIn>), ExtractError> {
    let wanted = vehicles.iter().find(|v| !v.is_trade()).cloned();
    let mut trade = vehicles
        .iter()
        .find(|v| v.is_trade())
        .cloned()
        .map(|v| (v, "vehicle"));
    if trade.is_none() && vehicles.len() > 1 {
        // A second vehicle without `interest`, used, after the wanted one.
        trade = vehicles
            .iter()
            .skip(1)
            .find(|v| v.interest.is_none() && v.status.as_deref() == Some("used"))
            .cloned()
            .map(|v| (v, "second-vehicle"));
    }
    if trade.is_none() {
        let pattern = r"(?i)trade[- ]?in\W+((?:19|20)\d{2})\s+([A-Za-z][A-Za-z-]*)\s+([A-Za-z0-9][A-Za-z0-9-]*)(?:[^.\n]*?([\d,]{3,})\s*(?:miles|mi)\b)?";
        if let Some(c) = host::regex_capture(pattern, comments)? {
            let v = Vehicle {
                interest: Some("trade-in".into()),
                status: Some("used".into()),
                year: c.get(1).map(str::to_owned),
                make: c.get(2).map(str::to_owned),
                model: c.get(3).map(str::to_owned),
                mileage: c.get(4).map(|m| m.replace(',', "")),
                ..Vehicle::default()
            };
            trade = Some((v, "comments"));
        }
    }
    if let (Some(w), Some((t, _))) = (&wanted, &trade)
        && w.same_car(t)
    {
        log::warn!("dropping a trade-in that is the wanted vehicle itself");
        trade = None;
    }
    if let Some((t, _)) = &mut trade
        && t.appraisal.is_none()
    {
        t.appraisal = host::regex_group(
            r"(?i)trade[- ]?in\s+value\W+(\$?\s*[\d,]+(?:\.\d{2})?)",
            comments,
            1,
        )?;
    }
    Ok((wanted, trade))
}

impl Plugin for AdfCars {
    const NAME: &'static str = "adf-cars";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(_message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let currency = host::adf_first("prospect/vehicle/price/@currency")
            .unwrap_or_else(|| config.get_or("currency", "USD").to_owned());
        let count = host::adf_count("prospect/vehicle");
        if count == 0 && host::adf_count("prospect") == 0 {
            return Err(ExtractError::NotApplicable(
                "no ADF prospect in the message".into(),
            ));
        }
        let mut fields = Fields::new();
        let contact = "prospect/customer/contact";

        let first = host::adf_first(&format!("{contact}/name[@part=first]"));
        let last = host::adf_first(&format!("{contact}/name[@part=last]"));
        let full = host::adf_first(&format!("{contact}/name[@part=full]")).or_else(|| {
            match (&first, &last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (Some(f), None) => Some(f.clone()),
                (None, Some(l)) => Some(l.clone()),
                (None, None) => None,
            }
        });
        if let Some(f) = &first {
            fields.text("first_name", f);
        }
        if let Some(l) = &last {
            fields.text("last_name", l);
        }
        if let Some(n) = &full {
            fields.name("name", n);
        }
        if let Some(e) = host::adf_first(&format!("{contact}/email")) {
            fields.email("email", &e);
        }
        // Prefer a voice/cell phone over a fax.
        let phones = host::adf(&format!("{contact}/phone"));
        let faxes = host::adf(&format!("{contact}/phone[@type=fax]"));
        if let Some(p) = phones.iter().find(|p| !faxes.contains(p)) {
            fields.phone("phone", p, Some(region));
        }
        if let Some(d) = host::adf_first("prospect/requestdate")
            && !fields.date("request_date", &d)
        {
            fields.text("request_date", d);
        }

        let vehicles: Vec<Vehicle> = (1..=count.min(16)).map(Vehicle::read).collect();
        let comments = host::adf_first("prospect/customer/comments").unwrap_or_default();
        let (wanted, trade) = reconcile(&vehicles, &comments)?;

        if let Some(v) = wanted {
            set_opt(&mut fields, "vehicle_year", v.year.as_deref());
            set_opt(&mut fields, "vehicle_make", v.make.as_deref());
            set_opt(&mut fields, "vehicle_model", v.model.as_deref());
            set_opt(&mut fields, "vehicle_trim", v.trim.as_deref());
            set_opt(&mut fields, "vehicle_vin", v.vin.as_deref());
            set_opt(&mut fields, "vehicle_status", v.status.as_deref());
            if let Some(p) = &v.price {
                fields.money("vehicle_price", p, Some(&currency));
            }
        }
        fields.boolean("has_trade_in", trade.is_some());
        if let Some((t, source)) = trade {
            set_opt(&mut fields, "trade_in_year", t.year.as_deref());
            set_opt(&mut fields, "trade_in_make", t.make.as_deref());
            set_opt(&mut fields, "trade_in_model", t.model.as_deref());
            if let Some(m) = t
                .mileage
                .as_deref()
                .and_then(|m| m.replace(',', "").trim().parse::<i64>().ok())
            {
                fields.integer("trade_in_mileage", m);
            }
            if let Some(a) = &t.appraisal {
                fields.money("trade_in_value", a, Some(&currency));
            }
            fields.text("trade_in_source", source);
        }
        fields.text("comments", &comments);
        set_opt(
            &mut fields,
            "dealer",
            host::adf_first("prospect/vendor/vendorname").as_deref(),
        );
        set_opt(
            &mut fields,
            "provider",
            host::adf_first("prospect/provider/name").as_deref(),
        );
        Ok(fields)
    }
}

fn set_opt(fields: &mut Fields, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        fields.text(name, v);
    }
}

export!(AdfCars);
