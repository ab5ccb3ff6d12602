//! Helpers for the differential tests: the two implementations of a module
//! are `mtproxy_core::…` (Rust) and `mtproxy_sys::cref::…` (the C copy linked
//! by this crate's build script).
#![forbid(unsafe_code)]

use proptest::prelude::*;

pub use mtproxy_core as rust;
pub use mtproxy_sys::cref as c;

/// Proptest configuration for the differential suites: `PROPTEST_CASES`
/// (default 256) scales every suite at once, so CI tiers can differ.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Random bytes up to `max` long.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max)
}

/// Split `data` into consecutive chunks at sizes drawn from `cuts` (a list of
/// arbitrary numbers taken modulo what is left, so every chunking of the input
/// is reachable; a zero becomes an empty chunk).
pub fn chunked<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let n = c % (rest.len() + 1);
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

/// A byte buffer plus a chunking of it.
pub fn chunked_bytes(max: usize) -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (bytes(max), proptest::collection::vec(any::<usize>(), 0..12))
}
