//! Sender authentication: which verdicts to trust, and whether a route's policy is met.
//!
//! Anyone can write `From: leads@bigportal.example`. What makes a sender credible is the
//! verdict of the receiving server (SES), which it records in an `Authentication-Results`
//! header at the top of the message. Only the top header block, the one the trusted receiver
//! added, is trustworthy: everything below the first `Received:` header that the trusted
//! receiver did not add came from the sender and may carry a forged
//! `Authentication-Results: amazonses.com`. So, reading the raw header bytes ([`fields`]):
//!
//! 1. walk the header fields top to bottom; a `Received:` whose `by` host is a trusted receiver
//!    keeps the block open, any other `Received:` ends it, and so does a field that is not
//!    well-formed (no colon, not UTF-8, a control character): nothing below it is trusted;
//! 2. the first `Authentication-Results` in the block that follows a trusted `Received:` and
//!    whose authserv-id is trusted is the one used; any further trusted-looking one is ignored
//!    (with a warning). If it does not parse ([`results`]), no verdict counts: a broken header
//!    is never read as a pass, and never replaced by another;
//! 3. the first `X-SES-Virus-Verdict` in the same place says whether SES found a virus.
//!
//! A verdict vouches for one domain, so it counts only for the From address routing used, and
//! only when that From is unambiguous ([`from`]): one From field with one cleanly written
//! mailbox. DMARC counts when its `header.from` is the From domain; DKIM when its signing
//! domain is aligned with the From domain (same organizational domain, by the Public Suffix
//! List); SPF when its envelope sender is aligned with the From domain.
//!
//! A Lambda event from an SES receipt rule carries the verdicts itself; the host passes them
//! as [`AuthVerdicts::from_ses_receipt`] and the `Authentication-Results` header is not
//! consulted. The receipt's DKIM verdict names no domain, so it never satisfies a policy on its
//! own (see [`AuthVerdicts::check`]).

mod fields;
mod from;
mod lex;
pub mod results;

use serde::{Deserialize, Serialize};

use crate::record::{AuthSummary, Issue, IssueCode, Verdict};

pub use from::FromProblem;

/// Which authentication a route requires before its extractor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthPolicy {
    /// DMARC pass for the From domain, or (when the receiver reports no DMARC verdict for it)
    /// a DKIM pass aligned with the From domain (the default).
    #[default]
    Dmarc,
    /// A DKIM pass whose signing domain is aligned with the From domain.
    Dkim,
    /// An SPF pass for an envelope sender whose domain is aligned with the From domain.
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
    /// No trusted verdicts were found (or the trusted header could not be parsed).
    None,
}

/// One DKIM result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimResult {
    /// The verdict.
    pub verdict: Verdict,
    /// The signing domain (`header.d`, or the domain of `header.i`), lower-case; `None` for an
    /// SES receipt, which names none.
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
    /// The domain SPF vouched for (the envelope sender's), lower-case.
    pub spf_domain: Option<String>,
    /// Every DKIM result.
    pub dkim: Vec<DkimResult>,
    /// DMARC verdict.
    pub dmarc: Verdict,
    /// The From domain the DMARC verdict is about (`header.from`), lower-case. An SES receipt
    /// names none: its verdict is about the From header SES read.
    pub dmarc_domain: Option<String>,
    /// Why there are no trusted verdicts, when a trusted header was found but not usable.
    pub untrusted_reason: Option<String>,
}

/// Why a route's policy was not met: a record error code and its message (no addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// `unauthenticated`, or `ambiguous_from` when the From header cannot be authenticated.
    pub code: IssueCode,
    /// What was missing.
    pub message: String,
}

impl AuthFailure {
    fn new(code: IssueCode, policy: AuthPolicy, why: impl std::fmt::Display) -> Self {
        AuthFailure {
            code,
            message: format!("requires {}: {why}", policy.as_str()),
        }
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The From address a policy is checked against: `Ok(Some(address))` for one clean From,
/// `Ok(None)` for a mail without From, `Err` for an ambiguous one.
pub type RoutedFrom<'a> = Result<Option<&'a str>, FromProblem>;

impl AuthVerdicts {
    /// No trusted verdicts at all.
    pub fn none() -> Self {
        AuthVerdicts {
            source: AuthSource::None,
            authserv_id: None,
            spf: Verdict::Missing,
            spf_domain: None,
            dkim: Vec::new(),
            dmarc: Verdict::Missing,
            dmarc_domain: None,
            untrusted_reason: None,
        }
    }

    /// No trusted verdicts, because the trusted header was not usable.
    fn untrusted(authserv_id: Option<String>, reason: String) -> Self {
        AuthVerdicts {
            authserv_id,
            untrusted_reason: Some(reason),
            ..AuthVerdicts::none()
        }
    }

    /// Verdicts from an SES receipt: the `spfVerdict`, `dkimVerdict` and `dmarcVerdict`
    /// statuses (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`) and `mail.source`, the envelope
    /// sender SPF was checked for.
    ///
    /// What a receipt proves: `dmarcVerdict: PASS` that the From domain's DMARC check passed;
    /// `spfVerdict: PASS` that the envelope sender's domain allowed the sending IP. The
    /// `dkimVerdict` names no signing domain (a pass may be SES's own `amazonses.com` signature
    /// or any third party's), so it proves nothing about the From domain and satisfies no policy.
    pub fn from_ses_receipt(spf: &str, dkim: &str, dmarc: &str, mail_from: Option<&str>) -> Self {
        AuthVerdicts {
            source: AuthSource::SesReceipt,
            authserv_id: Some("amazonses.com".to_owned()),
            spf: parse_verdict(spf),
            spf_domain: mail_from.and_then(address_domain),
            dkim: vec![DkimResult {
                verdict: parse_verdict(dkim),
                domain: None,
            }],
            dmarc: parse_verdict(dmarc),
            dmarc_domain: None,
            untrusted_reason: None,
        }
    }

    /// Verdicts from a parsed, trusted `Authentication-Results` header.
    fn from_results(parsed: &results::AuthResults) -> Self {
        let mut verdicts = AuthVerdicts {
            source: AuthSource::Header,
            authserv_id: Some(parsed.authserv_id.clone()),
            ..AuthVerdicts::none()
        };
        for info in &parsed.results {
            let verdict = parse_verdict(&info.result);
            match info.method.as_str() {
                "spf" => {
                    verdicts.spf = verdict;
                    // Every statement of the envelope sender must agree, or none counts.
                    let mut domains: Vec<String> = [
                        info.property(Some("smtp"), "mailfrom"),
                        info.property(None, "envelope-from"),
                    ]
                    .into_iter()
                    .flatten()
                    .map(|v| address_domain(v).unwrap_or_default())
                    .collect();
                    domains.dedup();
                    verdicts.spf_domain = match domains.as_slice() {
                        [one] if !one.is_empty() => Some(one.clone()),
                        _ => None,
                    };
                }
                "dkim" => {
                    let domain = info
                        .property(Some("header"), "d")
                        .map(normalize_domain)
                        .or_else(|| info.property(Some("header"), "i").and_then(address_domain));
                    verdicts.dkim.push(DkimResult { verdict, domain });
                }
                "dmarc" => {
                    verdicts.dmarc = verdict;
                    verdicts.dmarc_domain =
                        info.property(Some("header"), "from").map(normalize_domain);
                }
                _ => {}
            }
        }
        verdicts
    }

    fn best_dkim(&self) -> Verdict {
        if self.dkim.iter().any(|d| d.verdict == Verdict::Pass) {
            Verdict::Pass
        } else if self.dkim.iter().any(|d| d.verdict == Verdict::Fail) {
            Verdict::Fail
        } else if self.dkim.iter().all(|d| d.verdict == Verdict::Missing) {
            Verdict::Missing
        } else if self
            .dkim
            .iter()
            .all(|d| matches!(d.verdict, Verdict::Missing | Verdict::None))
        {
            Verdict::None
        } else {
            Verdict::Other
        }
    }

    /// Whether a DKIM signature passed for a domain aligned (relaxed) with `from_domain`.
    /// Results without a domain (an SES receipt's) never align.
    pub fn aligned_dkim_pass(&self, from_domain: &str) -> bool {
        self.dkim.iter().any(|d| {
            d.verdict == Verdict::Pass
                && d.domain
                    .as_deref()
                    .is_some_and(|signer| aligned(signer, from_domain))
        })
    }

    /// Checks `policy` for the From address routing used. `Err` says what was missing,
    /// without naming any address. See `docs/security.md` for the decision table.
    pub fn check(&self, policy: AuthPolicy, from: RoutedFrom<'_>) -> Result<(), AuthFailure> {
        let fail = |why: String| Err(AuthFailure::new(IssueCode::Unauthenticated, policy, why));
        if policy == AuthPolicy::None {
            return Ok(());
        }
        let address = match from {
            Err(problem) => {
                return Err(AuthFailure::new(
                    IssueCode::AmbiguousFrom,
                    policy,
                    format!("{problem}; such a mail is never authenticated"),
                ));
            }
            Ok(address) => address,
        };
        let Some(from_domain) = address.and_then(address_domain) else {
            return fail("the mail has no From address to authenticate".to_owned());
        };
        if self.source == AuthSource::None {
            return fail(match &self.untrusted_reason {
                Some(reason) => reason.clone(),
                None => {
                    "no trusted Authentication-Results in the receiver's header block".to_owned()
                }
            });
        }
        let receipt = self.source == AuthSource::SesReceipt;
        match policy {
            AuthPolicy::None => Ok(()),
            AuthPolicy::Spf => match (&self.spf, &self.spf_domain) {
                (Verdict::Pass, Some(domain)) if aligned(domain, &from_domain) => Ok(()),
                (Verdict::Pass, Some(_)) => fail(
                    "SPF passed for an envelope sender whose domain is not aligned with the From domain".to_owned(),
                ),
                (Verdict::Pass, None) => {
                    fail("SPF passed, but the verdict names no envelope sender domain".to_owned())
                }
                (spf, _) => fail(format!("spf={}", verdict_name(*spf))),
            },
            AuthPolicy::Dkim if receipt => fail(
                "an SES receipt's DKIM verdict names no signing domain, so it cannot show a DKIM pass aligned with the From domain (use require_auth = \"dmarc\")".to_owned(),
            ),
            AuthPolicy::Dkim => {
                if self.aligned_dkim_pass(&from_domain) {
                    Ok(())
                } else {
                    fail(format!(
                        "no DKIM pass aligned with the From domain (dkim={})",
                        verdict_name(self.best_dkim())
                    ))
                }
            }
            AuthPolicy::Dmarc if receipt => match self.dmarc {
                Verdict::Pass => Ok(()),
                dmarc => fail(format!(
                    "dmarc={} in the SES receipt (its DKIM verdict names no domain and does not count)",
                    verdict_name(dmarc)
                )),
            },
            AuthPolicy::Dmarc => {
                let has_dmarc = self.dmarc != Verdict::Missing || self.dmarc_domain.is_some();
                if has_dmarc && self.dmarc_domain.as_deref() != Some(from_domain.as_str()) {
                    return fail(
                        "the DMARC verdict is not about the From domain (its header.from differs or is missing)".to_owned(),
                    );
                }
                match self.dmarc {
                    Verdict::Pass => Ok(()),
                    Verdict::Fail => fail("dmarc=fail".to_owned()),
                    // No DMARC verdict (or no published policy): an aligned DKIM pass will do.
                    _ if self.aligned_dkim_pass(&from_domain) => Ok(()),
                    dmarc => fail(format!(
                        "dmarc={} and no DKIM pass aligned with the From domain (dkim={})",
                        verdict_name(dmarc),
                        verdict_name(self.best_dkim())
                    )),
                }
            }
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// authserv-ids whose `Authentication-Results` are believed, when they stand in the
    /// receiver's header block (default `["amazonses.com"]`).
    #[serde(default = "default_authserv_ids")]
    pub trusted_authserv_ids: Vec<String>,
    /// Host suffixes of the receiving servers whose `Received:` headers open the trusted block
    /// (default `["amazonaws.com"]`, which covers `inbound-smtp.REGION.amazonaws.com`). Empty,
    /// no mail can pass authentication (`mailex check` warns).
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

/// What the receiver's own header block says about a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverBlock {
    /// The trusted verdicts ([`AuthSource::None`] when there are none).
    pub verdicts: AuthVerdicts,
    /// Whether the receiver's `X-SES-Virus-Verdict` is `FAIL`.
    pub virus: bool,
    /// Warnings: ignored or unusable `Authentication-Results`, a malformed block.
    pub warnings: Vec<Issue>,
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

    /// Whether an `Authentication-Results` value claims a trusted authserv-id, or cannot be
    /// read far enough to tell (then it must be assumed to).
    fn claims_trusted_authserv(&self, value: &str) -> bool {
        results::authserv_id(value).is_none_or(|id| self.trusts_authserv(&id))
    }

    /// Reads the receiver's header block from the raw mail (see the module docs): the trusted
    /// verdicts, the virus verdict, and warnings.
    pub fn read_receiver_block(&self, raw: &[u8]) -> ReceiverBlock {
        let mut trusted_received = false;
        let mut in_block = true;
        let mut verdicts: Option<AuthVerdicts> = None;
        let mut virus: Option<bool> = None;
        let mut ignored = 0usize;
        // Trusted-looking results in the top block, but with no trusted receiver's `Received:`
        // above them (a mail that did not come through the receiver, or `trusted_receivers`
        // that does not name it).
        let mut unvouched = 0usize;
        let mut malformed_line: Option<usize> = None;
        let mut warnings = Vec::new();
        for (index, field) in fields::header_fields(raw).enumerate() {
            let is_results = field.is("Authentication-Results");
            if !in_block {
                if is_results
                    && field
                        .text()
                        .is_some_and(|v| self.claims_trusted_authserv(v))
                {
                    ignored += 1;
                }
                continue;
            }
            let Some(value) = field.text() else {
                // Nothing below a malformed field is trusted.
                in_block = false;
                malformed_line = Some(index + 1);
                continue;
            };
            if field.is("Received") {
                match received_by(value) {
                    Some(host) if self.trusts_receiver(&host) => trusted_received = true,
                    // The sender's own headers start here.
                    _ => in_block = false,
                }
            } else if field.is("X-SES-Virus-Verdict") && trusted_received && virus.is_none() {
                virus = Some(value.trim().eq_ignore_ascii_case("FAIL"));
            } else if is_results && self.claims_trusted_authserv(value) {
                if verdicts.is_some() {
                    ignored += 1;
                    continue;
                }
                if !trusted_received {
                    unvouched += 1;
                    continue;
                }
                verdicts = Some(match results::parse(value) {
                    Ok(parsed) => AuthVerdicts::from_results(&parsed),
                    Err(error) => {
                        let reason = format!(
                            "the receiver's Authentication-Results does not parse ({error}); none of its verdicts count"
                        );
                        warnings.push(Issue::new(IssueCode::AuthResultsInvalid, reason.clone()));
                        AuthVerdicts::untrusted(results::authserv_id(value), reason)
                    }
                });
            }
        }
        // Worth a warning only where it cost a verdict: inside the receiver's block, or above
        // results that were then ignored.
        if let Some(line) = malformed_line
            && verdicts.is_none()
            && (trusted_received || ignored > 0)
        {
            warnings.insert(0, Issue::new(
                IssueCode::AuthBlockMalformed,
                format!("header field {line} of the receiver's block is not well-formed (no colon, not UTF-8, or a control character); nothing below it is trusted"),
            ));
        }
        let missing_received = "no `Received:` header of a trusted receiver (a host within `trusted_receivers`) is above it, so it does not show the receiver wrote it: the mail did not come through the receiver, or `[auth] trusted_receivers` does not name the host in its top `Received:`";
        if unvouched > 0 {
            warnings.push(Issue::new(
                IssueCode::AuthResultsIgnored,
                format!("ignored {unvouched} Authentication-Results header(s) with a trusted authserv-id at the top of the mail: {missing_received}"),
            ));
        }
        if ignored > 0 {
            warnings.push(Issue::new(
                IssueCode::AuthResultsIgnored,
                format!("ignored {ignored} Authentication-Results header(s) with a trusted authserv-id outside the receiver's header block"),
            ));
        }
        let verdicts = verdicts.unwrap_or_else(|| match unvouched {
            0 => AuthVerdicts::none(),
            _ => AuthVerdicts {
                untrusted_reason: Some(format!(
                    "the Authentication-Results with a trusted authserv-id does not count: {missing_received}"
                )),
                ..AuthVerdicts::none()
            },
        });
        ReceiverBlock {
            verdicts,
            virus: virus.unwrap_or(false),
            warnings,
        }
    }
}

/// The From address authentication checks: `sender` (what routing used) when the raw mail
/// has exactly one From field holding exactly that one mailbox, written cleanly; `parsed_fields`
/// is how many From fields mail-parser saw.
pub(crate) fn routed_from<'s>(
    raw: &[u8],
    parsed_fields: usize,
    sender: Option<&'s str>,
) -> RoutedFrom<'s> {
    from::check_from(fields::header_fields(raw), parsed_fields, sender).map(|()| sender)
}

/// Maps a verdict word (`pass`, `FAIL`, `softfail`, `GRAY`, ...) to a [`Verdict`].
pub fn parse_verdict(s: &str) -> Verdict {
    match s.trim().to_ascii_lowercase().as_str() {
        "pass" => Verdict::Pass,
        "fail" | "hardfail" => Verdict::Fail,
        // `none`: the message was not signed (DKIM), no policy was published (DMARC), no SPF
        // record exists: the method ran, so the verdict is not missing.
        "none" => Verdict::None,
        "" | "missing" => Verdict::Missing,
        _ => Verdict::Other,
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Other => "other",
        Verdict::None => "none",
        Verdict::Missing => "missing",
    }
}

/// The `by` host of a `Received:` header value: the word after the first `by` outside
/// comments and quoted strings and before the `;` that starts the date, lower-case (`None`
/// when it has none, or when its comments or quotes do not balance).
///
/// mail-parser has a `Received:` parser of its own (`MessageStream::parse_received`), and
/// the header reader uses neither its view nor its parsers ([`fields`]: mail-parser drops
/// undecodable fields). Its reading agrees on real headers but is looser where a sender
/// writes the header: it takes a `by` in the date part after the `;`, keeps the last of two
/// `by` clauses, and reads past a comment closed that was never opened. Any of these would
/// let a sender's own `Received:` keep the receiver's block open, so trust is decided by this
/// reading, built on the same lexer (`lex.rs`) as the `Authentication-Results` and From
/// parsers; `tests.rs` (`mail_parser_reads_by_hosts_the_trust_model_refuses`) pins the
/// differences.
fn received_by(value: &str) -> Option<String> {
    let mut c = lex::Cursor::new(value);
    let mut previous_was_by = false;
    loop {
        c.skip_cfws().ok()?;
        match c.peek()? {
            // The date follows the `;`: no `by` after it.
            b';' => return None,
            b'"' => {
                c.quoted_string().ok()?;
                previous_was_by = false;
            }
            _ => {
                let word = c.take_while(|b| {
                    !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b';' | b'"')
                });
                if word.is_empty() {
                    return None;
                }
                if previous_was_by {
                    return Some(word.to_ascii_lowercase());
                }
                previous_was_by = word.eq_ignore_ascii_case("by");
            }
        }
    }
}

/// Whether `host` is `suffix` or a subdomain of it.
fn domain_within(host: &str, suffix: &str) -> bool {
    host == suffix
        || host
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The domain of an address (`a@b.example`, `@b.example`), lower-case.
fn address_domain(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let domain = normalize_domain(domain);
    (!domain.is_empty()).then_some(domain)
}

/// Relaxed DMARC alignment: both domains have the same organizational domain (or are the same
/// domain).
pub fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_domain(a), normalize_domain(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    match (organizational_domain(&a), organizational_domain(&b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The organizational domain (RFC 7489): the registrable domain under its public suffix, by
/// the Public Suffix List built into the `psl` crate, private section included (so
/// `victim.github.io` and `attacker.github.io` are different organizations). `None` when the
/// domain is itself a public suffix or not a domain name.
pub fn organizational_domain(domain: &str) -> Option<String> {
    let domain = normalize_domain(domain);
    if !results::is_domain_name(&domain) {
        return None;
    }
    psl::domain_str(&domain).map(str::to_owned)
}

#[cfg(test)]
mod tests;
