//! Building an [`Engine`] from `mailex.toml`: every route with its extractor, and the checks
//! across routes (names, ties, the `[auth]` table).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;

use super::Engine;
use crate::auth::AuthSettings;
use crate::config::{self, RawRoute, RouteLimits, SourceFile};
use crate::error::{ConfigError, ConfigProblem};
use crate::extractor::Extractor;
use crate::loader::{LoadFailure, LoadOptions};
use crate::regex_budget::{BudgetError, RegexBudget};
use crate::routing::{Condition, Route, Router, SenderPattern};
use crate::textops::RegexError;

/// The extractors of one load, by [`ExtractorKey::key`]: those loaded ahead ([`load_ahead`]) and
/// those routes have taken, so a file named by several routes is loaded once.
struct Extractors {
    /// Loaded ahead and not taken by a route yet, with how long each took.
    ahead: LoadedAhead,
    /// Taken by a route.
    taken: HashMap<String, Arc<dyn Extractor>>,
}

impl Extractors {
    /// The extractor of `key`: taken before, loaded ahead, or loaded now. The first take
    /// notes its load time under `spec` in `timings`.
    fn take(
        &mut self,
        ExtractorKey { spec, limits, key }: &ExtractorKey,
        base_dir: &Path,
        options: &LoadOptions,
        timings: &mut Vec<ExtractorTiming>,
    ) -> Result<Arc<dyn Extractor>, LoadFailure> {
        if let Some(extractor) = self.taken.get(key) {
            return Ok(extractor.clone());
        }
        let loaded = match self.ahead.remove(key) {
            Some((loaded, duration)) => {
                timings.push(ExtractorTiming {
                    spec: spec.clone(),
                    duration,
                });
                loaded
            }
            None => timed(timings, spec, || {
                crate::loader::load_extractor(spec, base_dir, limits, options)
            }),
        };
        let extractor = loaded?;
        self.taken.insert(key.clone(), extractor.clone());
        Ok(extractor)
    }
}

/// Where the time of loading a config went (`mailex check --timings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadTimings {
    /// Reading the config file ([`Engine::load_with`] only).
    pub read: Duration,
    /// Parsing the TOML into routes, settings and sinks.
    pub parse: Duration,
    /// Each extractor loaded (compiling a rule file, loading a plugin, building a built-in), in
    /// route order; one named by several routes is loaded and listed once.
    pub extractors: Vec<ExtractorTiming>,
    /// The whole load, reading included.
    pub total: Duration,
}

/// The time one extractor took to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractorTiming {
    /// The route's `extractor` value (`rules/zillow.rules`, `builtin:adf`, `x.wasm`).
    pub spec: String,
    /// How long loading it took.
    pub duration: Duration,
}

impl Engine {
    /// Loads `mailex.toml` and everything it references, with [`LoadOptions::default`] (plugin
    /// routes get a host of their own, without a compile cache on disk).
    pub fn load(path: &Path) -> Result<Engine, ConfigError> {
        Engine::load_with(path, &LoadOptions::default())
    }

    /// Loads `mailex.toml` and everything it references; plugins are loaded into the host
    /// `options` give.
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Engine, ConfigError> {
        let started = Instant::now();
        let text = config::read_config_text(path)?;
        let read = started.elapsed();
        let mut engine = Engine::from_toml_str_with(&text, path, &config::base_dir(path), options)?;
        engine.load_timings.read = read;
        engine.load_timings.total = started.elapsed();
        Ok(engine)
    }

    /// Loads a configuration from its text. `path` names it in errors; relative extractor paths
    /// are resolved against `base_dir`.
    pub fn from_toml_str(text: &str, path: &Path, base_dir: &Path) -> Result<Engine, ConfigError> {
        Engine::from_toml_str_with(text, path, base_dir, &LoadOptions::default())
    }

    /// [`Engine::from_toml_str`] with the plugin host `options` give.
    pub fn from_toml_str_with(
        text: &str,
        path: &Path,
        base_dir: &Path,
        options: &LoadOptions,
    ) -> Result<Engine, ConfigError> {
        let started = Instant::now();
        let mut timings = LoadTimings::default();
        // Rule files, built-ins and plugins normalise phone numbers: their metadata loads
        // while the routes compile.
        crate::normalize::warm_up_in_background();
        if text.len() > config::MAX_CONFIG_BYTES {
            return Err(ConfigError::whole_file(
                path,
                format!(
                    "the config file is {} bytes, over the limit of {} bytes",
                    text.len(),
                    config::MAX_CONFIG_BYTES
                ),
            ));
        }
        let source = SourceFile {
            path: path.to_path_buf(),
            text: text.to_owned(),
        };
        let raw = config::parse_raw(&source)?;
        timings.parse = started.elapsed();
        let mut errors = ConfigError::new(Vec::new());
        if let Some(extra) = raw.routes.get(config::MAX_ROUTES) {
            errors.extend(ConfigError::new(vec![source.problem(
                extra.name.span(),
                format!(
                    "more than {} routes; this and later routes were not loaded",
                    config::MAX_ROUTES
                ),
            )]));
        }
        let mut extractors = Extractors {
            ahead: load_ahead(
                &raw.routes[..raw.routes.len().min(config::MAX_ROUTES)],
                base_dir,
                options,
            ),
            taken: HashMap::new(),
        };
        let mut regexes =
            RegexBudget::new(config::MAX_CONFIG_REGEXES, config::MAX_CONFIG_REGEX_BYTES);
        let mut routes: Vec<(Route, std::ops::Range<usize>)> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for raw_route in raw.routes.iter().take(config::MAX_ROUTES) {
            match build_route(
                raw_route,
                &source,
                base_dir,
                &mut extractors,
                options,
                &mut regexes,
                &mut timings.extractors,
            ) {
                Ok(route) => {
                    if names.insert(route.name.clone(), routes.len()).is_some() {
                        errors.extend(ConfigError::new(vec![source.problem(
                            raw_route.name.span(),
                            format!(
                                "route name `{}` is used twice; each route needs its own name (routes that feed one advertiser set `advertiser = \"...\"`)",
                                route.name
                            ),
                        )]));
                    }
                    routes.push((route, raw_route.name.span()));
                }
                Err(e) => errors.extend(e),
            }
        }
        let mut warnings = Vec::new();
        let (routes, spans): (Vec<Route>, Vec<_>) = routes.into_iter().unzip();
        tie_problems(&routes, &spans, &source, &mut errors, &mut warnings);
        warnings.extend(auth_warnings(&raw.auth, &routes, &source));
        for name in raw.settings.zero_caps() {
            errors.extend(ConfigError::new(vec![
                source.problem(0..0, format!("settings.{name} must be greater than 0")),
            ]));
        }
        let known = crate::sink::Filterable {
            advertisers: routes.iter().map(|r| r.advertiser.as_str()).collect(),
            routes: routes.iter().map(|r| r.name.as_str()).collect(),
        };
        let sinks = match crate::sink::build_sinks(&raw.sinks, &known, &source) {
            Ok(sinks) => sinks,
            Err(problems) => {
                errors.extend(ConfigError::new(problems));
                Vec::new()
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        timings.total = started.elapsed();
        Ok(Engine {
            load_timings: timings,
            sinks,
            settings: raw.settings,
            auth: raw.auth,
            router: Router::new(routes),
            warnings,
            config_path: path.to_path_buf(),
            fixtures_root: match raw.test.fixtures_root {
                Some(root) => base_dir.join(root),
                None => base_dir.to_path_buf(),
            },
        })
    }
}

fn build_route(
    raw: &RawRoute,
    source: &SourceFile,
    base_dir: &Path,
    extractors: &mut Extractors,
    options: &LoadOptions,
    regexes: &mut RegexBudget<Regex>,
    timings: &mut Vec<ExtractorTiming>,
) -> Result<Route, ConfigError> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty() {
        problems.push(source.problem(
            raw.name.span(),
            "a route needs a non-empty `name` (the advertiser)",
        ));
    }
    let advertiser = match &raw.advertiser {
        Some(a) if a.get_ref().trim().is_empty() => {
            problems.push(source.problem(
                a.span(),
                "`advertiser` must not be empty (leave it out to use the route's name)",
            ));
            name.clone()
        }
        Some(a) => a.get_ref().trim().to_owned(),
        None => name.clone(),
    };
    let sender = match (&raw.sender, &raw.sender_regex) {
        (Some(s), None) => SenderPattern::parse(s.get_ref())
            .map_err(|m| problems.push(source.problem(s.span(), m)))
            .ok(),
        (None, Some(r)) => compile_regex(regexes, r.get_ref(), "sender_regex")
            .map(SenderPattern::Regex)
            .map_err(|m| problems.push(source.problem(r.span(), m)))
            .ok(),
        (Some(s), Some(_)) => {
            problems
                .push(source.problem(s.span(), "give either `sender` or `sender_regex`, not both"));
            None
        }
        (None, None) => {
            problems.push(source.problem(
                raw.name.span(),
                format!("route `{name}` has no `sender` or `sender_regex`"),
            ));
            None
        }
    };
    let mut conditions = Vec::new();
    if let Some(s) = &raw.subject_contains {
        conditions.push(Condition::SubjectContains(s.get_ref().clone()));
    }
    if let Some(r) = &raw.subject_regex {
        match compile_regex(regexes, r.get_ref(), "subject_regex") {
            Ok(re) => conditions.push(Condition::SubjectRegex(re)),
            Err(m) => problems.push(source.problem(r.span(), m)),
        }
    }
    if let Some(h) = &raw.header_present {
        conditions.push(Condition::HeaderPresent(h.get_ref().clone()));
    }
    if let Some(hm) = &raw.header_matches {
        match compile_regex(regexes, hm.regex.get_ref(), "header_matches.regex") {
            Ok(re) => conditions.push(Condition::HeaderMatches(hm.name.get_ref().clone(), re)),
            Err(m) => problems.push(source.problem(hm.regex.span(), m)),
        }
    }
    let policy = match &raw.require_auth {
        None => Default::default(),
        Some(p) => config::parse_policy(p.get_ref()).unwrap_or_else(|| {
            problems.push(source.problem(
                p.span(),
                format!(
                    "unknown require_auth `{}`: expected one of dmarc, dkim, spf, none",
                    p.get_ref()
                ),
            ));
            Default::default()
        }),
    };
    let extractor = ExtractorKey::of(raw);
    let ExtractorKey { spec, limits, .. } = &extractor;
    if let Some(written) = &raw.limits {
        problems.extend(
            crate::loader::check_limits(spec, written.get_ref())
                .into_iter()
                .map(|m| source.problem(written.span(), m)),
        );
    }
    let extractor = match extractors.take(&extractor, base_dir, options, timings) {
        Ok(e) => Some(e),
        Err(failure) => {
            problems.push(source.problem(raw.extractor.span(), failure.message));
            let mut error = ConfigError::new(std::mem::take(&mut problems));
            if let Some(report) = failure.report {
                error = error.with_report(report);
            }
            return Err(error);
        }
    };
    match (sender, extractor) {
        (Some(sender), Some(extractor)) if problems.is_empty() => Ok(Route {
            name,
            advertiser,
            sender,
            conditions,
            priority: raw.priority,
            policy,
            extractor_spec: spec.clone(),
            extractor,
            settings: raw.settings.clone(),
            limits: *limits,
            tests: raw.tests.as_ref().map(|dir| base_dir.join(dir.get_ref())),
        }),
        _ => Err(ConfigError::new(problems)),
    }
}

/// The extractor a route names, and what it is cached under.
struct ExtractorKey {
    /// The route's `extractor` value, trimmed.
    spec: String,
    /// The route's limits.
    limits: RouteLimits,
    /// The key of [`Extractors`]: plugins and rule files carry per-route limits, so the same
    /// file under other limits is another extractor.
    key: String,
}

impl ExtractorKey {
    /// The extractor `raw` names.
    fn of(raw: &RawRoute) -> Self {
        let spec = raw.extractor.get_ref().trim().to_owned();
        let limits = raw
            .limits
            .as_ref()
            .map(|l| *l.get_ref())
            .unwrap_or_default();
        let key = if names_a_file(&spec) {
            format!("{spec}\u{0}{limits:?}")
        } else {
            spec.clone()
        };
        ExtractorKey { spec, limits, key }
    }
}

/// Whether `spec` names a plugin or rule file (loaded from disk, under the route's limits)
/// rather than a built-in.
fn names_a_file(spec: &str) -> bool {
    spec.ends_with(".wasm") || spec.ends_with(".rules")
}

/// Extractors loaded ahead of the routes, by [`ExtractorKey::key`], with how long each took.
type LoadedAhead = HashMap<String, (Result<Arc<dyn Extractor>, LoadFailure>, Duration)>;

/// Loads the distinct rule files and plugins `routes` name on all the cores the process may
/// use, before the routes are built one by one (which then take each from here, so errors and
/// timings still come in route order, as a sequential load gives them).
///
/// Loading one depends on nothing but its file, and it is most of a config's load: a config of
/// 20 routes spent about 24 ms of its 30 ms load compiling 14 rule files one after the other,
/// and most of the rest creating the plugin host (wasmtime's engine and pool, ~4.5 ms) for its
/// first plugin. That first plugin goes first, so the host is created while the rule files
/// compile; the other plugins go last (from the compile cache they take well under a
/// millisecond each, and they need the host).
fn load_ahead(routes: &[RawRoute], base_dir: &Path, options: &LoadOptions) -> LoadedAhead {
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<ExtractorKey> = routes
        .iter()
        .map(ExtractorKey::of)
        .filter(|e| names_a_file(&e.spec) && seen.insert(e.key.clone()))
        .collect();
    let (plugins, rule_files): (Vec<_>, Vec<_>) = distinct
        .into_iter()
        .partition(|e| e.spec.ends_with(".wasm"));
    let mut plugins = plugins.into_iter();
    let jobs: Vec<_> = (plugins.next().into_iter())
        .chain(rule_files)
        .chain(plugins)
        .collect();
    let load_one = |ExtractorKey { spec, limits, key }: &ExtractorKey| {
        let started = Instant::now();
        let loaded = crate::loader::load_extractor(spec, base_dir, limits, options);
        (key.clone(), (loaded, started.elapsed()))
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_LOAD_THREADS)
        .min(jobs.len());
    if workers <= 1 {
        return jobs.iter().map(load_one).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // What the loads log belongs to the caller's span (a Lambda host's config load, say).
    let span = tracing::Span::current();
    let work = || {
        let _in_span = span.enter();
        let mut done = Vec::new();
        while let Some(job) = jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            done.push(load_one(job));
        }
        done
    };
    std::thread::scope(|scope| {
        // This thread works too; the others are spawned (a spawn that fails leaves their share
        // to the threads that run).
        let spawned: Vec<_> = (1..workers)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut loaded: LoadedAhead = work().into_iter().collect();
        for handle in spawned {
            // A thread that panicked (a bug, not the file's) leaves its files to the routes,
            // which load them again themselves.
            if let Ok(done) = handle.join() {
                loaded.extend(done);
            }
        }
        loaded
    })
}

/// Threads [`load_ahead`] uses at most.
const MAX_LOAD_THREADS: usize = 8;

/// Runs `load`, noting how long it took under `spec`.
fn timed<T>(timings: &mut Vec<ExtractorTiming>, spec: &str, load: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let loaded = load();
    timings.push(ExtractorTiming {
        spec: spec.to_owned(),
        duration: started.elapsed(),
    });
    loaded
}

/// Warnings about an `[auth]` table that can never authenticate a mail while routes require it.
fn auth_warnings(auth: &AuthSettings, routes: &[Route], source: &SourceFile) -> Vec<ConfigProblem> {
    let requiring = routes
        .iter()
        .filter(|r| r.policy != crate::auth::AuthPolicy::None)
        .count();
    if requiring == 0 {
        return Vec::new();
    }
    let at = |key: &str| {
        let offset = source
            .text
            .match_indices(key)
            .find(|(i, _)| {
                source.text[..*i]
                    .rsplit('\n')
                    .next()
                    .is_some_and(|l| l.trim().is_empty())
            })
            .map_or(0, |(i, _)| i);
        offset..offset
    };
    let mut warnings = Vec::new();
    for (key, empty, why) in [
        (
            "trusted_receivers",
            auth.trusted_receivers.is_empty(),
            "no `Received:` header opens the receiver's trusted block",
        ),
        (
            "trusted_authserv_ids",
            auth.trusted_authserv_ids.is_empty(),
            "no `Authentication-Results` header is believed",
        ),
    ] {
        if empty {
            warnings.push(source.problem(
                at(key),
                format!(
                    "`[auth] {key}` is empty: {why}, so no mail can pass authentication and the {requiring} route{} with `require_auth` other than \"none\" will make only `unauthenticated` records; leave the key out for the default (docs/config.md)",
                    if requiring == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    warnings
}

/// Tie errors printed for regex routes before the rest are only counted.
const MAX_TIE_REPORTS: usize = 100;
/// Undecided pairs of regex routes warned about before the rest are only counted.
const MAX_UNDECIDED_REPORTS: usize = 20;
/// Route names a tie of address or domain routes lists before it counts the rest.
const MAX_TIE_NAMES: usize = 10;

/// Reports every tie among `routes` as an error, and every pair whose overlap the check could
/// not decide as a warning, in config order ([`crate::routing::check_ties`]).
fn tie_problems(
    routes: &[Route],
    spans: &[std::ops::Range<usize>],
    source: &SourceFile,
    errors: &mut ConfigError,
    warnings: &mut Vec<ConfigProblem>,
) {
    let check = crate::routing::check_ties(routes);
    let name = |i: usize| format!("`{}`", routes[i].name);
    let advice = "give one a higher `priority` or a further condition";
    let mut regex_ties = 0usize;
    for tie in &check.ties {
        let at = spans[tie.routes[1]].clone();
        let message = match &tie.example {
            Some(example) => {
                regex_ties += 1;
                if regex_ties > MAX_TIE_REPORTS {
                    continue;
                }
                format!(
                    "routes {} and {} tie: both `sender_regex` patterns match `{example}`, with the same priority and specificity; {advice}",
                    name(tie.routes[0]),
                    name(tie.routes[1])
                )
            }
            None if tie.routes.len() == 2 => format!(
                "routes {} and {} tie: both can match the same sender with the same priority and specificity; {advice}",
                name(tie.routes[0]),
                name(tie.routes[1])
            ),
            None => {
                let mut names: Vec<String> = tie
                    .routes
                    .iter()
                    .take(MAX_TIE_NAMES)
                    .map(|&i| name(i))
                    .collect();
                let more = tie.routes.len().saturating_sub(MAX_TIE_NAMES);
                let last = if more > 0 {
                    format!("{more} more")
                } else {
                    names.pop().unwrap_or_default()
                };
                format!(
                    "routes {} and {last} tie: all {} can match the same sender with the same priority and specificity; {advice}",
                    names.join(", "),
                    tie.routes.len()
                )
            }
        };
        errors.extend(ConfigError::new(vec![source.problem(at, message)]));
    }
    if regex_ties > MAX_TIE_REPORTS {
        errors.extend(ConfigError::new(vec![source.problem(
            0..0,
            format!(
                "{} more ties between `sender_regex` routes (the first {MAX_TIE_REPORTS} are shown)",
                regex_ties - MAX_TIE_REPORTS
            ),
        )]));
    }
    for pair in check.undecided.iter().take(MAX_UNDECIDED_REPORTS) {
        warnings.push(source.problem(
            spans[pair.second].clone(),
            format!(
                "routes {} and {} may tie: whether one address matches both `sender_regex` patterns was not decided ({}); when both match, the earlier route wins. Give one a higher `priority` to make the choice explicit",
                name(pair.first),
                name(pair.second),
                pair.why
            ),
        ));
    }
    let undecided_rest = check.undecided.len().saturating_sub(MAX_UNDECIDED_REPORTS) as u64;
    if undecided_rest + check.unchecked_pairs > 0 {
        warnings.push(source.problem(
            0..0,
            format!(
                "{} more pairs of `sender_regex` routes with the same rank were not decided or not checked for overlap (the check stops after {} pairs and a fixed amount of work); when two of them match one address, the earlier route wins",
                undecided_rest + check.unchecked_pairs,
                crate::routing::MAX_TIE_PAIRS
            ),
        ));
    }
}

/// Compiles a route's regex within the configuration's regex budget.
fn compile_regex(
    regexes: &mut RegexBudget<Regex>,
    pattern: &str,
    what: &str,
) -> Result<Regex, String> {
    regexes.compile(pattern).map_err(|e| match e {
        BudgetError::Invalid(RegexError::Syntax(message)) => format!(
            "invalid regex in `{what}`: {}",
            message.lines().last().unwrap_or("syntax error")
        ),
        other => format!("regex in `{what}` not accepted: {other}"),
    })
}
