//! Unit tests of the receiver-block walk and of the policy decision table.

use super::*;

const RECEIVED_SES: &str = "Received: from a11-24.smtp-out.amazonses.com (a11-24.smtp-out.amazonses.com [54.240.11.24])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc;\r\n Fri, 29 Sep 2017 14:41:40 +0000 (UTC)\r\n";

/// A mail whose top block is SES's, with `results` as its Authentication-Results and
/// `sender_headers` below it.
fn mail(results: &str, sender_headers: &str) -> Vec<u8> {
    format!(
        "Return-Path: <bounce@amazonses.com>\r\n{RECEIVED_SES}X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\nAuthentication-Results: {results}\r\n{sender_headers}\r\nbody\r\n"
    )
    .into_bytes()
}

fn block(raw: &[u8]) -> ReceiverBlock {
    AuthSettings::default().read_receiver_block(raw)
}

fn clean(address: &str) -> RoutedFrom<'_> {
    Ok(Some(address))
}

#[test]
fn reads_the_receivers_results() {
    let raw = mail(
        "amazonses.com;\r\n spf=pass (spfCheck: domain of amazonses.com designates 54.240.11.24 as permitted sender) client-ip=54.240.11.24; envelope-from=0100-x@amazonses.com; helo=a11-24.smtp-out.amazonses.com;\r\n dkim=pass header.i=@amazonses.com;\r\n dkim=pass header.i=@zillowrentals.com;",
        "From: Zillow <rentals@zillowrentals.com>\r\n",
    );
    let b = block(&raw);
    let v = &b.verdicts;
    assert_eq!(v.source, AuthSource::Header);
    assert_eq!(v.spf, Verdict::Pass);
    assert_eq!(v.spf_domain.as_deref(), Some("amazonses.com"));
    assert_eq!(v.dkim.len(), 2);
    assert!(b.warnings.is_empty());
    assert!(!b.virus);
    assert!(
        v.check(AuthPolicy::Dmarc, clean("rentals@zillowrentals.com"))
            .is_ok()
    );
    assert!(
        v.check(AuthPolicy::Dkim, clean("rentals@zillowrentals.com"))
            .is_ok()
    );
    assert!(
        v.check(AuthPolicy::Dmarc, clean("leads@bigportal.example"))
            .is_err()
    );
    // SPF passed for amazonses.com, which is not the From's organization.
    assert!(
        v.check(AuthPolicy::Spf, clean("rentals@zillowrentals.com"))
            .is_err()
    );
}

#[test]
fn forged_results_below_the_senders_received_are_ignored() {
    let raw = mail(
        "amazonses.com; spf=fail; dkim=fail header.i=@portal.example; dmarc=fail header.from=portal.example",
        "Received: from evil by mail.evil.example; Fri, 29 Sep 2017 14:40:00 +0000\r\nAuthentication-Results: amazonses.com; spf=pass; dkim=pass header.d=portal.example; dmarc=pass header.from=portal.example\r\n",
    );
    let b = block(&raw);
    assert_eq!(b.verdicts.dmarc, Verdict::Fail);
    assert!(
        b.verdicts
            .check(AuthPolicy::Dmarc, clean("a@portal.example"))
            .is_err()
    );
    assert_eq!(b.warnings.len(), 1);
    assert_eq!(b.warnings[0].code, "auth_results_ignored");
}

#[test]
fn results_without_a_trusted_received_are_not_trusted() {
    let raw = b"Authentication-Results: amazonses.com; dmarc=pass header.from=portal.example\r\nFrom: a@portal.example\r\n\r\n";
    let b = block(raw);
    assert_eq!(b.verdicts.source, AuthSource::None);
    let err = b
        .verdicts
        .check(AuthPolicy::Dmarc, clean("a@portal.example"))
        .unwrap_err();
    assert_eq!(err.code, "unauthenticated");
    assert!(
        err.message
            .contains("no `Received:` header of a trusted receiver"),
        "{err}"
    );
}

#[test]
fn a_second_trusted_header_in_the_block_is_ignored() {
    let raw = mail(
        "amazonses.com; dmarc=fail header.from=portal.example",
        "From: a@portal.example\r\nAuthentication-Results: amazonses.com; dmarc=pass header.from=portal.example\r\n",
    );
    let b = block(&raw);
    assert_eq!(b.verdicts.dmarc, Verdict::Fail);
    assert_eq!(b.warnings[0].code, "auth_results_ignored");
}

#[test]
fn untrusted_authserv_ids_are_skipped() {
    let raw = mail("mx.evil.example; dmarc=pass header.from=portal.example", "");
    assert_eq!(block(&raw).verdicts.source, AuthSource::None);
}

#[test]
fn an_unparsable_trusted_header_is_never_replaced() {
    // SES's own header broken by an unbalanced `(` (from the sender's HELO); a forged one in
    // the sender's headers right below must not take its place.
    let raw = mail(
        "amazonses.com;\r\n spf=pass (spfCheck: domain of evil.example( designates) client-ip=192.0.2.1; envelope-from=a@evil.example; helo=x;\r\n dmarc=fail header.from=portal.example;",
        "Authentication-Results: amazonses.com; dmarc=pass header.from=portal.example\r\nFrom: a@portal.example\r\n",
    );
    let b = block(&raw);
    assert_eq!(b.verdicts.source, AuthSource::None);
    assert!(b.warnings.iter().any(|w| w.code == "auth_results_invalid"));
    assert!(b.warnings.iter().any(|w| w.code == "auth_results_ignored"));
    let err = b
        .verdicts
        .check(AuthPolicy::Dmarc, clean("a@portal.example"))
        .unwrap_err();
    assert!(err.message.contains("does not parse"), "{err}");
    assert_eq!(b.verdicts.summary().dmarc, Verdict::Missing);
}

#[test]
fn a_latin1_byte_in_the_block_ends_trust() {
    // The sender's HELO, copied by SES into its Received line, carries a Latin-1 byte;
    // mail-parser would drop that line and let the forged block below count.
    let mut raw = b"Return-Path: <a@evil.example>\r\nReceived: from h\xe9lo.evil.example (x [192.0.2.1])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id q;\r\n Fri, 29 Sep 2017 14:41:40 +0000\r\n".to_vec();
    raw.extend_from_slice(
        b"Authentication-Results: amazonses.com; dmarc=fail header.from=portal.example\r\n",
    );
    raw.extend_from_slice(b"Received: from x by inbound-smtp.us-east-1.amazonaws.com; Fri, 29 Sep 2017 14:41:40 +0000\r\nAuthentication-Results: amazonses.com; dmarc=pass header.from=portal.example\r\nFrom: a@portal.example\r\n\r\n");
    let b = block(&raw);
    assert_eq!(b.verdicts.source, AuthSource::None);
    assert_eq!(b.warnings[0].code, "auth_block_malformed");
    assert!(b.warnings.iter().any(|w| w.code == "auth_results_ignored"));
}

#[test]
fn the_virus_verdict_counts_only_in_the_block() {
    let raw = format!("{RECEIVED_SES}X-SES-Virus-Verdict: FAIL\r\nFrom: a@portal.example\r\n\r\nx");
    assert!(block(raw.as_bytes()).virus);
    let raw = format!(
        "{RECEIVED_SES}X-SES-Virus-Verdict: PASS\r\nX-SES-Virus-Verdict: FAIL\r\nFrom: a@portal.example\r\n\r\nx"
    );
    assert!(!block(raw.as_bytes()).virus, "only the first counts");
    let raw = format!(
        "{RECEIVED_SES}X-SES-Virus-Verdict: PASS\r\nReceived: from x by mx.evil.example; Fri, 29 Sep 2017 14:41:40 +0000\r\nX-SES-Virus-Verdict: FAIL\r\n\r\nx"
    );
    assert!(!block(raw.as_bytes()).virus);
    let raw = "X-SES-Virus-Verdict: FAIL\r\nFrom: a@portal.example\r\n\r\nx";
    assert!(!block(raw.as_bytes()).virus, "not after a trusted Received");
}

#[test]
fn received_by_reads_the_by_host_past_comments() {
    assert_eq!(
        received_by(
            "from x (y [1.2.3.4])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id q; date"
        )
        .as_deref(),
        Some("inbound-smtp.us-east-1.amazonaws.com")
    );
    assert_eq!(
        received_by("from x (by evil.example) by mx.example; d").as_deref(),
        Some("mx.example")
    );
    assert_eq!(
        received_by("from x (unclosed by inbound-smtp.us-east-1.amazonaws.com; d"),
        None
    );
    assert_eq!(
        received_by("from x; by inbound-smtp.us-east-1.amazonaws.com"),
        None
    );
}

/// The `by` host mail-parser's own `Received:` parser reads (`MessageStream::parse_received`,
/// what `MessageParser::header_received` uses), lower-case.
fn mail_parser_by(value: &str) -> Option<String> {
    use mail_parser::parsers::MessageStream;
    use mail_parser::{HeaderValue, Host};
    match MessageStream::new(value.as_bytes()).parse_received() {
        HeaderValue::Received(received) => received.by.map(|host| match host {
            Host::Name(name) => name.to_ascii_lowercase(),
            Host::IpAddr(ip) => ip.to_string(),
        }),
        _ => None,
    }
}

/// Why `received_by` does not call mail-parser's `Received:` parser (see the module doc): on
/// real headers the two agree, but mail-parser finds a trusted `by` host where a
/// sender-written `Received:` must not keep the receiver's block open. If this test fails
/// because mail-parser became as strict, `received_by` can call it instead.
#[test]
fn mail_parser_reads_by_hosts_the_trust_model_refuses() {
    let ses = "inbound-smtp.us-east-1.amazonaws.com";
    for real in [
        "from a11-24.smtp-out.amazonses.com (a11-24.smtp-out.amazonses.com [54.240.11.24])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc;\r\n Fri, 29 Sep 2017 14:41:40 +0000 (UTC)",
        "from x (y [1.2.3.4])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id q; date",
        "from x (by evil.example) by inbound-smtp.us-east-1.amazonaws.com; d",
    ] {
        assert_eq!(received_by(real).as_deref(), Some(ses), "{real}");
        assert_eq!(mail_parser_by(real).as_deref(), Some(ses), "{real}");
    }
    // A `by` in the date part, after the `;`.
    let after_date = "from x; by inbound-smtp.us-east-1.amazonaws.com";
    assert_eq!(received_by(after_date), None);
    assert_eq!(mail_parser_by(after_date).as_deref(), Some(ses));
    // Two `by` clauses: mail-parser keeps the last one.
    let twice = "from x by evil.example by inbound-smtp.us-east-1.amazonaws.com; d";
    assert_eq!(received_by(twice).as_deref(), Some("evil.example"));
    assert_eq!(mail_parser_by(twice).as_deref(), Some(ses));
    // A comment closed that was never opened.
    let unbalanced = "from x) by inbound-smtp.us-east-1.amazonaws.com; d";
    assert_eq!(received_by(unbalanced), None);
    assert_eq!(mail_parser_by(unbalanced).as_deref(), Some(ses));
}

#[test]
fn alignment_uses_the_public_suffix_list() {
    assert!(aligned("mail.portal.example", "portal.example"));
    assert!(aligned("bounce.portal.co.uk", "leads.portal.co.uk"));
    assert!(aligned("Messaging.Yelp.com.", "yelp.com"));
    assert!(!aligned("portal.co.uk", "other.co.uk"));
    assert!(!aligned("amazonses.com", "zillowrentals.com"));
    // The private section counts: github.io hands out subdomains to strangers.
    assert!(!aligned("attacker.github.io", "victim.github.io"));
    assert!(aligned("mail.victim.github.io", "victim.github.io"));
    assert!(!aligned("a.s3.amazonaws.com", "b.s3.amazonaws.com"));
    assert!(!aligned("portal.com.au", "other.com.au"));
    assert_eq!(
        organizational_domain("a.b.victim.github.io").as_deref(),
        Some("victim.github.io")
    );
    assert_eq!(organizational_domain("github.io"), None);
    assert_eq!(organizational_domain("not a domain"), None);
    assert!(!aligned("", ""));
}

/// Header verdicts with a dmarc result (verdict and header.from), one DKIM result (verdict and
/// domain) and an SPF result (verdict and envelope domain).
fn header(
    dmarc: Option<(Verdict, Option<&str>)>,
    dkim: Option<(Verdict, &str)>,
    spf: Option<(Verdict, &str)>,
) -> AuthVerdicts {
    AuthVerdicts {
        source: AuthSource::Header,
        authserv_id: Some("amazonses.com".into()),
        spf: spf.map_or(Verdict::Missing, |s| s.0),
        spf_domain: spf.map(|s| s.1.to_owned()),
        dkim: dkim
            .map(|(verdict, domain)| DkimResult {
                verdict,
                domain: Some(domain.to_owned()),
            })
            .into_iter()
            .collect(),
        dmarc: dmarc.map_or(Verdict::Missing, |d| d.0),
        dmarc_domain: dmarc.and_then(|d| d.1.map(str::to_owned)),
        untrusted_reason: None,
    }
}

const FROM: &str = "inquiries@notify.harborhomes.example";
const PASS: Verdict = Verdict::Pass;
const FAIL: Verdict = Verdict::Fail;
const NONE: Verdict = Verdict::Missing;

#[test]
fn decision_table_dmarc_from_a_header() {
    let ok = |v: AuthVerdicts| v.check(AuthPolicy::Dmarc, clean(FROM)).is_ok();
    let own = Some("notify.harborhomes.example");
    assert!(ok(header(Some((PASS, own)), None, None)));
    // A pass for another domain never counts, nor one that names no domain.
    assert!(!ok(header(Some((PASS, Some("evil.example"))), None, None)));
    assert!(!ok(header(Some((PASS, None)), None, None)));
    assert!(!ok(header(
        Some((PASS, Some("evil.example"))),
        Some((PASS, "harborhomes.example")),
        None
    )));
    // An explicit fail for the From domain is final.
    assert!(!ok(header(
        Some((FAIL, own)),
        Some((PASS, "harborhomes.example")),
        None
    )));
    // No DMARC verdict, or none published: an aligned DKIM pass will do.
    assert!(ok(header(None, Some((PASS, "harborhomes.example")), None)));
    assert!(ok(header(
        Some((NONE, own)),
        Some((PASS, "mail.harborhomes.example")),
        None
    )));
    assert!(!ok(header(None, Some((PASS, "evil.example")), None)));
    assert!(!ok(header(None, Some((FAIL, "harborhomes.example")), None)));
    assert!(!ok(header(None, None, Some((PASS, "harborhomes.example")))));
}

#[test]
fn decision_table_dkim_and_spf_from_a_header() {
    let dkim = |v: AuthVerdicts| v.check(AuthPolicy::Dkim, clean(FROM)).is_ok();
    assert!(dkim(header(
        None,
        Some((PASS, "harborhomes.example")),
        None
    )));
    assert!(!dkim(header(None, Some((PASS, "attacker.example")), None)));
    assert!(!dkim(header(
        Some((PASS, Some("notify.harborhomes.example"))),
        None,
        None
    )));
    let spf = |v: AuthVerdicts| v.check(AuthPolicy::Spf, clean(FROM)).is_ok();
    assert!(spf(header(
        None,
        None,
        Some((PASS, "bounce.harborhomes.example"))
    )));
    assert!(!spf(header(None, None, Some((PASS, "evil.example")))));
    assert!(!spf(header(
        None,
        None,
        Some((FAIL, "harborhomes.example"))
    )));
    let mut no_domain = header(None, None, Some((PASS, "x")));
    no_domain.spf_domain = None;
    assert!(!spf(no_domain));
}

#[test]
fn decision_table_ses_receipt() {
    let from = clean(FROM);
    let receipt =
        |spf, dkim, dmarc, source| AuthVerdicts::from_ses_receipt(spf, dkim, dmarc, source);
    let bounce = Some("bounce@notify.harborhomes.example");
    assert!(
        receipt("PASS", "PASS", "PASS", bounce)
            .check(AuthPolicy::Dmarc, from)
            .is_ok()
    );
    // A DKIM pass (perhaps amazonses.com's own signature) does not stand in for DMARC.
    assert!(
        receipt("PASS", "PASS", "FAIL", bounce)
            .check(AuthPolicy::Dmarc, from)
            .is_err()
    );
    assert!(
        receipt("PASS", "PASS", "GRAY", bounce)
            .check(AuthPolicy::Dmarc, from)
            .is_err()
    );
    // ... nor does it satisfy `dkim`: it names no domain.
    let err = receipt("PASS", "PASS", "PASS", bounce)
        .check(AuthPolicy::Dkim, from)
        .unwrap_err();
    assert!(err.message.contains("names no signing domain"), "{err}");
    assert!(
        receipt("PASS", "FAIL", "GRAY", bounce)
            .check(AuthPolicy::Spf, from)
            .is_ok()
    );
    assert!(
        receipt("PASS", "FAIL", "GRAY", Some("x@evil.example"))
            .check(AuthPolicy::Spf, from)
            .is_err()
    );
    assert!(
        receipt("PASS", "FAIL", "GRAY", None)
            .check(AuthPolicy::Spf, from)
            .is_err()
    );
    assert!(
        receipt("FAIL", "FAIL", "GRAY", bounce)
            .check(AuthPolicy::Spf, from)
            .is_err()
    );
}

#[test]
fn decision_table_from_problems_and_policy_none() {
    let all_pass = AuthVerdicts::from_ses_receipt("PASS", "PASS", "PASS", Some(FROM));
    for problem in [
        FromProblem::SeveralFields(2),
        FromProblem::NotOneMailbox,
        FromProblem::Malformed,
        FromProblem::Disagrees,
    ] {
        for policy in [AuthPolicy::Dmarc, AuthPolicy::Dkim, AuthPolicy::Spf] {
            let err = all_pass.check(policy, Err(problem)).unwrap_err();
            assert_eq!(err.code, "ambiguous_from", "{policy:?} {problem:?}");
        }
        assert!(all_pass.check(AuthPolicy::None, Err(problem)).is_ok());
    }
    let err = all_pass.check(AuthPolicy::Dmarc, Ok(None)).unwrap_err();
    assert_eq!(err.code, "unauthenticated");
    assert!(
        AuthVerdicts::none()
            .check(AuthPolicy::None, Ok(None))
            .is_ok()
    );
}

#[test]
fn real_ses_headers_decide_as_expected() {
    let results = |text: &str| AuthVerdicts::from_results(&results::parse(text).unwrap());
    // tests/fixtures/leads/yelp-white.eml: DKIM by yelp.com and by a relay, DMARC pass.
    let v = results(
        " amazonses.com;\r\n spf=fail (spfCheck: domain of em.yelp.com does not designate 40.107.73.69 as permitted sender) client-ip=40.107.73.69; envelope-from=bounces+6746021-b8b3-yelp=parkmerced.com@em.yelp.com; helo=mail-eopbgr730069.outbound.protection.outlook.com;\r\n dkim=pass header.i=@maximusrepartners.onmicrosoft.com;\r\n dkim=pass header.i=@yelp.com;\r\n dmarc=pass header.from=messaging.yelp.com;",
    );
    let from = clean("reply+ce3f@messaging.yelp.com");
    assert!(v.check(AuthPolicy::Dmarc, from).is_ok());
    assert!(v.check(AuthPolicy::Dkim, from).is_ok());
    assert!(v.check(AuthPolicy::Spf, from).is_err(), "spf=fail");
    assert_eq!(
        v.summary().dkim_domains,
        ["maximusrepartners.onmicrosoft.com", "yelp.com"]
    );
}

#[test]
fn dmarc_none_is_shown_as_none_not_missing() {
    let raw = mail(
        "amazonses.com; spf=none; dkim=none; dmarc=none header.from=portal.example",
        "From: a@portal.example\r\n",
    );
    let summary = block(&raw).verdicts.summary();
    assert_eq!(
        (summary.spf, summary.dkim, summary.dmarc),
        (Verdict::None, Verdict::None, Verdict::None)
    );
    assert_eq!(
        serde_json::to_value(summary.dmarc).unwrap(),
        serde_json::json!("none")
    );
    // `none` is never a pass, and the failure says what the receiver found.
    let err = block(&raw)
        .verdicts
        .check(AuthPolicy::Dmarc, clean("a@portal.example"))
        .unwrap_err();
    assert!(err.message.contains("dmarc=none"), "{err}");
    // A method absent from the results is still `missing`.
    let raw = mail("amazonses.com; spf=pass smtp.mailfrom=portal.example", "");
    assert_eq!(block(&raw).verdicts.summary().dmarc, Verdict::Missing);
}

#[test]
fn results_without_a_receivers_received_above_say_what_is_missing() {
    // A mail saved from a client: SES's results are the topmost header, with no `Received:`
    // of a trusted receiver above them.
    let raw = b"Authentication-Results: amazonses.com; dmarc=pass header.from=portal.example\r\nFrom: a@portal.example\r\n\r\nbody\r\n";
    let b = block(raw);
    assert_eq!(b.verdicts.source, AuthSource::None);
    assert_eq!(b.warnings.len(), 1);
    assert_eq!(b.warnings[0].code, "auth_results_ignored");
    assert!(
        b.warnings[0]
            .message
            .contains("no `Received:` header of a trusted receiver"),
        "{}",
        b.warnings[0].message
    );
    assert!(
        !b.warnings[0]
            .message
            .contains("outside the receiver's header block")
    );
    let err = b
        .verdicts
        .check(AuthPolicy::Dmarc, clean("a@portal.example"))
        .unwrap_err();
    assert!(err.message.contains("trusted_receivers"), "{err}");
}
