//! How much of a worker's time full secret searches may take (Rust-only,
//! with `--users`; README, "Users", floods of wrong secrets): a token
//! bucket the handshakes (handshake.rs) draw from.

use std::time::Instant;

/// With users, a wrong secret costs one trial per user (about 2 ms for
/// obfuscated2 and 5 ms for fake TLS at 10,000 users), so a flood of bad
/// handshakes could take a worker's whole time. Full searches may take
/// this share of a worker's time (per mille), with this much saved up;
/// past it a handshake tries only its address's last secret (a returning
/// client still gets in; a new one is refused like a wrong secret, and
/// counted in `secret_searches_skipped`) until time is earned again.
const SEARCH_SHARE_PER_MILLE: u64 = 250;
const SEARCH_BURST_NS: i64 = 100_000_000;

/// The time full secret searches may still take (negative: owed; a search
/// is only started with time left); see [`SEARCH_SHARE_PER_MILLE`].
pub(crate) struct SearchBudget {
    tokens_ns: i64,
    refilled: Instant,
}

impl SearchBudget {
    pub fn new() -> SearchBudget {
        SearchBudget {
            tokens_ns: SEARCH_BURST_NS,
            refilled: Instant::now(),
        }
    }

    pub fn available(&mut self) -> bool {
        let now = Instant::now();
        let wall = now.duration_since(self.refilled).as_nanos();
        let earned = wall.saturating_mul(u128::from(SEARCH_SHARE_PER_MILLE)) / 1000;
        let earned = i64::try_from(earned).unwrap_or(i64::MAX);
        self.tokens_ns = self.tokens_ns.saturating_add(earned).min(SEARCH_BURST_NS);
        self.refilled = now;
        self.tokens_ns > 0
    }

    pub fn charge(&mut self, since: Instant) {
        let spent = i64::try_from(since.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.tokens_ns = self.tokens_ns.saturating_sub(spent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_search_budget_is_owed_back_before_the_next_search() {
        let mut budget = SearchBudget::new();
        assert!(budget.available());
        let long_ago = Instant::now() - Duration::from_millis(200);
        budget.charge(long_ago);
        // 100 ms saved, 200 ms spent: 100 ms owed, repaid at a quarter of
        // the wall time, so not within the next microseconds.
        assert!(!budget.available());
        budget.refilled -= Duration::from_millis(404);
        assert!(budget.available(), "{} ns", budget.tokens_ns);
    }
}
