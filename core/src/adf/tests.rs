//! Unit tests of the ADF parser.

use super::*;

const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
  <prospect status="new">
<id sequence="1" source="Portal">LD-1001</id>
<requestdate>2000-03-30T15:30:20-08:00</requestdate>
<vehicle interest="buy" status="used">
  <year>1999</year><make>Chevrolet</make><model>Blazer</model><trim>LT</trim>
  <vin>2GTEK19R7V1511644</vin>
  <price type="quote" currency="USD">26995</price>
</vehicle>
<vehicle interest="trade-in" status="used"><year>2005</year><make>Honda</make><model>Civic</model></vehicle>
<customer>
  <contact>
    <name part="first">Jane</name>
    <name part="last">Doe</name>
    <email>jane@example.com</email>
    <phone type="voice" time="morning">202-555-0143</phone>
    <phone type="fax">202-555-0199</phone>
  </contact>
  <comments><![CDATA[Keyless entry <essential>]]></comments>
</customer>
<vendor><vendorname>Example Motors</vendorname><contact><name part="full">Sales Desk</name></contact></vendor>
<provider><name part="full">Example Leads</name><service>Used Car Classifieds</service></provider>
  </prospect>
</adf>"#;

#[test]
fn well_formed() {
    let doc = AdfDocument::parse(SAMPLE).unwrap();
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    assert_eq!(
        doc.get("prospect/requestdate"),
        Some("2000-03-30T15:30:20-08:00")
    );
    assert_eq!(doc.get("adf/prospect/vehicle/make"), Some("Chevrolet"));
    assert_eq!(
        doc.get("prospect/vehicle[interest=trade-in]/make"),
        Some("Honda")
    );
    assert_eq!(
        doc.get("prospect/vehicle[interest=\"buy\"][status=used]/vin"),
        Some("2GTEK19R7V1511644")
    );
    assert_eq!(
        doc.get("prospect/customer/contact/name[part=first]"),
        Some("Jane")
    );
    assert_eq!(
        doc.get("prospect/customer/contact/phone[type=fax]"),
        Some("202-555-0199")
    );
    assert_eq!(
        doc.get("prospect/customer/comments"),
        Some("Keyless entry <essential>")
    );
    assert_eq!(doc.get("prospect/customer/contact/name[part=full]"), None);
    assert_eq!(doc.get("prospect/provider/name"), Some("Example Leads"));
    assert_eq!(doc.find_all("prospect/vehicle").len(), 2);
    assert_eq!(doc.find_all("prospect/*/contact").len(), 2);
    assert_eq!(
        doc.find("prospect/vehicle").and_then(|v| v.attr("STATUS")),
        Some("used")
    );
    assert_eq!(
        doc.find("prospect/id").and_then(|v| v.attr("source")),
        Some("Portal")
    );
    assert_eq!(doc.get("prospect/nothing/here"), None);
    assert_eq!(doc.get("prospect/vehicle[interest"), None);
    assert_eq!(doc.get("prospect//make"), None);
    assert_eq!(doc.root.name, "adf");
}

#[test]
fn index_and_attribute_steps() {
    let doc = AdfDocument::parse(SAMPLE).unwrap();
    assert_eq!(doc.get("prospect/vehicle#2/make"), Some("Honda"));
    assert_eq!(doc.get("prospect/vehicle[2]/make"), Some("Honda"));
    assert_eq!(doc.get("prospect/vehicle#3/make"), None);
    assert_eq!(doc.get("prospect/vehicle#1/@interest"), Some("buy"));
    assert_eq!(
        doc.values("prospect/vehicle/@interest"),
        vec!["buy", "trade-in"]
    );
    assert_eq!(
        doc.values("prospect/customer/contact/phone/@time"),
        vec!["morning"]
    );
    assert_eq!(
        doc.find_all("prospect/customer/contact/phone/@time").len(),
        1
    );
    assert_eq!(
        doc.get("prospect/vehicle[@interest=trade-in]/year"),
        Some("2005")
    );
    assert_eq!(doc.get("prospect/@status"), Some("new"));
    for bad in [
        "prospect/vehicle#0/make",
        "prospect/vehicle#x",
        "prospect/@",
        "prospect/@a/b",
        "prospect/",
        "a]",
    ] {
        assert!(AdfDocument::check_path(bad).is_err(), "{bad}");
        assert!(doc.values(bad).is_empty(), "{bad}");
    }
    assert!(AdfDocument::check_path("adf/prospect/vehicle[interest=buy]#1/@status").is_ok());
    assert!(AdfDocument::check_path("").is_ok());
}

#[test]
fn finds_adf_in_emails() {
    let cases = [
        (
            "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --b\r\nContent-Type: application/octet-stream; name=lead.xml\r\nContent-Disposition: attachment; filename=lead.xml\r\n\r\n\
             <adf><prospect><customer><contact><name>A B</name></contact></customer></prospect></adf>\r\n--b--\r\n",
            "attachment 1",
        ),
        (
            "From: a@example.net\r\nContent-Type: text/html\r\n\r\n<html><body><pre>&lt;adf&gt;&lt;prospect&gt;&lt;customer&gt;&lt;contact&gt;&lt;name&gt;A B&lt;/name&gt;&lt;/contact&gt;&lt;/customer&gt;&lt;/prospect&gt;&lt;/adf&gt;</pre></body></html>\r\n",
            "html body",
        ),
        (
            "From: a@example.net\r\nContent-Type: text/plain\r\n\r\n<adf><prospect><customer><contact><name>A B</name></contact></customer></prospect></adf>\r\n",
            "text body",
        ),
        (
            "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFwd\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@example.com\r\nContent-Type: text/plain\r\n\r\n\
             <adf><prospect><customer><contact><name>A B</name></contact></customer></prospect></adf>\r\n--b--\r\n",
            "forwarded message: text body",
        ),
    ];
    for (raw, want) in cases {
        let email = Email::parse(raw.as_bytes()).unwrap();
        let (doc, origin) = find_in_email(&email).unwrap_or_else(|| panic!("no ADF for {want}"));
        assert_eq!(origin.to_string(), want);
        assert_eq!(doc.get("prospect/customer/contact/name"), Some("A B"));
    }
    let email = Email::parse(b"From: a@example.net\r\n\r\nNothing here\r\n").unwrap();
    assert!(find_in_email(&email).is_none());
}

#[test]
fn missing_declaration_and_garbage() {
    let input = "Subject: lead\r\n\r\nPlease see below.\n<ADF><Prospect><customer><contact><name>Jane Doe</name></contact></customer></Prospect></ADF>\ntrailing -- sig";
    let doc = AdfDocument::parse(input).unwrap();
    assert_eq!(doc.get("prospect/customer/contact/name"), Some("Jane Doe"));
    assert_eq!(
        doc.warnings
            .iter()
            .map(|w| w.code.as_str())
            .collect::<Vec<_>>(),
        vec!["adf_leading_garbage"]
    );
}

#[test]
fn unescaped_ampersand_and_entities() {
    let doc = AdfDocument::parse(
        "<adf><prospect><vendor><vendorname>Smith & Sons Auto</vendorname>\
         <url>https://example.com/?a=1&b=2</url></vendor>\
         <customer><comments>Caf&eacute; &amp; more &#233; &bogus; AT&T</comments></customer></prospect></adf>",
    )
    .unwrap();
    assert_eq!(
        doc.get("prospect/vendor/vendorname"),
        Some("Smith & Sons Auto")
    );
    assert_eq!(
        doc.get("prospect/vendor/url"),
        Some("https://example.com/?a=1&b=2")
    );
    assert_eq!(
        doc.get("prospect/customer/comments"),
        Some("Café & more é &bogus; AT&T")
    );
}

#[test]
fn html_wrapped() {
    let input = "<html><body><pre>&lt;?xml version=\"1.0\"?&gt;\n&lt;adf&gt;&lt;prospect&gt;\
                 &lt;customer&gt;&lt;contact&gt;&lt;name part=&quot;full&quot;&gt;Jane Doe&lt;/name&gt;<br>\
                 &lt;email&gt;jane@example.com&lt;/email&gt;&lt;/contact&gt;&lt;/customer&gt;\
                 &lt;/prospect&gt;&lt;/adf&gt;</pre></body></html>";
    let doc = AdfDocument::parse(input).unwrap();
    assert_eq!(
        doc.get("prospect/customer/contact/name[part=full]"),
        Some("Jane Doe")
    );
    assert_eq!(
        doc.get("prospect/customer/contact/email"),
        Some("jane@example.com")
    );
    assert_eq!(doc.warnings[0].code, "adf_entity_escaped");

    let input = "<html><body><p>New lead</p><pre><adf><prospect><customer><contact>\
                 <name part='full'>Jane <b>Doe</b></name><br>\
                 <phone>202-555-0143</phone></contact></customer></prospect></adf></pre></body></html>";
    let doc = AdfDocument::parse(input).unwrap();
    assert_eq!(doc.get("prospect/customer/contact/name"), Some("Jane Doe"));
    assert_eq!(
        doc.get("prospect/customer/contact/phone"),
        Some("202-555-0143")
    );
    assert_eq!(doc.warnings[0].code, "adf_html_wrapped");
}

#[test]
fn broken_structure() {
    // No <adf> root, an unclosed element, a stray end tag, no end at all.
    let doc = AdfDocument::parse(
        "<prospect><customer><contact><name>Jane Doe</name><email>jane@example.com</contact></oops>\
         <comments>hi",
    )
    .unwrap();
    assert_eq!(doc.root.name, "adf");
    assert_eq!(
        doc.get("prospect/customer/contact/email"),
        Some("jane@example.com")
    );
    assert_eq!(doc.get("prospect/customer/comments"), Some("hi"));
    let codes: Vec<_> = doc.warnings.iter().map(|w| w.code.as_str()).collect();
    assert!(codes.contains(&"adf_no_adf_root"), "{codes:?}");
    assert!(codes.contains(&"adf_unclosed_element"), "{codes:?}");
    assert!(codes.contains(&"adf_mismatched_end"), "{codes:?}");
}

#[test]
fn latin1_bytes() {
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><adf><prospect><customer><contact><name>Jos".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" M\xFCller</name></contact></customer></prospect></adf>");
    let doc = AdfDocument::parse_bytes(&bytes).unwrap();
    assert_eq!(
        doc.get("prospect/customer/contact/name"),
        Some("José Müller")
    );
    assert_eq!(doc.warnings[0].code, "adf_latin1");
}

#[test]
fn not_adf() {
    assert_eq!(AdfDocument::parse("hello"), Err(AdfError::NotFound));
    assert_eq!(
        AdfDocument::parse("<adfx>no</adfx>"),
        Err(AdfError::NotFound)
    );
    assert_eq!(AdfDocument::parse(""), Err(AdfError::NotFound));
    assert!(!AdfDocument::sniff("<html><body>Hi</body></html>"));
    assert!(AdfDocument::sniff("x &lt;adf&gt;"));
}

#[test]
fn warnings_do_not_echo_content() {
    let doc = AdfDocument::parse("secret text <adf><prospect><customer>Jane</x></adf>").unwrap();
    for w in &doc.warnings {
        assert!(
            !w.message.contains("secret") && !w.message.contains("Jane"),
            "{w:?}"
        );
    }
}

#[test]
fn hostile_input() {
    let deep =
        "<adf>".to_string() + &"<x>".repeat(100_000) + "deep" + &"</x>".repeat(100_000) + "</adf>";
    let doc = AdfDocument::parse(&deep).unwrap();
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.code == "adf_too_deep" || w.code == "adf_too_many_elements")
    );
    let wide = "<adf>".to_string() + &"<p2/>".repeat(100_000) + "</adf>";
    let doc = AdfDocument::parse(&wide).unwrap();
    assert!(doc.root.children.len() <= MAX_ELEMENTS);
    assert_eq!(
        AdfDocument::parse(&"x".repeat(MAX_INPUT + 1)),
        Err(AdfError::TooLarge)
    );
    for junk in [
        "<adf",
        "<adf><",
        "<adf><prospect a=\"",
        "<adf>\u{FFFD}<![CDATA[",
        "<adf><!--",
        "<adf></adf></adf></adf>",
        "<adf>&#xFFFFFFFF;&#0;&",
    ] {
        let _ = AdfDocument::parse(junk);
    }
    // Long paths and many filters are harmless.
    let doc = AdfDocument::parse(SAMPLE).unwrap();
    assert_eq!(doc.get(&"a/".repeat(10_000)), None);
    assert_eq!(doc.get(&format!("prospect{}", "[x=y]".repeat(1000))), None);
}
