//! [`BudgetedRegex`]: regex searches that stop when the run's [`Budget`] is spent.
//!
//! The `regex` crate runs in linear time, but one search cannot be interrupted, and its slowest
//! engine (the PikeVM, which it falls back to for Unicode `\b` on non-ASCII text or when its lazy
//! DFA thrashes) runs at well under 1 MB/s on hostile patterns: a 39 MB haystack takes minutes.
//! So mailex drives the lazy DFA of `regex-automata` (the engine inside `regex`) itself, a chunk
//! of bytes at a time, charging the budget between chunks:
//!
//! 1. the forward lazy DFA finds where the leftmost-first match ends (it never gives up: a
//!    thrashing cache is only slower, and still checked);
//! 2. the reverse lazy DFA, anchored at that end, finds where it starts;
//! 3. only when groups are asked for does a capturing engine (the bounded backtracker, or the
//!    PikeVM for a long span) run, anchored on that match's span (short in practice).
//!
//! All three run on NFAs compiled once per pattern from one parse: the forward NFA (with its
//! groups) serves the forward lazy DFA and the capturing engines, the reverse NFA the reverse
//! lazy DFA. (The `regex` crate's meta engine would compile both NFAs a second time, plus a
//! one-pass DFA and a literal prefilter: about half of a configuration's load time.)
//!
//! The results are those of the `regex` crate (same syntax, leftmost-first semantics, UTF-8
//! empty-match rules). The one search the lazy DFA cannot do is a Unicode `\b` next to a
//! non-ASCII byte; that search, and a capture over a long span, run on the PikeVM only if their worst case ([`PIKEVM_NS_PER_STATE_BYTE`] per NFA state and byte) fits
//! the time left; otherwise the budget fails with [`Exceeded::Time`] at once, before the
//! deadline rather than after it.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use regex_automata::hybrid;
use regex_automata::nfa::thompson::{self, NFA, WhichCaptures, backtrack, pikevm};
use regex_automata::util::captures::Captures;
use regex_automata::util::iter::Searcher;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, Match, MatchError, MatchKind, PatternID};

use super::{Group, MAX_PATTERN_LEN, REGEX_DFA_SIZE_LIMIT, REGEX_SIZE_LIMIT, RegexError};
use crate::budget::{Budget, CLOCK_STRIDE, Exceeded};

/// Deepest nesting of groups and repetitions a pattern may have.
const NEST_LIMIT: u32 = 100;

/// Worst-case time of the `regex` crate's PikeVM per NFA state and haystack byte, measured on
/// hostile patterns (about 2.4 ns on a 2024 laptop core; rounded up).
pub const PIKEVM_NS_PER_STATE_BYTE: u64 = 3;

/// Compiled regex size (NFA bytes) compiled per millisecond, about: `regex-automata` compiles a
/// 2 MB program in about 55 ms on a 2024 laptop core; rounded down by half for slower cores.
#[cfg_attr(
    not(feature = "plugins"),
    allow(dead_code, reason = "only the plugin host uses it")
)]
pub const COMPILE_BYTES_PER_MS: usize = 16 * 1024;

/// Largest lazy-DFA cache kept for the next search.
const POOLED_CACHE_BYTES: usize = 256 * 1024;

/// Work units charged per haystack byte and per 64 NFA states: the cost of one lazy-DFA step
/// grows with the NFA when the DFA must build a new state.
const STATES_PER_UNIT: usize = 64;

/// A compiled regex whose searches draw from a [`Budget`].
pub struct BudgetedRegex {
    pattern: Arc<str>,
    groups: GroupEngines,
    dfa: Option<LazyDfa>,
}

/// The engines that report groups (and search where the lazy DFA cannot), on the forward NFA,
/// with pools of their caches.
struct GroupEngines {
    nfa: NFA,
    backtrack: backtrack::BoundedBacktracker,
    backtrack_caches: Mutex<Vec<backtrack::Cache>>,
    pikevm: pikevm::PikeVM,
    pikevm_caches: Mutex<Vec<pikevm::Cache>>,
}

/// The lazy DFAs (forward and reverse) and a pool of their caches.
struct LazyDfa {
    regex: hybrid::regex::Regex,
    caches: Mutex<Vec<hybrid::regex::Cache>>,
    nfa_states: usize,
}

impl std::fmt::Debug for BudgetedRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BudgetedRegex").field(&self.pattern).finish()
    }
}

/// How a lazy-DFA search ended.
enum Scan<T> {
    /// It answered.
    Done(T),
    /// It met a byte it cannot handle (a Unicode `\b` next to non-ASCII).
    Quit,
}

impl BudgetedRegex {
    /// Compiles `pattern` with the crate's limits ([`MAX_PATTERN_LEN`], [`REGEX_SIZE_LIMIT`],
    /// [`REGEX_DFA_SIZE_LIMIT`], nesting 100): one forward and one reverse NFA, and the lazy
    /// DFAs and capturing engines on them, so a search never compiles anything.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        Self::build(pattern, REGEX_SIZE_LIMIT)
    }

    /// [`BudgetedRegex::new`] for a pattern that arrives during a run (a plugin's host call):
    /// compiling cannot be interrupted, and its time grows with the compiled size, so the size
    /// limit shrinks to what the time left can compile ([`COMPILE_BYTES_PER_MS`]). A pattern
    /// too big for the time left fails the budget ([`Exceeded::Time`]) before the deadline.
    #[cfg_attr(
        not(feature = "plugins"),
        allow(dead_code, reason = "only the plugin host uses it")
    )]
    pub fn new_within(pattern: &str, budget: &Budget) -> Result<Self, RegexError> {
        budget.check()?;
        let affordable = budget
            .remaining_time()
            .as_micros()
            .saturating_mul(COMPILE_BYTES_PER_MS as u128)
            / 1000
            // Two compilations: the forward and the reverse NFA.
            / 2;
        let limit = usize::try_from(affordable)
            .unwrap_or(usize::MAX)
            .min(REGEX_SIZE_LIMIT);
        match Self::build(pattern, limit) {
            Err(RegexError::TooBig { .. }) if limit < REGEX_SIZE_LIMIT => {
                Err(budget.fail(Exceeded::Time).into())
            }
            built => {
                budget.work(pattern.len() as u64)?;
                built
            }
        }
    }

    /// [`BudgetedRegex::new`] with the compiled size limited to `size_limit` bytes, and the
    /// memory of its forward program (what a file's regex budget charges), when the lazy DFA
    /// was built.
    pub(crate) fn new_measured(
        pattern: &str,
        size_limit: usize,
    ) -> Result<(Self, usize), RegexError> {
        let built = Self::build(pattern, size_limit)?;
        let size = built.groups.nfa.memory_usage();
        Ok((built, size))
    }

    fn build(pattern: &str, size_limit: usize) -> Result<Self, RegexError> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(RegexError::PatternTooLong);
        }
        let hir = syntax::parse_with(pattern, &syntax_config())
            .map_err(|e| RegexError::Syntax(e.to_string()))?;
        // What the `regex` crate's meta engine configures for its own NFAs.
        let nfa_config = thompson::Config::new()
            .utf8(true)
            .shrink(false)
            .nfa_size_limit(Some(size_limit));
        let compile = |config: thompson::Config| {
            thompson::Compiler::new()
                .configure(config)
                .build_from_hir(&hir)
                .map_err(|e| match e.size_limit() {
                    Some(limit) => RegexError::TooBig { limit },
                    None => RegexError::Syntax(e.to_string()),
                })
        };
        let forward = compile(nfa_config.clone().which_captures(WhichCaptures::All))?;
        let reverse = compile(nfa_config.which_captures(WhichCaptures::None).reverse(true))?;
        let groups = GroupEngines::new(forward)?;
        let dfa = LazyDfa::new(&groups.nfa, reverse);
        Ok(BudgetedRegex {
            pattern: Arc::from(pattern),
            groups,
            dfa,
        })
    }

    /// Number of groups, counting group 0 (the whole match).
    pub fn captures_len(&self) -> usize {
        self.groups.nfa.group_info().group_len(PatternID::ZERO)
    }

    /// Names of the groups, in order (`None` for unnamed ones, including group 0).
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.groups.nfa.group_info().pattern_names(PatternID::ZERO)
    }

    /// Resolves `group` to an index, checking that it exists.
    pub fn group_index(&self, group: Group<'_>) -> Result<usize, RegexError> {
        let by_name = |name: &str| self.capture_names().position(|n| n == Some(name));
        match group {
            Group::Auto => Ok(by_name("v").unwrap_or(if self.captures_len() > 1 { 1 } else { 0 })),
            #[cfg(test)]
            Group::Index(i) if i < self.captures_len() => Ok(i),
            #[cfg(test)]
            Group::Index(i) => Err(RegexError::NoSuchGroup(i.to_string())),
            Group::Name(name) => {
                by_name(name).ok_or_else(|| RegexError::NoSuchGroup(name.to_owned()))
            }
        }
    }

    /// Whether the pattern matches anywhere in `hay`.
    pub fn is_match(&self, hay: &str, budget: &Budget) -> Result<bool, Exceeded> {
        Ok(self
            .find_in(&Input::new(hay).earliest(true), budget)?
            .is_some())
    }

    /// The first (leftmost-first) match in `hay`.
    #[cfg(test)]
    pub fn find(&self, hay: &str, budget: &Budget) -> Result<Option<Range<usize>>, Exceeded> {
        Ok(self.find_in(&Input::new(hay), budget)?.map(|m| m.range()))
    }

    /// The span of group `group` (an index, see [`group_index`](Self::group_index)) in the
    /// first match; `None` when nothing matches or the group did not take part.
    pub fn capture(
        &self,
        hay: &str,
        group: usize,
        budget: &Budget,
    ) -> Result<Option<Range<usize>>, Exceeded> {
        let Some(m) = self.find_in(&Input::new(hay), budget)? else {
            return Ok(None);
        };
        if group == 0 {
            return Ok(Some(m.range()));
        }
        Ok(self
            .groups_at(hay, m.range(), budget)?
            .get(group)
            .cloned()
            .flatten())
    }

    /// The spans of every group of the first match (group 0 first); `None` when nothing matches.
    #[cfg_attr(
        not(feature = "plugins"),
        allow(dead_code, reason = "only the plugin host uses it")
    )]
    pub fn captures(
        &self,
        hay: &str,
        budget: &Budget,
    ) -> Result<Option<Vec<Option<Range<usize>>>>, Exceeded> {
        match self.find_in(&Input::new(hay), budget)? {
            Some(m) => self.groups_at(hay, m.range(), budget).map(Some),
            None => Ok(None),
        }
    }

    /// Calls `each` with every non-overlapping match, in order, until it returns `false`.
    #[cfg_attr(
        not(feature = "plugins"),
        allow(dead_code, reason = "only the plugin host uses it")
    )]
    pub fn for_each_match(
        &self,
        hay: &str,
        budget: &Budget,
        mut each: impl FnMut(Range<usize>) -> bool,
    ) -> Result<(), Exceeded> {
        let mut searcher = Searcher::new(Input::new(hay));
        let mut stopped: Option<Exceeded> = None;
        loop {
            let next = searcher.try_advance(|input| {
                self.find_in(input, budget).map_err(|e| {
                    stopped = Some(e);
                    MatchError::gave_up(input.start())
                })
            });
            match next {
                Ok(Some(m)) => {
                    if !each(m.range()) {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(_) => return Err(stopped.unwrap_or_else(|| budget.fail(Exceeded::Time))),
            }
        }
    }

    /// The spans of every group of the match at `span` (one that [`find`](Self::find) or
    /// [`for_each_match`](Self::for_each_match) reported), group 0 first: the bounded
    /// backtracker (the PikeVM on a span too long for it), anchored on the match's span.
    pub fn groups_at(
        &self,
        hay: &str,
        span: Range<usize>,
        budget: &Budget,
    ) -> Result<Vec<Option<Range<usize>>>, Exceeded> {
        let states = self.lazy_dfa().map_or(1 << 14, |d| d.nfa_states);
        admit_uninterruptible(span.len(), states, budget)?;
        let input = Input::new(hay).span(span).anchored(Anchored::Yes);
        let caps = self.groups.captures(&input);
        let groups: Vec<Option<Range<usize>>> = (0..self.captures_len())
            .map(|i| caps.get_group(i).map(|s| s.range()))
            .collect();
        budget.charge((groups.len() * std::mem::size_of::<Option<Range<usize>>>()) as u64)?;
        Ok(groups)
    }

    /// The lazy DFAs; `None` if they could not be built, and every search then goes to the
    /// PikeVM, gated.
    fn lazy_dfa(&self) -> Option<&LazyDfa> {
        self.dfa.as_ref()
    }

    /// The leftmost-first match in `input`'s span (the `regex` crate's result), searched on the
    /// lazy DFA with budget checks; falls back to the PikeVM where the DFA quits.
    fn find_in(&self, input: &Input<'_>, budget: &Budget) -> Result<Option<Match>, Exceeded> {
        budget.check()?;
        if input.is_done() {
            return Ok(None);
        }
        let Some(dfa) = self.lazy_dfa() else {
            admit_uninterruptible(input.get_span().len(), 1 << 14, budget)?;
            return Ok(self.groups.search(input));
        };
        let mut cache = dfa
            .caches
            .lock()
            .pop()
            .unwrap_or_else(|| dfa.regex.create_cache());
        let found = self.find_on_dfa(dfa, &mut cache, input, budget);
        // The DFA's states are the search's working memory, bounded by the cache capacity
        // (twice: forward and reverse) and not charged. Only small caches go back to the pool,
        // so idle regexes do not keep megabytes each.
        if cache.memory_usage() <= POOLED_CACHE_BYTES {
            dfa.caches.lock().push(cache);
        }
        match found? {
            Scan::Done(m) => Ok(m),
            Scan::Quit => {
                admit_uninterruptible(input.get_span().len(), dfa.nfa_states, budget)?;
                Ok(self.groups.search(input))
            }
        }
    }

    fn find_on_dfa(
        &self,
        dfa: &LazyDfa,
        cache: &mut hybrid::regex::Cache,
        input: &Input<'_>,
        budget: &Budget,
    ) -> Result<Scan<Option<Match>>, Exceeded> {
        let units = 1 + (dfa.nfa_states / STATES_PER_UNIT) as u64;
        let chunk = usize::try_from((CLOCK_STRIDE / units).max(16)).unwrap_or(16);
        let mut input = input.clone();
        loop {
            let (fwd_cache, rev_cache) = cache.as_parts_mut();
            let steps = (Direction::Forward, chunk, units);
            let end = match scan(dfa.regex.forward(), fwd_cache, &input, budget, steps)? {
                Scan::Quit => return Ok(Scan::Quit),
                Scan::Done(None) => return Ok(Scan::Done(None)),
                Scan::Done(Some(end)) => end,
            };
            let start = if input.get_earliest() {
                // Only whether there is a match counts; its start does not.
                end
            } else {
                let rev_input = input
                    .clone()
                    .span(input.start()..end)
                    .anchored(Anchored::Yes)
                    .earliest(false);
                let steps = (Direction::Reverse, chunk, units);
                match scan(dfa.regex.reverse(), rev_cache, &rev_input, budget, steps)? {
                    Scan::Quit => return Ok(Scan::Quit),
                    Scan::Done(Some(start)) => start,
                    // The reverse DFA always finds the start of a match the forward one found.
                    Scan::Done(None) => return Ok(Scan::Quit),
                }
            };
            let m = Match::must(0, start..end);
            if !m.is_empty() || is_char_boundary(input.haystack(), end) {
                return Ok(Scan::Done(Some(m)));
            }
            // An empty match may not split a character (the `regex` crate's rule): search on
            // from the next byte, unless the search was anchored.
            if input.get_anchored().is_anchored() || input.start() >= input.end() {
                return Ok(Scan::Done(None));
            }
            input.set_start(input.start() + 1);
        }
    }
}

impl GroupEngines {
    fn new(nfa: NFA) -> Result<Self, RegexError> {
        let engine_error =
            |e: regex_automata::nfa::thompson::BuildError| RegexError::Syntax(e.to_string());
        Ok(GroupEngines {
            backtrack: backtrack::BoundedBacktracker::new_from_nfa(nfa.clone())
                .map_err(engine_error)?,
            backtrack_caches: Mutex::new(Vec::new()),
            pikevm: pikevm::PikeVM::new_from_nfa(nfa.clone()).map_err(engine_error)?,
            pikevm_caches: Mutex::new(Vec::new()),
            nfa,
        })
    }

    /// The groups of the first match in `input` (anchored on a match's span in practice).
    fn captures(&self, input: &Input<'_>) -> Captures {
        let mut caps = Captures::all(self.nfa.group_info().clone());
        if input.get_span().len() <= self.backtrack.max_haystack_len() {
            let mut cache = pop_or(&self.backtrack_caches, || self.backtrack.create_cache());
            let searched = self
                .backtrack
                .try_captures(&mut cache, input.clone(), &mut caps);
            if cache.memory_usage() <= POOLED_CACHE_BYTES {
                self.backtrack_caches.lock().push(cache);
            }
            // It only refuses a span longer than its limit, checked above.
            if searched.is_ok() {
                return caps;
            }
        }
        let mut cache = pop_or(&self.pikevm_caches, || self.pikevm.create_cache());
        self.pikevm.captures(&mut cache, input.clone(), &mut caps);
        if cache.memory_usage() <= POOLED_CACHE_BYTES {
            self.pikevm_caches.lock().push(cache);
        }
        caps
    }

    /// The leftmost-first match in `input`'s span, on the PikeVM.
    fn search(&self, input: &Input<'_>) -> Option<Match> {
        let mut cache = pop_or(&self.pikevm_caches, || self.pikevm.create_cache());
        let found = self.pikevm.find(&mut cache, input.clone());
        if cache.memory_usage() <= POOLED_CACHE_BYTES {
            self.pikevm_caches.lock().push(cache);
        }
        found
    }
}

impl LazyDfa {
    /// The forward and reverse lazy DFAs on `forward` (shared with the capturing engines) and
    /// `reverse`; `None` if either cannot be built.
    fn new(forward: &NFA, reverse: NFA) -> Option<Self> {
        let config = hybrid::dfa::Config::new()
            .cache_capacity(REGEX_DFA_SIZE_LIMIT)
            .skip_cache_capacity_check(true)
            .minimum_cache_clear_count(None)
            .unicode_word_boundary(true);
        let fwd = hybrid::dfa::Builder::new()
            .configure(config.clone().match_kind(MatchKind::LeftmostFirst))
            .build_from_nfa(forward.clone())
            .ok()?;
        // What `hybrid::regex::Builder` configures for its reverse DFA.
        let rev = hybrid::dfa::Builder::new()
            .configure(
                config
                    .prefilter(None)
                    .specialize_start_states(false)
                    .match_kind(MatchKind::All),
            )
            .build_from_nfa(reverse)
            .ok()?;
        Some(LazyDfa {
            nfa_states: forward.states().len().max(1),
            regex: hybrid::regex::Builder::new().build_from_dfas(fwd, rev),
            caches: Mutex::new(Vec::new()),
        })
    }
}

/// A cache from `pool`, or a new one.
fn pop_or<C>(pool: &Mutex<Vec<C>>, new: impl FnOnce() -> C) -> C {
    pool.lock().pop().unwrap_or_else(new)
}

/// Whether `at` is a character boundary of `hay`, a UTF-8 string (every haystack here is a
/// `str`): not inside a multi-byte sequence.
fn is_char_boundary(hay: &[u8], at: usize) -> bool {
    hay.get(at).is_none_or(|&b| (b as i8) >= -0x40)
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new().utf8(true).nest_limit(NEST_LIMIT)
}

/// Runs an uninterruptible search over `len` bytes only if its worst case fits the time left.
fn admit_uninterruptible(len: usize, nfa_states: usize, budget: &Budget) -> Result<(), Exceeded> {
    budget.check()?;
    let worst_ns = (len as u64)
        .saturating_mul(nfa_states as u64)
        .saturating_mul(PIKEVM_NS_PER_STATE_BYTE);
    if Duration::from_nanos(worst_ns) > budget.remaining_time() {
        return Err(budget.fail(Exceeded::Time));
    }
    budget.work(len as u64)
}

/// Which way a lazy DFA steps through a span.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Left to right, from the span's start: matches end where the scan is.
    Forward,
    /// Right to left, from the span's end: matches start after where the scan is.
    Reverse,
}

/// Steps `dfa` by hand through `input`'s span in `direction`, `chunk` bytes at a time with a
/// budget check after each, and returns the last match offset it saw before the DFA died: for
/// the forward DFA (leftmost-first, unanchored) the end of the leftmost-first match (or of the
/// first match, for an `earliest` search); for the reverse DFA (anchored at the span's end,
/// all matches) the leftmost start of the match ending there.
fn scan(
    dfa: &hybrid::dfa::DFA,
    cache: &mut hybrid::dfa::Cache,
    input: &Input<'_>,
    budget: &Budget,
    (direction, chunk, units): (Direction, usize, u64),
) -> Result<Scan<Option<usize>>, Exceeded> {
    let hay = input.haystack();
    let (start, end) = (input.start(), input.end());
    let first = match direction {
        Direction::Forward => dfa.start_state_forward(cache, input),
        Direction::Reverse => dfa.start_state_reverse(cache, input),
    };
    let Ok(mut sid) = first else {
        return Ok(Scan::Quit);
    };
    let mut found = None;
    let mut done = 0;
    let len = end - start;
    while done < len {
        let stop = len.min(done.saturating_add(chunk));
        while done < stop {
            // Matches are reported one byte late: the offset is past the byte just read.
            let (at, offset) = match direction {
                Direction::Forward => (start + done, start + done),
                Direction::Reverse => (end - 1 - done, end - done),
            };
            sid = match dfa.next_state(cache, sid, hay[at]) {
                Ok(s) => s,
                Err(_) => return Ok(Scan::Quit),
            };
            if sid.is_tagged() {
                if sid.is_match() {
                    found = Some(offset);
                    if input.get_earliest() {
                        return Ok(Scan::Done(found));
                    }
                } else if sid.is_dead() {
                    return Ok(Scan::Done(found));
                } else if sid.is_quit() {
                    return Ok(Scan::Quit);
                }
            }
            done += 1;
        }
        budget.work(chunk as u64 * units)?;
    }
    // The edge of the span: the byte beyond it (look-around context), or the end of input.
    let (beyond, edge) = match direction {
        Direction::Forward => (hay.get(end).copied(), end),
        Direction::Reverse => (start.checked_sub(1).map(|i| hay[i]), start),
    };
    let last = match beyond {
        Some(b) => dfa.next_state(cache, sid, b),
        None => dfa.next_eoi_state(cache, sid),
    };
    sid = match last {
        Ok(s) => s,
        Err(_) => return Ok(Scan::Quit),
    };
    if sid.is_match() {
        found = Some(edge);
    } else if sid.is_quit() {
        return Ok(Scan::Quit);
    }
    Ok(Scan::Done(found))
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() -> Result<(), Box<dyn std::error::Error>> {
        use crate::budget::Budget;
        use crate::textops::BudgetedRegex;

        let re = BudgetedRegex::new(r"Phone:\s*(?P<v>[\d-]+)").unwrap();
        let text = "Name: Jane\nPhone: 202-555-0143\n";
        let budget = Budget::unlimited();
        let group = re.group_index(crate::textops::Group::Auto).unwrap();
        let span = re.capture(text, group, &budget).unwrap().unwrap();
        assert_eq!(&text[span], "202-555-0143");
        Ok(())
    }
}
