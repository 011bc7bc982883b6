//! `builtin:adf`: leads in ADF/XML 1.0 (Auto-lead Data Format), the car-dealer standard.
//!
//! The ADF is looked for, in order, in an attachment (`application/xml`, `text/xml`, a `.xml` or
//! `.adf` name, or any attachment that contains `<adf>`), the HTML body (wrapped in
//! `<pre>` or entity-escaped), the text body, and finally in forwarded (`message/rfc822`) parts.
//! Parsing is tolerant (see [`crate::adf`]); recovered faults become `adf_*` warnings.
//!
//! | field | ADF source | type |
//! |---|---|---|
//! | `name` | `customer/contact/name` (`part="full"`, or first + last) | person_name |
//! | `first_name`, `last_name` | `name[part=first]`, `name[part=last]`, else split from `name` | text |
//! | `email` | `customer/contact/email` | email |
//! | `phone` | `customer/contact/phone` (voice or cell before others, never fax/pager) | phone (E.164) |
//! | `vehicle_year`, `vehicle_make`, `vehicle_model`, `vehicle_trim`, `vehicle_vin`, `vehicle_stock`, `vehicle_status`, `vehicle_interest`, `vehicle_price` | the first `vehicle` that is not a trade-in | int / text / money |
//! | `trade_in_year`, `trade_in_make`, `trade_in_model`, `trade_in_vin` | `vehicle[interest=trade-in]` | int / text |
//! | `comments` | `customer/comments`, else the vehicle's `comments` | text |
//! | `request_date` | `requestdate` | datetime (UTC, or local without offset when no zone is given) or date |
//! | `prospect_id` | `prospect/id` | text |
//! | `vendor` | `vendor/vendorname`, else `vendor/contact/name` | text |
//! | `provider` | `provider/name`, else `provider/service` | text |
//!
//! Required: `name`, and `email` or `phone`; otherwise the record is `partial`.

use crate::adf::{AdfDocument, AdfNode};
use crate::extractor::{Completeness, ExtractContext, Extraction, Extractor};
use crate::message::Email;
use crate::normalize::{self, FieldType, NormalizeError};
use crate::record::{ExtractorInfo, FieldValue, Issue, IssueCode};

use super::{Options, date_or_datetime};

/// Fields holding personal data.
const SENSITIVE: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "comments",
];

/// The `builtin:adf` extractor.
#[derive(Debug, Clone)]
pub struct AdfExtractor {
    info: ExtractorInfo,
}

impl AdfExtractor {
    /// Creates the extractor.
    pub fn new() -> Self {
        AdfExtractor {
            info: super::info("adf"),
        }
    }
}

impl Default for AdfExtractor {
    fn default() -> Self {
        Self::new()
    }
}

impl Extractor for AdfExtractor {
    fn info(&self) -> &ExtractorInfo {
        &self.info
    }

    fn extract(&self, email: &Email<'_>, ctx: &ExtractContext<'_>) -> Extraction {
        let Some((doc, origin)) = crate::adf::find_in_email(email) else {
            return Extraction::failed(Issue::new(
                IssueCode::AdfNotFound,
                "no ADF/XML lead found in the attachments, the HTML body, the text body or forwarded parts",
            ));
        };
        extract_from(&doc, &origin.to_string(), &Options::from_ctx(ctx))
    }
}

struct Out {
    ex: Extraction,
    source: String,
}

impl Out {
    fn set(&mut self, field: &str, value: FieldValue, path: &str) {
        self.ex.fields.insert(field.to_owned(), value);
        self.ex
            .provenance
            .insert(field.to_owned(), format!("{}: {path}", self.source));
    }

    fn text(&mut self, field: &str, value: Option<&str>, path: &str) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.set(field, FieldValue::Text(v.to_owned()), path);
        }
    }

    fn invalid(&mut self, field: &str, e: &NormalizeError) {
        self.ex.errors.push(Issue::for_field(
            IssueCode::InvalidValue,
            field,
            format!("field `{field}`: {e}"),
        ));
    }
}

/// Builds the fields from a parsed document.
fn extract_from(doc: &AdfDocument, source: &str, opts: &Options) -> Extraction {
    let mut out = Out {
        ex: Extraction::new(),
        source: source.to_owned(),
    };
    for w in &doc.warnings {
        out.ex.warnings.push(Issue::new(w.code, w.message.clone()));
    }
    let prospects = doc.find_all("prospect");
    if prospects.len() > 1 {
        out.ex.warnings.push(Issue::new(
            IssueCode::AdfMultipleProspects,
            format!(
                "the ADF holds {} prospects; only the first was extracted",
                prospects.len()
            ),
        ));
    }
    let empty = AdfNode::default();
    let p = prospects.first().copied().unwrap_or(&empty);

    // Customer name.
    let contact = "customer/contact";
    let full = p
        .find_all("customer/contact/name")
        .into_iter()
        .filter(|n| {
            n.attr("part")
                .is_none_or(|v| v.eq_ignore_ascii_case("full"))
        })
        .map(|n| n.text.as_str())
        .find(|t| !t.is_empty());
    let first = p.get("customer/contact/name[part=first]");
    let last = p
        .get("customer/contact/name[part=last]")
        .or_else(|| p.get("customer/contact/name[part=surname]"));
    let name = match full {
        Some(f) => Some((
            FieldType::PersonName.normalize(f),
            "prospect/customer/contact/name",
        )),
        // Parts have no field type of their own: the person-name normaliser's entry for them.
        None if first.is_some() || last.is_some() => Some((
            normalize::person_name_from_parts(first, last).map(FieldValue::Name),
            "prospect/customer/contact/name[part=first] + name[part=last]",
        )),
        None => None,
    };
    match name {
        Some((Ok(FieldValue::Name(n)), path)) => {
            let (nf, nl) = (
                first.map(str::to_owned).or(n.first.clone()),
                last.map(str::to_owned).or(n.last.clone()),
            );
            out.text(
                "first_name",
                nf.as_deref(),
                &format!("prospect/{contact}/name[part=first]"),
            );
            out.text(
                "last_name",
                nl.as_deref(),
                &format!("prospect/{contact}/name[part=last]"),
            );
            out.set("name", FieldValue::Name(n), path);
        }
        Some((Err(e), _)) => out.invalid("name", &e),
        // A person name normalises to a `FieldValue::Name`, always.
        Some((Ok(_), _)) | None => {}
    }

    // Email: the first one that normalises.
    let mut email_err = None;
    for node in p.find_all("customer/contact/email") {
        if node.text.is_empty() {
            continue;
        }
        match FieldType::Email.normalize(&node.text) {
            Ok(v) => {
                out.set("email", v, "prospect/customer/contact/email");
                email_err = None;
                break;
            }
            Err(e) => email_err = email_err.or(Some(e)),
        }
    }
    if let Some(e) = email_err {
        out.invalid("email", &e);
    }

    // Phone: voice/cell (or untyped) before others; never fax or pager.
    let mut phones: Vec<&AdfNode> = p
        .find_all("customer/contact/phone")
        .into_iter()
        .filter(|n| !n.text.is_empty())
        .filter(|n| {
            !n.attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("fax") || t.eq_ignore_ascii_case("pager"))
        })
        .collect();
    phones.sort_by_key(|n| match n.attr("preferredcontact") {
        Some("1") => 0,
        _ => 1,
    });
    let mut phone_err = None;
    let phone = FieldType::Phone {
        region: opts.region.clone(),
    };
    for node in phones {
        match phone.normalize(&node.text) {
            Ok(v) => {
                out.set("phone", v, "prospect/customer/contact/phone");
                phone_err = None;
                break;
            }
            Err(e) => phone_err = phone_err.or(Some(e)),
        }
    }
    if let Some(e) = phone_err {
        out.invalid("phone", &e);
    }

    // Vehicles.
    let vehicles = p.find_all("vehicle");
    let is_trade = |v: &AdfNode| {
        v.attr("interest")
            .is_some_and(|i| i.eq_ignore_ascii_case("trade-in"))
    };
    let wanted = vehicles
        .iter()
        .position(|v| !is_trade(v))
        .or((!vehicles.is_empty()).then_some(0));
    if let Some(i) = wanted {
        vehicle(
            &mut out,
            vehicles[i],
            "vehicle",
            &format!("prospect/vehicle#{}", i + 1),
            opts,
        );
    }
    if let Some(i) = vehicles.iter().position(|v| is_trade(v)) {
        vehicle(
            &mut out,
            vehicles[i],
            "trade_in",
            &format!("prospect/vehicle#{}", i + 1),
            opts,
        );
    }

    let comments = p
        .get("customer/comments")
        .map(|c| (c, "prospect/customer/comments"))
        .or_else(|| {
            p.get("vehicle/comments")
                .map(|c| (c, "prospect/vehicle/comments"))
        });
    if let Some((c, path)) = comments {
        out.text("comments", Some(c), path);
    }

    if let Some(raw) = p.get("requestdate") {
        match date_or_datetime(raw, opts.order) {
            Ok(v) => out.set("request_date", v, "prospect/requestdate"),
            Err(e) => out.invalid("request_date", &e),
        }
    }
    out.text("prospect_id", p.get("id"), "prospect/id");
    let vendor = p
        .get("vendor/vendorname")
        .map(|v| (v, "prospect/vendor/vendorname"))
        .or_else(|| {
            p.get("vendor/contact/name")
                .map(|v| (v, "prospect/vendor/contact/name"))
        });
    if let Some((v, path)) = vendor {
        out.text("vendor", Some(v), path);
    }
    let provider = p
        .get("provider/name")
        .map(|v| (v, "prospect/provider/name"))
        .or_else(|| {
            p.get("provider/service")
                .map(|v| (v, "prospect/provider/service"))
        });
    if let Some((v, path)) = provider {
        out.text("provider", Some(v), path);
    }

    // Required fields.
    let mut ex = out.ex;
    if !ex.fields.contains_key("name") {
        ex.completeness = Completeness::Partial;
        ex.errors.push(Issue::for_field(
            IssueCode::MissingRequired,
            "name",
            "required field `name` (prospect/customer/contact/name) is missing or invalid",
        ));
    }
    if !ex.fields.contains_key("email") && !ex.fields.contains_key("phone") {
        ex.completeness = Completeness::Partial;
        ex.errors.push(Issue::for_field(
            IssueCode::MissingRequired,
            "email",
            "neither `email` nor `phone` (prospect/customer/contact) is present and valid",
        ));
    }
    ex.sensitive = SENSITIVE
        .iter()
        .filter(|f| ex.fields.contains_key(**f))
        .map(|f| (*f).to_owned())
        .collect();
    ex
}

/// Adds `{prefix}_year`, `{prefix}_make`, ... for one `<vehicle>`.
fn vehicle(out: &mut Out, v: &AdfNode, prefix: &str, path: &str, opts: &Options) {
    if let Some(y) = v.get("year") {
        match FieldType::Int.normalize(y) {
            Ok(FieldValue::Int(n)) if (1886..=2100).contains(&n) => out.set(
                &format!("{prefix}_year"),
                FieldValue::Int(n),
                &format!("{path}/year"),
            ),
            Ok(_) => out.invalid(
                &format!("{prefix}_year"),
                &NormalizeError::Int {
                    reason: "not a plausible model year",
                },
            ),
            Err(e) => out.invalid(&format!("{prefix}_year"), &e),
        }
    }
    for key in ["make", "model", "vin"] {
        out.text(
            &format!("{prefix}_{key}"),
            v.get(key),
            &format!("{path}/{key}"),
        );
    }
    if prefix == "trade_in" {
        return;
    }
    for key in ["trim", "stock"] {
        out.text(
            &format!("{prefix}_{key}"),
            v.get(key),
            &format!("{path}/{key}"),
        );
    }
    out.text(
        &format!("{prefix}_status"),
        v.attr("status").map(str::to_ascii_lowercase).as_deref(),
        &format!("{path}/@status"),
    );
    out.text(
        &format!("{prefix}_interest"),
        v.attr("interest").map(str::to_ascii_lowercase).as_deref(),
        &format!("{path}/@interest"),
    );
    if let Some(price) = v.find("price")
        && !price.text.is_empty()
    {
        let currency = price.attr("currency").unwrap_or(&opts.currency);
        let money = FieldType::Money {
            currency: Some(currency.to_owned()),
            currency_from: None,
        };
        match money.normalize(&price.text) {
            Ok(m) => out.set(&format!("{prefix}_price"), m, &format!("{path}/price")),
            Err(e) => out.invalid(&format!("{prefix}_price"), &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run(raw: &str, settings: &BTreeMap<String, String>) -> Extraction {
        let email = Email::parse(raw.as_bytes()).expect("test email parses");
        let ctx = ExtractContext {
            route: "test",
            settings,
        };
        AdfExtractor::new().extract(&email, &ctx)
    }

    fn field(ex: &Extraction, name: &str) -> Option<String> {
        ex.fields.get(name).map(FieldValue::to_display_string)
    }

    const ADF: &str = r#"<?xml version="1.0"?>
<?adf version="1.0"?>
<adf><prospect status="new"><id sequence="1" source="Example Leads">EX-42</id>
<requestdate>2/9/2020 6:26PM</requestdate>
<vehicle interest="buy" status="USED"><year>2019</year><make>Chevrolet</make><model>Blazer</model><trim>LT</trim>
<vin>1GNKVGKD0KJ123456</vin><price type="quote" currency="USD">26,995</price></vehicle>
<vehicle interest="trade-in" status="used"><year>2005</year><make>Honda</make><model>Civic</model></vehicle>
<customer><contact><name part="first">Jane</name><name part="last">Doe</name>
<email>Jane.Doe@Example.com</email><phone type="fax">202-555-0199</phone><phone type="voice">(202) 555-0143</phone></contact>
<comments>Is it still available? Smith & Sons referred me.</comments></customer>
<vendor><vendorname>Example Motors</vendorname><contact><name part="full">Sales</name></contact></vendor>
<provider><name part="full">Example Leads</name></provider></prospect></adf>"#;

    fn with_attachment(xml: &str) -> String {
        format!(
            "From: leads@example.net\r\nTo: dealer@example.com\r\nSubject: New lead\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
             A new lead is attached.\r\n--b1\r\nContent-Type: application/xml; name=\"lead.xml\"\r\n\
             Content-Disposition: attachment; filename=\"lead.xml\"\r\n\r\n{xml}\r\n--b1--\r\n"
        )
    }

    #[test]
    fn attachment_lead() {
        let ex = run(&with_attachment(ADF), &BTreeMap::new());
        assert_eq!(ex.completeness, Completeness::Complete, "{:?}", ex.errors);
        for (k, v) in [
            ("name", "Jane Doe"),
            ("first_name", "Jane"),
            ("last_name", "Doe"),
            ("email", "jane.doe@example.com"),
            ("phone", "+12025550143"),
            ("vehicle_year", "2019"),
            ("vehicle_make", "Chevrolet"),
            ("vehicle_model", "Blazer"),
            ("vehicle_trim", "LT"),
            ("vehicle_vin", "1GNKVGKD0KJ123456"),
            ("vehicle_status", "used"),
            ("vehicle_interest", "buy"),
            ("vehicle_price", "26995.00 USD"),
            ("trade_in_year", "2005"),
            ("trade_in_make", "Honda"),
            (
                "comments",
                "Is it still available? Smith & Sons referred me.",
            ),
            ("request_date", "2020-02-09T18:26:00"),
            ("prospect_id", "EX-42"),
            ("vendor", "Example Motors"),
            ("provider", "Example Leads"),
        ] {
            assert_eq!(field(&ex, k).as_deref(), Some(v), "field {k}");
        }
        assert!(ex.sensitive.contains(&"email".to_owned()));
        assert_eq!(
            ex.provenance.get("email").map(String::as_str),
            Some("attachment 1: prospect/customer/contact/email")
        );
    }

    #[test]
    fn body_only_and_settings() {
        let raw = format!(
            "From: leads@example.net\r\nSubject: Lead\r\nContent-Type: text/plain\r\n\r\n{ADF}\r\n"
        );
        let mut settings = BTreeMap::new();
        settings.insert("date_order".to_owned(), "day_first".to_owned());
        let ex = run(&raw, &settings);
        assert_eq!(ex.completeness, Completeness::Complete, "{:?}", ex.errors);
        assert_eq!(
            field(&ex, "request_date").as_deref(),
            Some("2020-09-02T18:26:00")
        );
        assert!(ex.provenance["name"].starts_with("text body"));
    }

    #[test]
    fn partial_and_invalid() {
        let xml = "<adf><prospect><customer><contact><name>Jane Doe</name><email>not-an-address</email>\
                   <phone>12</phone></contact></customer><requestdate>someday</requestdate></prospect></adf>";
        let ex = run(&with_attachment(xml), &BTreeMap::new());
        assert_eq!(ex.completeness, Completeness::Partial);
        let codes: Vec<_> = ex
            .errors
            .iter()
            .map(|e| (e.code.as_str(), e.field.as_deref()))
            .collect();
        assert!(
            codes.contains(&("invalid_value", Some("email"))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("invalid_value", Some("phone"))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("invalid_value", Some("request_date"))),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("missing_required", Some("email"))),
            "{codes:?}"
        );
        for e in &ex.errors {
            assert!(
                !e.message.contains("not-an-address") && !e.message.contains("someday"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn no_adf() {
        let ex = run(
            "From: a@example.com\r\nSubject: hi\r\n\r\nJust text.\r\n",
            &BTreeMap::new(),
        );
        assert_eq!(ex.completeness, Completeness::Failed);
        assert_eq!(ex.errors[0].code, "adf_not_found");
    }
}
