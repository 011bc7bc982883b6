//! Sender routing: which route (advertiser and extractor) an email belongs to, and why.
//!
//! A route matches when its sender pattern matches the From address and all of its conditions
//! hold. Among matching routes the one with the highest *rank* wins: priority first, then the
//! kind of sender pattern (exact address, `*@domain`, `*@*.domain`, regex), then the number of
//! domain labels, then the number of conditions. Two routes that could match the same email
//! with the same rank are a configuration error, reported at load.

use std::sync::Arc;

use regex::Regex;

use crate::auth::AuthPolicy;
use crate::config::RouteLimits;
use crate::extractor::Extractor;
use crate::message::Email;

/// How a route matches the From address.
#[derive(Debug, Clone)]
pub enum SenderPattern {
    /// One exact address, compared case-insensitively.
    Exact(String),
    /// `*@domain`: any address at exactly that domain.
    Domain(String),
    /// `*@*.domain`: any address at that domain or any of its subdomains.
    Subdomains(String),
    /// A regular expression over the whole (lower-cased) address.
    Regex(Regex),
}

impl SenderPattern {
    /// Parses `jane@x.example`, `*@x.example` or `*@*.x.example`.
    pub fn parse(pattern: &str) -> Result<SenderPattern, String> {
        let pattern = pattern.trim().to_ascii_lowercase();
        let Some((local, domain)) = pattern.split_once('@') else {
            return Err("a sender must be an address, `*@domain` or `*@*.domain` (use `sender_regex` for anything else)".to_owned());
        };
        if domain.is_empty() || domain.contains('@') || domain.contains(char::is_whitespace) {
            return Err(format!("`{pattern}` has no valid domain"));
        }
        match (local, domain.strip_prefix("*.")) {
            ("*", Some(parent)) if !parent.contains('*') && parent.contains('.') => {
                Ok(SenderPattern::Subdomains(parent.to_owned()))
            }
            ("*", None) if !domain.contains('*') => Ok(SenderPattern::Domain(domain.to_owned())),
            (local, None) if !local.is_empty() && !local.contains('*') && !domain.contains('*') => {
                Ok(SenderPattern::Exact(pattern.clone()))
            }
            ("*", Some(parent)) if !parent.contains('.') => Err(format!(
                "`{pattern}` would match a whole top-level domain; name the organisation's domain, e.g. `*@*.portal.example`"
            )),
            _ => Err(format!(
                "`{pattern}` mixes wildcards in a way mailex does not support: use `*@domain`, `*@*.domain` or `sender_regex`"
            )),
        }
    }

    /// Whether the (lower-cased) address matches.
    pub fn matches(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        match self {
            SenderPattern::Exact(a) => a == address,
            SenderPattern::Domain(d) => d == domain,
            SenderPattern::Subdomains(d) => {
                domain == d
                    || domain
                        .strip_suffix(d.as_str())
                        .is_some_and(|r| r.ends_with('.'))
            }
            SenderPattern::Regex(re) => re.is_match(address),
        }
    }

    fn kind_rank(&self) -> u8 {
        match self {
            SenderPattern::Exact(_) => 4,
            SenderPattern::Domain(_) => 3,
            SenderPattern::Subdomains(_) => 2,
            SenderPattern::Regex(_) => 1,
        }
    }

    fn domain_labels(&self) -> usize {
        match self {
            SenderPattern::Exact(a) => a.rsplit_once('@').map_or(0, |(_, d)| d.split('.').count()),
            SenderPattern::Domain(d) | SenderPattern::Subdomains(d) => d.split('.').count(),
            SenderPattern::Regex(_) => 0,
        }
    }

    /// What two patterns of the same kind must share to match the same address: the address
    /// or domain, or nothing for regexes (whether two regexes overlap is undecidable in
    /// general; assume they may).
    fn overlap_key(&self) -> Option<&str> {
        match self {
            SenderPattern::Exact(s) | SenderPattern::Domain(s) | SenderPattern::Subdomains(s) => {
                Some(s)
            }
            SenderPattern::Regex(_) => None,
        }
    }

    /// Whether two patterns of equal rank could match the same address.
    #[cfg(test)]
    fn may_overlap(&self, other: &SenderPattern) -> bool {
        self.kind_rank() == other.kind_rank() && self.overlap_key() == other.overlap_key()
    }
}

impl std::fmt::Display for SenderPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SenderPattern::Exact(a) => write!(f, "{a}"),
            SenderPattern::Domain(d) => write!(f, "*@{d}"),
            SenderPattern::Subdomains(d) => write!(f, "*@*.{d}"),
            SenderPattern::Regex(re) => write!(f, "/{}/", re.as_str()),
        }
    }
}

/// A further condition on a route.
#[derive(Debug, Clone)]
pub enum Condition {
    /// The subject contains this text (case-insensitive).
    SubjectContains(String),
    /// The subject matches this regex.
    SubjectRegex(Regex),
    /// A header with this name is present.
    HeaderPresent(String),
    /// A header with this name has a value matching the regex.
    HeaderMatches(String, Regex),
}

impl Condition {
    fn holds(&self, email: &Email<'_>) -> bool {
        match self {
            Condition::SubjectContains(needle) => email
                .subject()
                .is_some_and(|s| s.to_lowercase().contains(&needle.to_lowercase())),
            Condition::SubjectRegex(re) => email.subject().is_some_and(|s| re.is_match(s)),
            Condition::HeaderPresent(name) => email
                .raw_headers()
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name)),
            Condition::HeaderMatches(name, re) => {
                email.header_all(name).iter().any(|v| re.is_match(v))
            }
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::SubjectContains(s) => write!(f, "subject contains {s:?}"),
            Condition::SubjectRegex(re) => write!(f, "subject matches /{}/", re.as_str()),
            Condition::HeaderPresent(h) => write!(f, "header {h} present"),
            Condition::HeaderMatches(h, re) => write!(f, "header {h} matches /{}/", re.as_str()),
        }
    }
}

/// A loaded route.
#[derive(Clone)]
pub struct Route {
    /// The advertiser's name.
    pub name: String,
    /// The sender pattern.
    pub sender: SenderPattern,
    /// Further conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// Higher wins.
    pub priority: i64,
    /// Authentication required before extraction.
    pub policy: AuthPolicy,
    /// The extractor as written in the config (`builtin:adf`, `rules/x.rules`, ...).
    pub extractor_spec: String,
    /// The loaded extractor.
    pub extractor: Arc<dyn Extractor>,
    /// Free-form settings passed to the extractor.
    pub settings: std::collections::BTreeMap<String, String>,
    /// The route's `[route.limits]` as written (see [`RouteLimits::for_plugin`] and
    /// [`RouteLimits::for_rules`] for the values in force).
    pub limits: RouteLimits,
    /// The route's test directory (`tests = "DIR"`, resolved against the config's directory):
    /// `*.eml` files with `*.expected.json` beside them, run by `mailex test --config`. Never
    /// read to load or extract, so a deployment need not ship it.
    pub tests: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("name", &self.name)
            .field("sender", &self.sender.to_string())
            .field("priority", &self.priority)
            .field("extractor", &self.extractor_spec)
            .finish_non_exhaustive()
    }
}

/// The ordering key of a route: larger is more specific.
pub type Rank = (i64, u8, usize, usize);

impl Route {
    /// Priority, pattern kind, domain labels, number of conditions.
    pub fn rank(&self) -> Rank {
        (
            self.priority,
            self.sender.kind_rank(),
            self.sender.domain_labels(),
            self.conditions.len(),
        )
    }

    /// Whether this route and `other` tie: same rank and overlapping sender patterns.
    pub fn ties_with(&self, other: &Route) -> bool {
        self.tie_key() == other.tie_key()
    }

    /// Two routes tie exactly when their tie keys are equal (the rank includes the pattern
    /// kind), so a configuration is checked for ties with one hash lookup per route.
    pub fn tie_key(&self) -> (Rank, Option<&str>) {
        (self.rank(), self.sender.overlap_key())
    }
}

/// How one route fared against an email.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the route in the router.
    pub route: usize,
    /// Whether the sender pattern matched.
    pub sender_matched: bool,
    /// The first condition that did not hold, if the sender matched.
    pub failed_condition: Option<String>,
}

/// The routing decision for one email, with the reasoning behind it.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The From address routing used (lower-cased), if any.
    pub sender: Option<String>,
    /// The chosen route's index.
    pub chosen: Option<usize>,
    /// Every route, and how it fared.
    pub candidates: Vec<Candidate>,
}

/// The routes of a configuration.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// A router over `routes`; the caller has checked for ties ([`Route::ties_with`]).
    pub fn new(routes: Vec<Route>) -> Self {
        Router { routes }
    }

    /// Every route, in config order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Picks the route for an email.
    pub fn select(&self, email: &Email<'_>) -> Selection {
        let sender = email.from_address();
        let mut candidates = Vec::with_capacity(self.routes.len());
        let mut chosen: Option<usize> = None;
        for (index, route) in self.routes.iter().enumerate() {
            let sender_matched = sender.as_deref().is_some_and(|s| route.sender.matches(s));
            let failed_condition = if sender_matched {
                route
                    .conditions
                    .iter()
                    .find(|c| !c.holds(email))
                    .map(|c| c.to_string())
            } else {
                None
            };
            if sender_matched && failed_condition.is_none() {
                // Ties were rejected at load; equal ranks here cannot both match, so the first wins.
                if chosen.is_none_or(|c| route.rank() > self.routes[c].rank()) {
                    chosen = Some(index);
                }
            }
            candidates.push(Candidate {
                route: index,
                sender_matched,
                failed_condition,
            });
        }
        Selection {
            sender,
            chosen,
            candidates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_patterns() {
        let exact = SenderPattern::parse("Leads@Portal.example").unwrap();
        assert!(exact.matches("leads@portal.example"));
        assert!(!exact.matches("other@portal.example"));
        let domain = SenderPattern::parse("*@portal.example").unwrap();
        assert!(domain.matches("x@portal.example"));
        assert!(!domain.matches("x@mail.portal.example"));
        let subs = SenderPattern::parse("*@*.portal.example").unwrap();
        assert!(subs.matches("x@mail.portal.example"));
        assert!(subs.matches("x@portal.example"));
        assert!(!subs.matches("x@evilportal.example"));
        assert!(SenderPattern::parse("no-at-sign").is_err());
        assert!(SenderPattern::parse("a*b@x.example").is_err());
        // A bare public suffix would route all of `.com` to one advertiser.
        assert!(SenderPattern::parse("*@*.com").is_err());
        assert!(SenderPattern::parse("*@*").is_err());
    }

    #[test]
    fn ranks_order_specificity() {
        let exact = SenderPattern::parse("a@b.example").unwrap();
        let domain = SenderPattern::parse("*@b.example").unwrap();
        let subs = SenderPattern::parse("*@*.b.example").unwrap();
        assert!(exact.kind_rank() > domain.kind_rank());
        assert!(domain.kind_rank() > subs.kind_rank());
        assert!(subs.may_overlap(&SenderPattern::parse("*@*.b.example").unwrap()));
        assert!(!domain.may_overlap(&SenderPattern::parse("*@c.example").unwrap()));
    }
}
