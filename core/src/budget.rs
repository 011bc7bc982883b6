//! The work budget of one extractor run: a deadline and a memory allowance that the shared
//! primitives check as they go.
//!
//! A route's limits (`[route.limits]`: `deadline_ms`, `memory_mib`) become one [`Budget`] per
//! email. Everything an extractor asks the host to do on its behalf draws from it: building the
//! HTML document for CSS selectors ([`crate::Email::html_document_within`]), selecting elements
//! and reading their text ([`crate::css`]), regex searches ([`crate::textops::BudgetedRegex`]),
//! ADF lookups, the strings a rule file's steps build and the results a plugin's host calls
//! return. A plugin's own linear memory is charged to the same allowance, so the cap covers the
//! guest and the host work done for it together.
//!
//! Checking is cheap: [`Budget::work`] counts work units (about one per byte or node visited)
//! and reads the clock only every [`CLOCK_STRIDE`] units, so a long scan notices a spent
//! deadline within microseconds. Once spent, a budget stays spent: every later check fails the
//! same way, so the run unwinds quickly to the extractor, which records the code.
//!
//! Memory is charged in two accounts: *retained* (views kept for the rest of the run: the HTML
//! document, the ADF document, a plugin's linear memory) and *scratch* (values of one
//! expression or one host call, released with [`Budget::release_scratch`] when they are gone).

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::record::IssueCode;

/// Work units between two reads of the clock in [`Budget::work`].
pub const CLOCK_STRIDE: u64 = 1 << 14;

/// Which allowance of a [`Budget`] ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Exceeded {
    /// The deadline passed.
    #[error("the time budget is spent")]
    Time,
    /// The memory allowance is spent.
    #[error("the memory budget is spent")]
    Memory,
}

impl Exceeded {
    /// The record code of a rule-file run that spent this allowance: `budget_time` or
    /// `budget_memory`. (A plugin's run records `plugin_deadline` or `plugin_memory`.)
    pub fn code(self) -> IssueCode {
        match self {
            Exceeded::Time => IssueCode::BudgetTime,
            Exceeded::Memory => IssueCode::BudgetMemory,
        }
    }
}

/// A deadline and a memory allowance for one extractor run on one email.
///
/// Not `Sync`: a budget belongs to the thread running the extractor (a plugin's host calls run
/// on the calling thread).
#[derive(Debug)]
pub struct Budget {
    started: Instant,
    time_limit: Duration,
    deadline: Option<Instant>,
    memory_limit: u64,
    retained: Cell<u64>,
    scratch: Cell<u64>,
    peak: Cell<u64>,
    pending_work: Cell<u64>,
    exceeded: Cell<Option<Exceeded>>,
}

impl Budget {
    /// A budget of `time` from now and `memory_bytes` of charged memory.
    pub fn new(time: Duration, memory_bytes: u64) -> Self {
        let started = Instant::now();
        Budget {
            started,
            time_limit: time,
            deadline: started.checked_add(time),
            memory_limit: memory_bytes,
            retained: Cell::new(0),
            scratch: Cell::new(0),
            peak: Cell::new(0),
            pending_work: Cell::new(0),
            exceeded: Cell::new(None),
        }
    }

    /// A budget that never runs out (for tools and tests that run an extractor outside a route).
    pub fn unlimited() -> Self {
        let mut budget = Budget::new(Duration::MAX, u64::MAX);
        budget.deadline = None;
        budget
    }

    /// The time allowance.
    pub fn time_limit(&self) -> Duration {
        self.time_limit
    }

    /// The memory allowance, in bytes.
    pub fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    /// Time since the budget was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Time left before the deadline (zero once it passed; `Duration::MAX` when unlimited).
    pub fn remaining_time(&self) -> Duration {
        match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }

    /// Bytes charged now (retained and scratch).
    pub fn used_bytes(&self) -> u64 {
        self.retained.get().saturating_add(self.scratch.get())
    }

    /// Bytes that can still be charged.
    pub fn remaining_bytes(&self) -> u64 {
        self.memory_limit.saturating_sub(self.used_bytes())
    }

    /// The most bytes charged at any one time.
    pub fn peak_bytes(&self) -> u64 {
        self.peak.get()
    }

    /// Which allowance ran out, if one did.
    pub fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded.get()
    }

    /// Records that `what` ran out (the first cause wins) and returns it as an error.
    pub fn fail(&self, what: Exceeded) -> Exceeded {
        match self.exceeded.get() {
            Some(first) => first,
            None => {
                self.exceeded.set(Some(what));
                what
            }
        }
    }

    /// Fails if the budget is spent: an earlier failure, or the deadline (reads the clock).
    pub fn check(&self) -> Result<(), Exceeded> {
        if let Some(e) = self.exceeded.get() {
            return Err(e);
        }
        self.pending_work.set(0);
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(self.fail(Exceeded::Time)),
            _ => Ok(()),
        }
    }

    /// Counts `units` of work (about one per byte or node visited) and reads the clock every
    /// [`CLOCK_STRIDE`] units.
    #[inline]
    pub fn work(&self, units: u64) -> Result<(), Exceeded> {
        let pending = self.pending_work.get().saturating_add(units);
        if pending >= CLOCK_STRIDE {
            return self.check();
        }
        if let Some(e) = self.exceeded.get() {
            return Err(e);
        }
        self.pending_work.set(pending);
        Ok(())
    }

    /// Charges `bytes` of scratch memory (values that live until
    /// [`release_scratch`](Budget::release_scratch)); also counts them as work.
    pub fn charge(&self, bytes: u64) -> Result<(), Exceeded> {
        self.add(&self.scratch, bytes)?;
        self.work(bytes)
    }

    /// Charges `bytes` of retained memory (views kept for the rest of the run).
    pub fn retain(&self, bytes: u64) -> Result<(), Exceeded> {
        self.add(&self.retained, bytes)
    }

    /// Whether `bytes` more would still fit, without charging them.
    pub fn fits(&self, bytes: u64) -> bool {
        self.used_bytes().saturating_add(bytes) <= self.memory_limit
    }

    /// Scratch bytes charged now: pass it to [`release_scratch`](Budget::release_scratch) to
    /// free what was charged after this point.
    pub fn scratch_mark(&self) -> u64 {
        self.scratch.get()
    }

    /// Releases the scratch memory charged since `mark` (the values it paid for are gone).
    pub fn release_scratch(&self, mark: u64) {
        self.scratch.set(self.scratch.get().min(mark));
    }

    fn add(&self, account: &Cell<u64>, bytes: u64) -> Result<(), Exceeded> {
        if let Some(e) = self.exceeded.get() {
            return Err(e);
        }
        let after = account.get().saturating_add(bytes);
        let other = self.used_bytes().saturating_sub(account.get());
        let total = after.saturating_add(other);
        if total > self.memory_limit {
            return Err(self.fail(Exceeded::Memory));
        }
        account.set(after);
        self.peak.set(self.peak.get().max(total));
        Ok(())
    }
}

/// A `String` that grows only while the budget allows: each push is charged as scratch
/// memory, and the text stops at `max_len` bytes (cut on a character boundary).
#[derive(Debug)]
pub struct CappedString<'b> {
    out: String,
    max_len: usize,
    budget: &'b Budget,
    full: bool,
}

impl<'b> CappedString<'b> {
    /// An empty string of at most `max_len` bytes, charged to `budget`.
    pub fn new(budget: &'b Budget, max_len: usize) -> Self {
        CappedString {
            out: String::new(),
            max_len,
            budget,
            full: false,
        }
    }

    /// Appends `s` (or as much of it as fits under `max_len`).
    pub fn push_str(&mut self, s: &str) -> Result<(), Exceeded> {
        if self.full {
            return self.budget.work(s.len() as u64);
        }
        let room = self.max_len - self.out.len();
        let take = if s.len() <= room {
            s.len()
        } else {
            self.full = true;
            floor_char_boundary(s, room)
        };
        self.budget.charge(take as u64)?;
        self.out.push_str(&s[..take]);
        Ok(())
    }

    /// Appends one character (if it fits).
    #[cfg(test)]
    pub fn push(&mut self, c: char) -> Result<(), Exceeded> {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf))
    }

    /// Whether the cap was reached (later text was dropped).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The text so far.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The text.
    pub fn into_string(self) -> String {
        self.out
    }
}

/// The largest index `<= max` that is a character boundary of `s`.
pub(crate) fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_runs_out_and_stays_out() {
        let budget = Budget::new(Duration::from_millis(5), u64::MAX);
        assert!(budget.check().is_ok());
        std::thread::sleep(Duration::from_millis(10));
        // `work` reads the clock only every CLOCK_STRIDE units.
        assert!(budget.work(1).is_ok());
        assert_eq!(budget.work(CLOCK_STRIDE), Err(Exceeded::Time));
        assert_eq!(budget.charge(1), Err(Exceeded::Time));
        assert_eq!(budget.exceeded(), Some(Exceeded::Time));
        assert_eq!(budget.remaining_time(), Duration::ZERO);
    }

    #[test]
    fn memory_accounts() {
        let budget = Budget::new(Duration::from_secs(60), 100);
        budget.retain(40).unwrap();
        let mark = budget.scratch_mark();
        budget.charge(50).unwrap();
        assert_eq!(budget.used_bytes(), 90);
        assert!(!budget.fits(11));
        budget.release_scratch(mark);
        assert_eq!(budget.used_bytes(), 40);
        budget.charge(60).unwrap();
        assert_eq!(budget.peak_bytes(), 100);
        assert_eq!(budget.charge(1), Err(Exceeded::Memory));
        assert_eq!(budget.check(), Err(Exceeded::Memory));
    }

    #[test]
    fn unlimited_never_runs_out() {
        let budget = Budget::unlimited();
        budget.retain(u64::MAX / 2).unwrap();
        budget.work(u64::MAX).unwrap();
        assert!(budget.check().is_ok());
        assert_eq!(budget.remaining_time(), Duration::MAX);
    }

    #[test]
    fn capped_strings_stop_at_the_cap_and_charge() {
        let budget = Budget::new(Duration::from_secs(60), 1000);
        let mut s = CappedString::new(&budget, 5);
        s.push_str("ab").unwrap();
        s.push_str("cdé").unwrap();
        assert!(s.is_full());
        s.push('x').unwrap();
        assert_eq!(s.as_str(), "abcd");
        assert_eq!(budget.used_bytes(), 4);
        let mut big = CappedString::new(&budget, 10_000);
        assert_eq!(big.push_str(&"x".repeat(2000)), Err(Exceeded::Memory));
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::budget::{Budget, Exceeded};
        use std::time::Duration;

        let budget = Budget::new(Duration::from_secs(1), 1024);
        assert!(budget.charge(1000).is_ok());
        assert_eq!(budget.charge(100), Err(Exceeded::Memory));
        assert_eq!(budget.exceeded(), Some(Exceeded::Memory));
        // Spent stays spent.
        assert_eq!(budget.work(1), Err(Exceeded::Memory));
    }
}
