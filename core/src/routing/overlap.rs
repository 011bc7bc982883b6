//! Whether two `sender_regex` patterns can match the same address.
//!
//! Routes tie when they have the same rank and could match the same sender. For exact
//! addresses and domains that is equality of the pattern; for regexes it is the question
//! whether the intersection of two regular languages is empty, which is decidable: walk the
//! product of the two patterns' DFAs from their start states and look for a pair of states in
//! which both have matched. The DFAs are regex-automata's lazy DFAs, built as the walk goes,
//! under caps: states per pair, a cache per pattern, and a budget of transitions for the whole
//! configuration, so the check stays bounded for the largest configuration (4096 routes). A
//! pair the caps stop is neither a tie nor proven disjoint: the caller says so.

use std::collections::{HashMap, HashSet};

use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};

/// Product states explored for one pair of patterns before the pair is given up as undecided.
pub const MAX_PAIR_STATES: usize = 4096;
/// Transitions explored for all pairs of one configuration together; pairs left when it is
/// spent are not checked.
pub const MAX_TOTAL_TRANSITIONS: usize = 4_000_000;
/// Pairs of patterns checked in one configuration; further pairs are not checked.
pub const MAX_PAIRS: usize = 20_000;
/// Memory of one pattern's lazy DFA cache during a check, in bytes.
const CACHE_CAPACITY: usize = 1024 * 1024;

/// The outcome of one pair's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlap {
    /// No address matches both patterns.
    Disjoint,
    /// Both patterns match this address (a shortest one).
    Shared(String),
    /// The caps stopped the check; why.
    Unknown(&'static str),
}

/// One pattern, ready for overlap checks: its lazy DFA, or why it has none.
pub struct AddressAutomaton {
    dfa: Result<DFA, &'static str>,
}

impl AddressAutomaton {
    /// Builds the automaton of a `sender_regex` (matched, like the route, anywhere in the
    /// lower-cased address).
    pub fn new(pattern: &str) -> Self {
        let config = DFA::config()
            .match_kind(MatchKind::All)
            .cache_capacity(CACHE_CAPACITY)
            // Never clear the cache: state ids must stay valid for the whole walk. A pattern
            // that needs more states than the cache holds is undecided instead.
            .minimum_cache_clear_count(Some(0))
            .minimum_bytes_per_state(None)
            // A Unicode `\b` is handled by quitting on non-ASCII bytes; a walk that meets one
            // is undecided.
            .unicode_word_boundary(true);
        let dfa = DFA::builder()
            .configure(config)
            .build(pattern)
            .map_err(|_| "the pattern is too large for the overlap check");
        AddressAutomaton { dfa }
    }
}

/// One side of a product state: a DFA state, or "has matched" (a regex that matched a prefix
/// matches every longer address too, as routes search anywhere in the address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    At(LazyStateID),
    Matched,
}

/// Checks whether `a` and `b` can match one address, spending at most what is left of
/// `transitions` (decremented by what the check used).
pub fn overlap(a: &AddressAutomaton, b: &AddressAutomaton, transitions: &mut usize) -> Overlap {
    if *transitions == 0 {
        return Overlap::Unknown(BUDGET_SPENT);
    }
    let (a, b) = match (&a.dfa, &b.dfa) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(why), _) | (_, Err(why)) => return Overlap::Unknown(why),
    };
    let mut walk = Walk {
        a,
        b,
        cache_a: Cache::new(a),
        cache_b: Cache::new(b),
    };
    match walk.search(transitions) {
        Ok(Some(witness)) => Overlap::Shared(witness),
        Ok(None) => Overlap::Disjoint,
        Err(why) => Overlap::Unknown(why),
    }
}

struct Walk<'a> {
    a: &'a DFA,
    b: &'a DFA,
    cache_a: Cache,
    cache_b: Cache,
}

const BUDGET_SPENT: &str = "the configuration's overlap-check budget is spent";
const CACHE_FULL: &str = "the patterns need more automaton states than the check allows";
const QUIT: &str = "a Unicode word boundary next to non-ASCII text cannot be checked";

impl Walk<'_> {
    /// Breadth-first over product states; a shortest shared address when there is one.
    fn search(&mut self, transitions: &mut usize) -> Result<Option<String>, &'static str> {
        let config = start::Config::new().anchored(Anchored::No);
        let start_a = self
            .a
            .start_state(&mut self.cache_a, &config)
            .map_err(|_| CACHE_FULL)?;
        let start_b = self
            .b
            .start_state(&mut self.cache_b, &config)
            .map_err(|_| CACHE_FULL)?;
        let bytes = alphabet(self.a, self.b);
        // Every product state reached, with the state and byte it was reached from.
        let mut nodes: Vec<((Side, Side), usize, u8)> =
            vec![((Side::At(start_a), Side::At(start_b)), usize::MAX, 0)];
        let mut seen: HashSet<(Side, Side)> = HashSet::new();
        seen.insert(nodes[0].0);
        let mut next = 0;
        while let Some(&((x, y), _, _)) = nodes.get(next) {
            if self.matches_at_end(x, true)? && self.matches_at_end(y, false)? {
                return Ok(Some(witness(&nodes, next)));
            }
            for &byte in &bytes {
                if *transitions == 0 {
                    return Err(BUDGET_SPENT);
                }
                *transitions -= 1;
                let (Some(x2), Some(y2)) = (self.step(x, byte, true)?, self.step(y, byte, false)?)
                else {
                    continue;
                };
                if !seen.insert((x2, y2)) {
                    continue;
                }
                nodes.push(((x2, y2), next, byte));
                if x2 == Side::Matched && y2 == Side::Matched {
                    return Ok(Some(witness(&nodes, nodes.len() - 1)));
                }
                if nodes.len() > MAX_PAIR_STATES {
                    return Err(CACHE_FULL);
                }
            }
            next += 1;
        }
        Ok(None)
    }

    /// The side after reading `byte`; `None` when that pattern can no longer match.
    fn step(&mut self, side: Side, byte: u8, first: bool) -> Result<Option<Side>, &'static str> {
        let Side::At(state) = side else {
            return Ok(Some(Side::Matched));
        };
        let (dfa, cache) = if first {
            (self.a, &mut self.cache_a)
        } else {
            (self.b, &mut self.cache_b)
        };
        let next = dfa.next_state(cache, state, byte).map_err(|_| CACHE_FULL)?;
        Ok(if next.is_match() {
            // Matches are reported one byte late: a match ended before `byte`.
            Some(Side::Matched)
        } else if next.is_dead() {
            None
        } else if next.is_quit() {
            return Err(QUIT);
        } else {
            Some(Side::At(next))
        })
    }

    /// Whether the pattern has matched once the address ends here.
    fn matches_at_end(&mut self, side: Side, first: bool) -> Result<bool, &'static str> {
        let Side::At(state) = side else {
            return Ok(true);
        };
        let (dfa, cache) = if first {
            (self.a, &mut self.cache_a)
        } else {
            (self.b, &mut self.cache_b)
        };
        let end = dfa.next_eoi_state(cache, state).map_err(|_| CACHE_FULL)?;
        if end.is_quit() {
            return Err(QUIT);
        }
        Ok(end.is_match())
    }
}

/// One byte for each combination of the two patterns' byte classes, the most address-like
/// byte of each, never an ASCII capital (routing lower-cases the address first).
fn alphabet(a: &DFA, b: &DFA) -> Vec<u8> {
    let (classes_a, classes_b) = (a.byte_classes(), b.byte_classes());
    let preference = |byte: u8| match byte {
        b'a'..=b'z' | b'0'..=b'9' => 0,
        b'.' | b'@' | b'-' | b'_' | b'+' => 1,
        0x21..=0x7e => 2,
        _ => 3,
    };
    let mut chosen: HashMap<(u8, u8), u8> = HashMap::new();
    for byte in 0..=255u8 {
        if byte.is_ascii_uppercase() {
            continue;
        }
        let key = (classes_a.get(byte), classes_b.get(byte));
        chosen
            .entry(key)
            .and_modify(|best| {
                if preference(byte) < preference(*best) {
                    *best = byte;
                }
            })
            .or_insert(byte);
    }
    let mut bytes: Vec<u8> = chosen.into_values().collect();
    bytes.sort_by_key(|&b| (preference(b), b));
    bytes
}

/// The address spelled by the path to `node`, shown with escapes where it is not printable.
fn witness(nodes: &[((Side, Side), usize, u8)], mut node: usize) -> String {
    let mut bytes = Vec::new();
    while node != 0 {
        let (_, parent, byte) = nodes[node];
        bytes.push(byte);
        node = parent;
    }
    bytes.reverse();
    String::from_utf8_lossy(&bytes).escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: &str, b: &str) -> Overlap {
        let mut budget = MAX_TOTAL_TRANSITIONS;
        overlap(
            &AddressAutomaton::new(a),
            &AddressAutomaton::new(b),
            &mut budget,
        )
    }

    #[test]
    fn anchored_literals_are_disjoint() {
        assert_eq!(
            check(r"^a@one\.example$", r"^b@two\.example$"),
            Overlap::Disjoint
        );
        assert_eq!(
            check(r"^(a|b)@one\.example$", r"^(c|d)@one\.example$"),
            Overlap::Disjoint
        );
        assert_eq!(
            check(r"^leads-\d+@x\.example$", r"^leads-[a-z]+@x\.example$"),
            Overlap::Disjoint
        );
    }

    #[test]
    fn overlapping_patterns_give_a_shortest_witness() {
        assert_eq!(
            check(r"^a@one\.example$", r"@one\.example$"),
            Overlap::Shared("a@one.example".to_owned())
        );
        // Unanchored patterns match anywhere: `x` and `y` share `xy`.
        assert_eq!(check("x", "y"), Overlap::Shared("xy".to_owned()));
        assert_eq!(
            check(r"^leads-\d+@x\.example$", r"^leads-1\d*@x\.example$"),
            Overlap::Shared("leads-1@x.example".to_owned())
        );
    }

    #[test]
    fn capitals_never_reach_a_route() {
        // Addresses are lower-cased before routing, so a pattern that needs a capital letter
        // matches nothing.
        assert_eq!(check("^A@x$", "^A@x$"), Overlap::Disjoint);
    }

    #[test]
    fn the_budget_makes_a_pair_undecided() {
        let mut budget = 10;
        let a = AddressAutomaton::new(r"^[a-z]{20}@x\.example$");
        let b = AddressAutomaton::new(r"^[a-z]{19}b@x\.example$");
        assert!(matches!(overlap(&a, &b, &mut budget), Overlap::Unknown(_)));
        assert_eq!(budget, 0);
    }
}
