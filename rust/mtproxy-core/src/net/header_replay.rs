//! Replay protection for obfuscated2 headers (Rust-only; ARCHITECTURE.md,
//! "Rust-only features"): a bounded set of digests of the 64-byte headers
//! already accepted. A header is random per connection (docs/PROTOCOL.md
//! §1.2), so the same 64 bytes twice mean a recorded connection being
//! replayed, the active probe that identifies proxies.
//!
//! Memory bound: `capacity` entries of [`DIGEST_LEN`] bytes, each held
//! twice (the set and the eviction order), plus the hash set's overhead:
//! about 48 bytes per entry, so the proxy's 262,144 entries take about
//! 12 MiB at most. When full, the oldest digest is forgotten.

use crate::common::sha256::sha256;
use std::collections::{HashSet, VecDeque};

/// Bytes of SHA-256 kept per header.
pub const DIGEST_LEN: usize = 16;

/// The digest a header is remembered by: the first 16 bytes of its SHA-256.
pub fn digest(header: &[u8]) -> [u8; DIGEST_LEN] {
    let full = sha256(header);
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// A bounded first-in first-out set of header digests.
#[derive(Debug)]
pub struct HeaderReplayCache {
    capacity: usize,
    seen: HashSet<[u8; DIGEST_LEN]>,
    order: VecDeque<[u8; DIGEST_LEN]>,
}

impl HeaderReplayCache {
    /// An empty cache holding at most `capacity` digests (at least one).
    pub fn new(capacity: usize) -> HeaderReplayCache {
        HeaderReplayCache {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `header`; `false` if it was already there (a replay).
    pub fn check_and_insert(&mut self, header: &[u8]) -> bool {
        self.insert_digest(digest(header))
    }

    /// Records a header by its [`digest`] (one another proxy instance
    /// accepted); `false` if it was already there.
    pub fn insert_digest(&mut self, d: [u8; DIGEST_LEN]) -> bool {
        if self.seen.contains(&d) {
            return false;
        }
        if self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(d);
        self.order.push_back(d);
        true
    }

    /// Digests held now (never above the capacity).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(i: u32) -> [u8; 64] {
        let mut h = [7u8; 64];
        h[..4].copy_from_slice(&i.to_le_bytes());
        h
    }

    #[test]
    fn a_header_is_accepted_once() {
        let mut cache = HeaderReplayCache::new(8);
        assert!(cache.check_and_insert(&header(1)));
        assert!(!cache.check_and_insert(&header(1)));
        assert!(cache.check_and_insert(&header(2)));
        assert_eq!(cache.len(), 2);
        // A digest from elsewhere makes its header a replay here.
        assert!(cache.insert_digest(digest(&header(3))));
        assert!(!cache.check_and_insert(&header(3)));
        assert!(!cache.insert_digest(digest(&header(1))));
    }

    #[test]
    fn more_headers_than_the_bound_keep_the_size_at_the_bound() {
        let mut cache = HeaderReplayCache::new(100);
        for i in 0..1000 {
            assert!(cache.check_and_insert(&header(i)));
            assert!(cache.len() <= 100);
            assert_eq!(cache.seen.len(), cache.order.len());
        }
        assert_eq!(cache.len(), 100);
        // The newest are remembered, the oldest forgotten.
        assert!(!cache.check_and_insert(&header(999)));
        assert!(cache.check_and_insert(&header(0)));
        assert_eq!(cache.len(), 100);
    }
}
