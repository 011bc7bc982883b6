//! The memory budget of the mail in flight: a batch of near-cap mails waits for memory instead
//! of exhausting it.
//!
//! Processing a mail of `n` bytes costs up to about [`PEAK_BYTES_PER_MAIL_BYTE`]` × n` bytes of
//! memory at its peak (the raw bytes, mail-parser's decoded parts, the text and HTML views, the
//! record), measured on near-cap mails (see `docs/deploy.md`, "Sizing"). Before a mail is
//! fetched, the handler reserves that much of the budget, using the size the event announces
//! (or the input cap when the event names none); the reservation is released when the record is
//! written. One mail larger than the whole budget still runs, alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Peak memory per byte of mail, measured (release build, `docs/deploy.md`) and rounded up.
pub const PEAK_BYTES_PER_MAIL_BYTE: u64 = 3;

/// Memory a mail needs besides its size-proportional part (parser, record, buffers).
pub const BYTES_PER_MAIL: u64 = 256 * 1024;

/// Permits are counted in KiB, so budgets up to 4 TiB fit the semaphore's `u32` requests.
const UNIT: u64 = 1024;

/// Bounds the memory that mail in flight may take in one execution environment.
#[derive(Debug)]
pub struct MemoryBudget {
    semaphore: Arc<Semaphore>,
    total_units: u32,
    in_use: Arc<AtomicU64>,
    peak: Arc<AtomicU64>,
}

/// A part of the budget, held while one mail is processed; released on drop.
#[derive(Debug)]
pub struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
    bytes: u64,
    in_use: Arc<AtomicU64>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.in_use.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl MemoryBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: u64) -> Self {
        let total_units = u32::try_from((bytes / UNIT).max(1024)).unwrap_or(u32::MAX);
        MemoryBudget {
            semaphore: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
            in_use: Arc::new(AtomicU64::new(0)),
            peak: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The memory a mail of `mail_bytes` bytes is expected to need at its peak.
    pub fn cost_of(mail_bytes: u64) -> u64 {
        mail_bytes
            .saturating_mul(PEAK_BYTES_PER_MAIL_BYTE)
            .saturating_add(BYTES_PER_MAIL)
    }

    /// Waits until `bytes` of the budget are free and reserves them. A request larger than the
    /// whole budget reserves all of it (the mail runs alone).
    pub async fn reserve(&self, bytes: u64) -> Reservation {
        let units = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_units);
        // The semaphore is never closed, so acquiring only fails if that invariant breaks; the
        // mail then runs without a permit rather than being lost.
        let permit = Arc::clone(&self.semaphore)
            .acquire_many_owned(units)
            .await
            .ok();
        let reserved = u64::from(units) * UNIT;
        let now = self.in_use.fetch_add(reserved, Ordering::Relaxed) + reserved;
        self.peak.fetch_max(now, Ordering::Relaxed);
        Reservation {
            _permit: permit,
            bytes: reserved,
            in_use: Arc::clone(&self.in_use),
        }
    }

    /// The whole budget in bytes.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total_units) * UNIT
    }

    /// The most bytes ever reserved at once (for tests and the cold-start log).
    pub fn peak_bytes(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_never_exceed_the_budget() {
        let budget = Arc::new(MemoryBudget::new(10 << 20));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let budget = Arc::clone(&budget);
            tasks.push(tokio::spawn(async move {
                let _r = budget.reserve(3 << 20).await;
                tokio::task::yield_now().await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(budget.peak_bytes() <= budget.total_bytes());
        assert!(budget.peak_bytes() >= 3 << 20);
        // A request over the whole budget still runs, alone.
        let all = budget.reserve(100 << 20).await;
        assert_eq!(budget.peak_bytes(), budget.total_bytes());
        drop(all);
    }
}
