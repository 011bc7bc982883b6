//! Sender routing: which route (advertiser and extractor) an email belongs to, and why.
//!
//! A route matches when its sender pattern matches the From address and all of its conditions
//! hold. Among matching routes the one with the highest *rank* wins: priority first, then the
//! kind of sender pattern (exact address, `*@domain`, `*@*.domain`, regex), then the number of
//! domain labels, then the number of conditions. Two routes that could match the same email
//! with the same rank are a configuration error, reported at load ([`check_ties`]).

mod overlap;

use std::collections::HashMap;
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
    /// or domain; nothing for regexes, whose overlap [`check_ties`] decides pair by pair.
    fn overlap_key(&self) -> Option<&str> {
        match self {
            SenderPattern::Exact(s) | SenderPattern::Domain(s) | SenderPattern::Subdomains(s) => {
                Some(s)
            }
            SenderPattern::Regex(_) => None,
        }
    }

    /// Whether two patterns of equal rank could match the same address (regexes: decided
    /// by [`check_ties`], assumed here).
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
    /// Some copy of the header with this name has a value matching the regex. Every copy
    /// counts, including ones the sender wrote below the receiver's block: a condition selects
    /// a layout, it does not authenticate.
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
    /// The route's name, unique in the configuration.
    pub name: String,
    /// The advertiser id its records carry (`advertiser = "..."`, default: the name). Several
    /// routes may feed one advertiser, e.g. a platform's own mail and an agent's forward of it.
    pub advertiser: String,
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

    /// Two routes with an address, domain or subdomain pattern tie exactly when their tie
    /// keys are equal (the rank includes the pattern kind), so they are checked with one hash
    /// lookup per route. Regex routes (key `None`) are checked pair by pair ([`check_ties`]).
    pub fn tie_key(&self) -> (Rank, Option<&str>) {
        (self.rank(), self.sender.overlap_key())
    }
}

/// Routes that tie: the same rank, and a sender all of them match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tie {
    /// The routes' indices, in config order (two or more).
    pub routes: Vec<usize>,
    /// An address every one of them matches, when their patterns are regexes (the shortest).
    pub example: Option<String>,
}

/// Two regex routes of equal rank whose overlap the check could not decide within its caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// The earlier route's index.
    pub first: usize,
    /// The later route's index.
    pub second: usize,
    /// Which cap stopped the check.
    pub why: &'static str,
}

/// The outcome of [`check_ties`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TieCheck {
    /// Every tie, ordered by the routes' positions.
    pub ties: Vec<Tie>,
    /// Pairs of regex routes whose overlap was not decided, ordered by position.
    pub undecided: Vec<Undecided>,
    /// Pairs of regex routes of equal rank not checked at all: more than
    /// [`MAX_TIE_PAIRS`] pairs in the configuration.
    pub unchecked_pairs: u64,
}

/// Pairs of regex routes of equal rank checked for overlap in one configuration.
pub const MAX_TIE_PAIRS: usize = overlap::MAX_PAIRS;

/// Finds every pair of routes that could match the same email with the same rank.
///
/// Routes with an address or domain pattern tie when their rank and pattern are equal: one
/// hash lookup per route, and each group of equal routes is one [`Tie`]. Routes with a
/// `sender_regex` and equal rank are checked pair by pair: they tie only when an address
/// matches both (shown in [`Tie::example`]); a pair the caps stop (states per pair, a
/// transition budget for the configuration, at most [`MAX_TIE_PAIRS`] pairs) is reported as
/// [`Undecided`] or counted in [`TieCheck::unchecked_pairs`], never claimed as a tie. Conditions
/// are not compared: two routes whose conditions differ may still both hold.
pub fn check_ties(routes: &[Route]) -> TieCheck {
    let mut check = TieCheck::default();
    let mut exact_groups: HashMap<(Rank, &str), Vec<usize>> = HashMap::new();
    let mut regex_groups: HashMap<Rank, Vec<usize>> = HashMap::new();
    for (index, route) in routes.iter().enumerate() {
        match route.tie_key() {
            (rank, Some(key)) => exact_groups.entry((rank, key)).or_default().push(index),
            (rank, None) => regex_groups.entry(rank).or_default().push(index),
        }
    }
    check.ties.extend(
        exact_groups
            .into_values()
            .filter(|group| group.len() > 1)
            .map(|routes| Tie {
                routes,
                example: None,
            }),
    );
    let mut groups: Vec<Vec<usize>> = regex_groups
        .into_values()
        .filter(|group| group.len() > 1)
        .collect();
    groups.sort();
    let mut automata: HashMap<usize, overlap::AddressAutomaton> = HashMap::new();
    let mut transitions = overlap::MAX_TOTAL_TRANSITIONS;
    let mut pairs = 0usize;
    for group in groups {
        for (at, &first) in group.iter().enumerate() {
            let later = &group[at + 1..];
            if pairs + later.len() > MAX_TIE_PAIRS {
                let left = (MAX_TIE_PAIRS - pairs).min(later.len());
                let rest = (later.len() - left) as u64;
                let remaining_rows = (group.len() - at - 1) as u64;
                // This row's pairs past the cap, then every pair of the rows after it.
                check.unchecked_pairs +=
                    rest + remaining_rows * remaining_rows.saturating_sub(1) / 2;
                check_pairs(
                    routes,
                    first,
                    &later[..left],
                    &mut automata,
                    &mut transitions,
                    &mut check,
                );
                pairs = MAX_TIE_PAIRS;
                break;
            }
            pairs += later.len();
            check_pairs(
                routes,
                first,
                later,
                &mut automata,
                &mut transitions,
                &mut check,
            );
        }
    }
    check.ties.sort_by(|a, b| a.routes.cmp(&b.routes));
    check.undecided.sort_by_key(|u| (u.first, u.second));
    check
}

/// Checks route `first` against each of `later` (all regex routes of its rank).
fn check_pairs(
    routes: &[Route],
    first: usize,
    later: &[usize],
    automata: &mut HashMap<usize, overlap::AddressAutomaton>,
    transitions: &mut usize,
    check: &mut TieCheck,
) {
    for &second in later {
        for index in [first, second] {
            if let SenderPattern::Regex(re) = &routes[index].sender {
                automata
                    .entry(index)
                    .or_insert_with(|| overlap::AddressAutomaton::new(re.as_str()));
            }
        }
        let (Some(a), Some(b)) = (automata.get(&first), automata.get(&second)) else {
            continue;
        };
        match overlap::overlap(a, b, transitions) {
            overlap::Overlap::Disjoint => {}
            overlap::Overlap::Shared(example) => check.ties.push(Tie {
                routes: vec![first, second],
                example: Some(example),
            }),
            overlap::Overlap::Unknown(why) => {
                check.undecided.push(Undecided { first, second, why })
            }
        }
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

    fn load(routes: &[(&str, &str)]) -> Result<crate::Engine, crate::ConfigError> {
        let mut config = String::new();
        for (name, sender) in routes {
            config.push_str(&format!(
                "[[route]]\nname = \"{name}\"\n{sender}\nextractor = \"builtin:adf\"\n\n"
            ));
        }
        crate::Engine::from_toml_str(
            &config,
            std::path::Path::new("m.toml"),
            std::path::Path::new("."),
        )
    }

    #[test]
    fn disjoint_regex_senders_do_not_tie() {
        let engine = load(&[
            ("one", r"sender_regex = '^a@one\.example$'"),
            ("two", r"sender_regex = '^b@two\.example$'"),
            ("three", r"sender_regex = '^(c|d)@(one|two)\.example$'"),
        ])
        .expect("disjoint patterns load");
        assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    }

    #[test]
    fn every_real_tie_is_reported_with_an_address_both_match() {
        let err = load(&[
            ("a", r"sender_regex = '@one\.example$'"),
            ("b", r"sender_regex = '^b@two\.example$'"),
            ("c", r"sender_regex = '^x@one\.example$'"),
            ("d", r"sender_regex = '^b@two\.(example|test)$'"),
            ("e", "sender = \"*@x.example\""),
            ("f", "sender = \"*@x.example\""),
            ("g", "sender = \"*@X.example\""),
        ])
        .expect_err("ties");
        let problems: Vec<&str> = err.problems().iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 3, "{err}");
        assert!(
            problems[0].starts_with(
                "routes `a` and `c` tie: both `sender_regex` patterns match `x@one.example`"
            ),
            "{err}"
        );
        assert!(
            problems[1].starts_with(
                "routes `b` and `d` tie: both `sender_regex` patterns match `b@two.example`"
            ),
            "{err}"
        );
        assert!(
            problems[2].starts_with("routes `e`, `f` and `g` tie: all 3 can match"),
            "{err}"
        );
    }

    #[test]
    fn an_undecided_overlap_is_a_warning_in_config_order() {
        // A Unicode word boundary cannot be followed through non-ASCII bytes: the check gives
        // up on these pairs and says so, without refusing the configuration.
        let engine = load(&[
            ("a", r"sender_regex = '\bjane\b'"),
            ("b", r"sender_regex = '^z@x\.example$'"),
            ("c", r"sender_regex = '\bjohn\b'"),
        ])
        .expect("undecided pairs load");
        let warnings: Vec<&str> = engine
            .warnings()
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("routes `a` and `b` may tie"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("routes `a` and `c` may tie"),
            "{warnings:?}"
        );
        assert!(
            warnings[2].starts_with("routes `b` and `c` may tie"),
            "{warnings:?}"
        );
        assert!(
            engine.warnings()[0]
                .warning_line()
                .starts_with("m.toml:7:8: warning: ")
        );
    }

    #[test]
    fn two_routes_feed_one_advertiser() {
        let config = "[[route]]\nname = \"acme-direct\"\nadvertiser = \"acme\"\nsender = \"leads@portal.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n\n[[route]]\nname = \"acme-forwarded\"\nadvertiser = \"acme\"\nsender = \"agent@acme.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n\n[[route]]\nname = \"other\"\nsender = \"*@other.example\"\nrequire_auth = \"none\"\nextractor = \"builtin:lead-meta\"\n";
        let engine = crate::Engine::from_toml_str(
            config,
            std::path::Path::new("m.toml"),
            std::path::Path::new("."),
        )
        .expect("loads");
        let advertiser = |from: &str| {
            let raw = format!("From: {from}\r\nSubject: Lead\r\n\r\nHello\r\n");
            engine
                .process(&crate::Input::new(raw.as_bytes(), "t.eml"))
                .advertiser
        };
        assert_eq!(advertiser("leads@portal.example").as_deref(), Some("acme"));
        assert_eq!(advertiser("agent@acme.example").as_deref(), Some("acme"));
        assert_eq!(advertiser("x@other.example").as_deref(), Some("other"));
        let empty = config.replacen("advertiser = \"acme\"", "advertiser = \" \"", 1);
        let err = crate::Engine::from_toml_str(
            &empty,
            std::path::Path::new("m.toml"),
            std::path::Path::new("."),
        )
        .expect_err("an empty advertiser is refused");
        assert!(
            err.to_string()
                .contains("m.toml:3:14: error: `advertiser` must not be empty"),
            "{err}"
        );
    }
}
