//! Parser behaviour: the tree of a valid file, and no panic on any truncation of one.

use mailex_grammar::ast::{CondOp, Head, LiteralValue, Presence};
use mailex_grammar::{RuleFile, parse};

const SAMPLE: &str = r#"version 1

profile "rentals" priority 10 {
  match {
    subject contains "New Rental Contact" or from.address ends_with "@rentals.example"
    not header("X-Test") exists
  }
  field name: person_name required =
        meta("lead_name") ?? css("td.name").text ?? text.after("Name:").line
  field phone: phone(region: "US") optional = text.regex(r"Phone:\s*(?P<v>[\d() -]+)") | trim
  sensitive name, phone
}

test "january" {
  input "fixtures/a.eml"
  expect { name = "Jane \"JD\" Doe\n"  phone = none }
}
"#;

#[test]
fn a_valid_file_lowers_to_the_expected_tree() {
    let parsed = parse(SAMPLE);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let file = parsed.file;
    assert_eq!(file.version.as_ref().map(|v| v.node), Some(1));
    let p = &file.profiles[0];
    assert_eq!(p.name.node, "rentals");
    assert_eq!(p.priority.as_ref().map(|p| p.node), Some(10));
    assert_eq!(p.conditions.len(), 2);
    assert_eq!(p.conditions[0].any.len(), 2);
    assert_eq!(p.conditions[0].any[1].op.node, CondOp::EndsWith);
    assert!(p.conditions[1].any[0].negated);
    assert_eq!(p.conditions[1].any[0].op.node, CondOp::Exists);
    let name = &p.fields[0];
    assert_eq!(
        name.presence.as_ref().map(|p| p.node),
        Some(Presence::Required)
    );
    assert_eq!(name.value.alternatives.len(), 3);
    let Head::Call(head) = &name.value.alternatives[2].head else {
        panic!("call head")
    };
    assert_eq!(head.name.node, "text");
    assert_eq!(name.value.alternatives[2].steps.len(), 2);
    let phone = &p.fields[1];
    assert_eq!(
        phone.ty.args[0].name.as_ref().map(|n| n.node.as_str()),
        Some("region")
    );
    let steps = &phone.value.alternatives[0].steps;
    assert!(steps[1].piped && !steps[0].piped);
    assert_eq!(
        steps[0].args[0].value.value,
        LiteralValue::Str(r"Phone:\s*(?P<v>[\d() -]+)".into())
    );
    assert_eq!(p.sensitive.len(), 2);
    let t = &file.tests[0];
    assert_eq!(t.inputs[0].node, "fixtures/a.eml");
    assert_eq!(
        t.expects[0].value.as_ref().map(|v| v.node.as_str()),
        Some("Jane \"JD\" Doe\n")
    );
    assert!(t.expects[1].value.is_none());
    // Spans point at the source.
    assert_eq!(&SAMPLE[p.name.span.start..p.name.span.end], "\"rentals\"");
}

#[test]
fn every_truncation_parses_without_panicking() {
    for end in (0..=SAMPLE.len()).filter(|&i| SAMPLE.is_char_boundary(i)) {
        let parsed = parse(&SAMPLE[..end]);
        for d in &parsed.diagnostics {
            if let Some(span) = d.primary_span() {
                assert!(span.start <= end + 1, "span past the end at {end}: {d:?}");
            }
        }
    }
}

#[test]
fn garbage_is_reported_not_fatal() {
    for src in [
        "}",
        "{{{{",
        "profile",
        "\"",
        "version",
        "test \"x\" {",
        "\u{0}\u{feff}ü",
        "r\"",
        "#",
    ] {
        let parsed = parse(src);
        assert!(
            src == "#" || !parsed.diagnostics.is_empty(),
            "{src:?} gave no diagnostic"
        );
    }
    assert!(SAMPLE.parse::<RuleFile>().is_ok());
    assert!("version 1\nprofile {".parse::<RuleFile>().is_err());
}
