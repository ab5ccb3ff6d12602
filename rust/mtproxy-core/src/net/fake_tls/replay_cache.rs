//! The replay cache: client randoms seen recently (keyed by their first 16
//! bytes), in arrival order. A hash set answers lookups; a FIFO of
//! `(key, insert time)` gives expiry and eviction order. Memory is bounded
//! by the entry limit fixed at creation.
use std::collections::{HashSet, VecDeque};

use super::ERR_ARG;

/// Seconds an entry lives after its insertion (2 × 86400).
pub const REPLAY_EXPIRY: i64 = 172_800;
/// Largest entry limit a cache may be created with.
pub const MAX_REPLAY_ENTRIES: usize = 1 << 22;

/// A bounded set of recently seen client-random prefixes.
#[derive(Debug, Clone)]
pub struct ReplayCache {
    max_entries: usize,
    keys: HashSet<[u8; 16]>,
    by_age: VecDeque<([u8; 16], i64)>,
}

impl ReplayCache {
    /// An empty cache holding at most `max_entries` (1..=[`MAX_REPLAY_ENTRIES`],
    /// else `ERR_ARG`).
    pub fn new(max_entries: usize) -> Result<Self, i32> {
        if !(1..=MAX_REPLAY_ENTRIES).contains(&max_entries) {
            return Err(ERR_ARG);
        }
        Ok(ReplayCache {
            max_entries,
            keys: HashSet::new(),
            by_age: VecDeque::new(),
        })
    }

    /// Drops entries inserted at least [`REPLAY_EXPIRY`] seconds before `now`,
    /// oldest first, but always keeps one (its time bounds the timestamp
    /// rule).
    fn expire(&mut self, now: i64) {
        let Some(limit) = now.checked_sub(REPLAY_EXPIRY) else {
            return;
        };
        while self.by_age.len() > 1 && self.by_age.front().is_some_and(|&(_, t)| t <= limit) {
            if let Some((key, _)) = self.by_age.pop_front() {
                self.keys.remove(&key);
            }
        }
    }

    /// Whether `key` is in the cache at time `now` (expires old entries first).
    pub fn lookup(&mut self, key: &[u8; 16], now: i64) -> bool {
        self.expire(now);
        self.keys.contains(key)
    }

    /// Adds `key` with insert time `now` (expires old entries first, then
    /// evicts the oldest if full). A key already present is left as it is.
    pub fn insert(&mut self, key: &[u8; 16], now: i64) {
        self.expire(now);
        if self.keys.contains(key) {
            return;
        }
        if self.by_age.len() >= self.max_entries {
            if let Some((oldest, _)) = self.by_age.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        self.keys.insert(*key);
        self.by_age.push_back((*key, now));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.by_age.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.by_age.is_empty()
    }

    /// Insert time of the oldest entry, `None` if the cache is empty.
    pub fn oldest_time(&self) -> Option<i64> {
        self.by_age.front().map(|&(_, t)| t)
    }
}
