//! Sender authentication: which verdicts to trust, and whether a route's policy is met.
//!
//! Anyone can write `From: leads@bigportal.example`. What makes a sender credible is the
//! verdict of the receiving server (SES), which it records in an `Authentication-Results`
//! header at the top of the message. Only the top header block, the one the trusted receiver
//! added, is trustworthy: everything below the first `Received:` header that the trusted
//! receiver did not add came from the sender and may carry a forged
//! `Authentication-Results: amazonses.com`. So:
//!
//! 1. walk the headers top to bottom; a `Received:` whose `by` host is a trusted receiver keeps
//!    the block open, any other `Received:` ends it;
//! 2. the first `Authentication-Results` in the block whose authserv-id is trusted, and that
//!    follows a trusted `Received:`, is the one used; any further trusted-looking one is ignored
//!    (with a warning).
//!
//! A Lambda event from an SES receipt rule carries the verdicts itself; the host passes them
//! as [`AuthVerdicts`] and headers are not consulted.

use serde::{Deserialize, Serialize};

use crate::record::{AuthSummary, Issue, Verdict};

/// Which authentication a route requires before its extractor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPolicy {
    /// DMARC pass, or a DKIM pass whose domain is aligned with the From domain (the default).
    #[default]
    Dmarc,
    /// A DKIM pass whose domain is aligned with the From domain.
    Dkim,
    /// SPF pass (of the envelope sender; the weakest policy).
    Spf,
    /// No authentication required (trusted internal sources and tests only).
    None,
}

impl AuthPolicy {
    /// The policy's name as written in `mailex.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthPolicy::Dmarc => "dmarc",
            AuthPolicy::Dkim => "dkim",
            AuthPolicy::Spf => "spf",
            AuthPolicy::None => "none",
        }
    }
}

/// Where verdicts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSource {
    /// A trusted `Authentication-Results` header in the top header block.
    Header,
    /// The receipt of an SES Lambda event.
    SesReceipt,
    /// No trusted verdicts were found.
    None,
}

/// One DKIM result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimResult {
    /// The verdict.
    pub verdict: Verdict,
    /// The signing domain (`header.d`, or the domain of `header.i`), lower-case.
    pub domain: Option<String>,
}

/// The authentication verdicts for one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVerdicts {
    /// Where they came from.
    pub source: AuthSource,
    /// The authserv-id of the header they came from.
    pub authserv_id: Option<String>,
    /// SPF verdict.
    pub spf: Verdict,
    /// Every DKIM result.
    pub dkim: Vec<DkimResult>,
    /// DMARC verdict.
    pub dmarc: Verdict,
}

impl AuthVerdicts {
    /// No trusted verdicts at all.
    pub fn none() -> Self {
        AuthVerdicts {
            source: AuthSource::None,
            authserv_id: None,
            spf: Verdict::Missing,
            dkim: Vec::new(),
            dmarc: Verdict::Missing,
        }
    }

    /// Verdicts from an SES receipt (spf, dkim, dmarc status strings such as `PASS`, `FAIL`,
    /// `GRAY`, `PROCESSING_FAILED`). SES gives one DKIM verdict without a domain; it is taken
    /// as aligned, since SES reports the DKIM verdict of the From domain.
    pub fn from_ses_receipt(spf: &str, dkim: &str, dmarc: &str) -> Self {
        AuthVerdicts {
            source: AuthSource::SesReceipt,
            authserv_id: Some("amazonses.com".to_owned()),
            spf: verdict_from_str(spf),
            dkim: vec![DkimResult {
                verdict: verdict_from_str(dkim),
                domain: None,
            }],
            dmarc: verdict_from_str(dmarc),
        }
    }

    fn best_dkim(&self) -> Verdict {
        if self.dkim.iter().any(|d| d.verdict == Verdict::Pass) {
            Verdict::Pass
        } else if self.dkim.iter().any(|d| d.verdict == Verdict::Fail) {
            Verdict::Fail
        } else if self.dkim.is_empty() {
            Verdict::Missing
        } else {
            Verdict::Other
        }
    }

    /// Whether a DKIM signature passed for a domain aligned (relaxed) with `from_domain`.
    pub fn aligned_dkim_pass(&self, from_domain: Option<&str>) -> bool {
        self.dkim.iter().any(|d| {
            d.verdict == Verdict::Pass
                && match (&d.domain, from_domain) {
                    // SES receipts carry no domain: their DKIM verdict is for the From domain.
                    (None, _) => self.source == AuthSource::SesReceipt,
                    (Some(signer), Some(from)) => aligned(signer, from),
                    (Some(_), None) => false,
                }
        })
    }

    /// Checks `policy` against these verdicts. `Err` explains what was missing, without
    /// naming any address.
    pub fn check(&self, policy: AuthPolicy, from_domain: Option<&str>) -> Result<(), String> {
        let ok = match policy {
            AuthPolicy::None => true,
            AuthPolicy::Spf => self.spf == Verdict::Pass,
            AuthPolicy::Dkim => self.aligned_dkim_pass(from_domain),
            AuthPolicy::Dmarc => self.dmarc == Verdict::Pass || self.aligned_dkim_pass(from_domain),
        };
        if ok {
            return Ok(());
        }
        let why = match (policy, self.source) {
            (_, AuthSource::None) => {
                "no trusted Authentication-Results in the receiver's header block".to_owned()
            }
            (AuthPolicy::Spf, _) => format!("spf={}", verdict_name(self.spf)),
            (AuthPolicy::Dkim, _) => format!(
                "no DKIM pass aligned with the From domain (dkim={})",
                verdict_name(self.best_dkim())
            ),
            _ => format!(
                "dmarc={} and no DKIM pass aligned with the From domain (dkim={})",
                verdict_name(self.dmarc),
                verdict_name(self.best_dkim())
            ),
        };
        Err(format!("requires {}: {why}", policy.as_str()))
    }

    /// The summary written into the record.
    pub fn summary(&self) -> AuthSummary {
        AuthSummary {
            source: match self.source {
                AuthSource::Header => "header",
                AuthSource::SesReceipt => "ses_receipt",
                AuthSource::None => "none",
            }
            .to_owned(),
            authserv_id: self.authserv_id.clone(),
            spf: self.spf,
            dkim: self.best_dkim(),
            dkim_domains: self
                .dkim
                .iter()
                .filter(|d| d.verdict == Verdict::Pass)
                .filter_map(|d| d.domain.clone())
                .collect(),
            dmarc: self.dmarc,
            policy: None,
            passed: None,
        }
    }
}

/// Which receivers and authserv-ids are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// authserv-ids whose `Authentication-Results` are believed (default `["amazonses.com"]`).
    #[serde(default = "default_authserv_ids")]
    pub trusted_authserv_ids: Vec<String>,
    /// Host suffixes of the receiving servers whose `Received:` headers open the trusted block
    /// (default `["amazonaws.com"]`, which covers `inbound-smtp.REGION.amazonaws.com`).
    #[serde(default = "default_receivers")]
    pub trusted_receivers: Vec<String>,
}

fn default_authserv_ids() -> Vec<String> {
    vec!["amazonses.com".to_owned()]
}

fn default_receivers() -> Vec<String> {
    vec!["amazonaws.com".to_owned()]
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            trusted_authserv_ids: default_authserv_ids(),
            trusted_receivers: default_receivers(),
        }
    }
}

impl AuthSettings {
    fn trusts_receiver(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.trusted_receivers
            .iter()
            .any(|suffix| domain_within(&host, &suffix.to_ascii_lowercase()))
    }

    fn trusts_authserv(&self, id: &str) -> bool {
        self.trusted_authserv_ids
            .iter()
            .any(|t| t.eq_ignore_ascii_case(id))
    }

    /// Reads the trusted verdicts from the top header block (see the module docs). Warnings
    /// report ignored, lower `Authentication-Results` headers.
    pub fn verdicts_from_headers(&self, headers: &[(&str, &str)]) -> (AuthVerdicts, Vec<Issue>) {
        let mut trusted_received = false;
        let mut found: Option<AuthVerdicts> = None;
        let mut ignored = 0usize;
        for (index, (name, value)) in headers.iter().enumerate() {
            if name.eq_ignore_ascii_case("Received") {
                match received_by(value) {
                    Some(host) if self.trusts_receiver(&host) => trusted_received = true,
                    _ => {
                        // The sender's own headers start here; count forged-looking results below.
                        ignored += headers[index..]
                            .iter()
                            .filter(|(n, v)| {
                                n.eq_ignore_ascii_case("Authentication-Results")
                                    && self.parse_trusted(v).is_some()
                            })
                            .count();
                        break;
                    }
                }
            } else if name.eq_ignore_ascii_case("Authentication-Results")
                && let Some(verdicts) = self.parse_trusted(value)
            {
                if found.is_none() && trusted_received {
                    found = Some(verdicts);
                } else {
                    ignored += 1;
                }
            }
        }
        let mut warnings = Vec::new();
        if ignored > 0 {
            warnings.push(Issue::new(
                "auth_results_ignored",
                format!("ignored {ignored} Authentication-Results header(s) with a trusted authserv-id outside the receiver's header block"),
            ));
        }
        (found.unwrap_or_else(AuthVerdicts::none), warnings)
    }

    fn parse_trusted(&self, value: &str) -> Option<AuthVerdicts> {
        let parsed = parse_authentication_results(value)?;
        self.trusts_authserv(parsed.authserv_id.as_deref()?)
            .then_some(parsed)
    }
}

/// Parses one `Authentication-Results` value (RFC 8601): authserv-id, then `method=result`
/// entries with properties. Comments are dropped. Returns `None` when there is no authserv-id.
pub fn parse_authentication_results(value: &str) -> Option<AuthVerdicts> {
    let cleaned = strip_comments(value);
    let mut parts = cleaned.split(';');
    let authserv_id = parts
        .next()?
        .split_whitespace()
        .next()?
        .to_ascii_lowercase();
    let mut verdicts = AuthVerdicts {
        source: AuthSource::Header,
        authserv_id: Some(authserv_id),
        ..AuthVerdicts::none()
    };
    for resinfo in parts {
        let mut tokens = resinfo.split_whitespace();
        let Some((method, result)) = tokens.next().and_then(|t| t.split_once('=')) else {
            continue;
        };
        let verdict = verdict_from_str(result);
        match method.to_ascii_lowercase().as_str() {
            "spf" => verdicts.spf = stronger(verdicts.spf, verdict),
            "dmarc" => verdicts.dmarc = stronger(verdicts.dmarc, verdict),
            "dkim" => {
                let mut domain = None;
                for prop in tokens {
                    if let Some((key, val)) = prop.split_once('=') {
                        let key = key.to_ascii_lowercase();
                        if key == "header.d" {
                            domain = Some(val.trim_matches('"').to_ascii_lowercase());
                        } else if key == "header.i" && domain.is_none() {
                            domain = val
                                .rsplit_once('@')
                                .map(|(_, d)| d.trim_matches('"').to_ascii_lowercase());
                        }
                    }
                }
                verdicts.dkim.push(DkimResult { verdict, domain });
            }
            _ => {}
        }
    }
    Some(verdicts)
}

fn stronger(current: Verdict, new: Verdict) -> Verdict {
    if current == Verdict::Missing {
        new
    } else {
        current
    }
}

fn verdict_from_str(s: &str) -> Verdict {
    match s.trim().to_ascii_lowercase().as_str() {
        "pass" => Verdict::Pass,
        "fail" | "hardfail" => Verdict::Fail,
        // `none`: the message was not signed (DKIM) or no policy was published (DMARC).
        "" | "missing" | "none" => Verdict::Missing,
        _ => Verdict::Other,
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Other => "other",
        Verdict::Missing => "missing",
    }
}

fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if depth > 0 => escaped = true,
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            '\r' | '\n' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The `by` host of a `Received:` header value.
fn received_by(value: &str) -> Option<String> {
    let cleaned = strip_comments(value);
    let mut tokens = cleaned.split_whitespace();
    while let Some(token) = tokens.next() {
        if token.eq_ignore_ascii_case("by") {
            return tokens
                .next()
                .map(|h| h.trim_end_matches(';').to_ascii_lowercase());
        }
    }
    None
}

/// Whether `host` is `suffix` or a subdomain of it.
fn domain_within(host: &str, suffix: &str) -> bool {
    host == suffix
        || host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Relaxed DMARC alignment: both domains share an organizational domain.
pub fn aligned(a: &str, b: &str) -> bool {
    organizational_domain(&a.to_ascii_lowercase()) == organizational_domain(&b.to_ascii_lowercase())
}

/// An approximation of the organizational domain: the registrable domain under the public
/// suffix. Handles single-label suffixes (`.com`) and the common two-label ones under a
/// country code (`co.uk`, `com.au`, ...); it is not the full Public Suffix List.
pub fn organizational_domain(domain: &str) -> String {
    let labels: Vec<&str> = domain
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    if labels.len() <= 2 {
        return labels.join(".");
    }
    let second = labels[labels.len() - 2];
    let tld = labels[labels.len() - 1];
    let two_label_suffix = tld.len() == 2
        && matches!(
            second,
            "co" | "com" | "net" | "org" | "gov" | "edu" | "ac" | "gob" | "ne" | "or"
        );
    let keep = if two_label_suffix { 3 } else { 2 };
    labels[labels.len() - keep..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SES_TOP: &[(&str, &str)] = &[
        ("Return-Path", "<bounce@amazonses.com>"),
        (
            "Received",
            "from a11-24.smtp-out.amazonses.com (a11-24.smtp-out.amazonses.com [54.240.11.24])\r\n by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc;\r\n Fri, 29 Sep 2017 14:41:40 +0000 (UTC)",
        ),
        ("X-SES-Spam-Verdict", "PASS"),
        (
            "Authentication-Results",
            "amazonses.com;\r\n spf=pass (spfCheck: domain of amazonses.com designates 54.240.11.24 as permitted sender) client-ip=54.240.11.24;\r\n dkim=pass header.i=@amazonses.com;\r\n dkim=pass header.i=@zillowrentals.com;",
        ),
        ("From", "Zillow <rentals@zillowrentals.com>"),
    ];

    #[test]
    fn reads_the_receivers_results() {
        let (v, warnings) = AuthSettings::default().verdicts_from_headers(SES_TOP);
        assert_eq!(v.source, AuthSource::Header);
        assert_eq!(v.spf, Verdict::Pass);
        assert_eq!(v.dkim.len(), 2);
        assert!(warnings.is_empty());
        assert!(
            v.check(AuthPolicy::Dmarc, Some("zillowrentals.com"))
                .is_ok()
        );
        assert!(v.check(AuthPolicy::Dkim, Some("zillowrentals.com")).is_ok());
        assert!(
            v.check(AuthPolicy::Dmarc, Some("bigportal.example"))
                .is_err()
        );
    }

    #[test]
    fn forged_results_below_the_senders_received_are_ignored() {
        let headers = [
            (
                "Received",
                "from x by inbound-smtp.eu-west-1.amazonaws.com with SMTP id q; Fri, 29 Sep 2017 14:41:40 +0000",
            ),
            (
                "Authentication-Results",
                "amazonses.com; spf=fail; dkim=fail header.i=@portal.example; dmarc=fail header.from=portal.example",
            ),
            (
                "Received",
                "from evil by mail.evil.example; Fri, 29 Sep 2017 14:40:00 +0000",
            ),
            (
                "Authentication-Results",
                "amazonses.com; spf=pass; dkim=pass header.d=portal.example; dmarc=pass header.from=portal.example",
            ),
        ];
        let (v, warnings) = AuthSettings::default().verdicts_from_headers(&headers);
        assert_eq!(v.dmarc, Verdict::Fail);
        assert!(v.check(AuthPolicy::Dmarc, Some("portal.example")).is_err());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn results_without_a_trusted_received_are_not_trusted() {
        let headers = [(
            "Authentication-Results",
            "amazonses.com; dmarc=pass header.from=portal.example",
        )];
        let (v, _) = AuthSettings::default().verdicts_from_headers(&headers);
        assert_eq!(v.source, AuthSource::None);
        let err = v
            .check(AuthPolicy::Dmarc, Some("portal.example"))
            .unwrap_err();
        assert!(err.contains("no trusted"), "{err}");
    }

    #[test]
    fn a_second_trusted_header_in_the_block_is_ignored() {
        let headers = [
            (
                "Received",
                "from x by inbound-smtp.us-east-1.amazonaws.com; Fri, 29 Sep 2017 14:41:40 +0000",
            ),
            (
                "Authentication-Results",
                "amazonses.com; dmarc=fail header.from=portal.example",
            ),
            ("From", "a@portal.example"),
            (
                "Authentication-Results",
                "amazonses.com; dmarc=pass header.from=portal.example",
            ),
        ];
        let (v, warnings) = AuthSettings::default().verdicts_from_headers(&headers);
        assert_eq!(v.dmarc, Verdict::Fail);
        assert_eq!(warnings[0].code, "auth_results_ignored");
    }

    #[test]
    fn untrusted_authserv_ids_are_skipped() {
        let headers = [
            (
                "Received",
                "from x by inbound-smtp.us-east-1.amazonaws.com; Fri, 29 Sep 2017 14:41:40 +0000",
            ),
            ("Authentication-Results", "mx.evil.example; dmarc=pass"),
        ];
        let (v, _) = AuthSettings::default().verdicts_from_headers(&headers);
        assert_eq!(v.source, AuthSource::None);
    }

    #[test]
    fn alignment_uses_the_organizational_domain() {
        assert!(aligned("mail.portal.example", "portal.example"));
        assert!(aligned("bounce.portal.co.uk", "leads.portal.co.uk"));
        assert!(!aligned("portal.co.uk", "other.co.uk"));
        assert!(!aligned("amazonses.com", "zillowrentals.com"));
    }

    #[test]
    fn spf_policy_and_ses_receipts() {
        let v = AuthVerdicts::from_ses_receipt("PASS", "FAIL", "GRAY");
        assert!(v.check(AuthPolicy::Spf, None).is_ok());
        assert!(v.check(AuthPolicy::Dmarc, Some("portal.example")).is_err());
        let v = AuthVerdicts::from_ses_receipt("FAIL", "PASS", "FAIL");
        assert!(v.check(AuthPolicy::Dkim, Some("portal.example")).is_ok());
    }

    #[test]
    fn comments_with_semicolons_do_not_split_results() {
        let v = parse_authentication_results(
            "amazonses.com; spf=pass (a; b=fail) smtp.mailfrom=x; dmarc=pass",
        )
        .unwrap();
        assert_eq!(v.spf, Verdict::Pass);
        assert_eq!(v.dmarc, Verdict::Pass);
    }
}
