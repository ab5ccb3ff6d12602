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

/// The edges of a length in `0..=max`: 0, 1, `max - 1`, `max`, and each of
/// `limits` with its neighbours (one below, itself, one above), clamped to
/// `0..=max`, sorted, without repeats.
pub fn edges(limits: &[usize], max: usize) -> Vec<usize> {
    let mut out = vec![0, 1, max.saturating_sub(1), max];
    for &l in limits {
        out.extend(
            [l.checked_sub(1), Some(l), l.checked_add(1)]
                .into_iter()
                .flatten(),
        );
    }
    out.retain(|&e| e <= max);
    out.sort_unstable();
    out.dedup();
    out
}

/// A length, count or size in `0..=max` drawn with weight on its edges: half
/// of the draws pick one of [`edges`] (0, 1, `max`, each limit −1/0/+1: the
/// protocol's limits and encoding switch points), the other half are uniform.
/// Off-by-one mistakes sit exactly there, and a uniform draw over a few
/// thousand values hits a given one only by luck.
pub fn boundary_len(limits: &[usize], max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => proptest::sample::select(edges(limits, max)),
        1 => 0..=max,
    ]
}

/// Random bytes whose length is drawn by [`boundary_len`].
pub fn boundary_bytes(limits: &[usize], max: usize) -> impl Strategy<Value = Vec<u8>> {
    boundary_len(limits, max).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
}

/// Multiples of `step` up to `max` (e.g. AES block edges), as limits for
/// [`boundary_len`].
pub fn multiples(step: usize, max: usize) -> Vec<usize> {
    (1..=max / step).map(|k| k * step).collect()
}

/// Random bytes up to `max` long; the length weighted on 0, 1, `max - 1`
/// and `max` (see [`boundary_len`]).
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    boundary_bytes(&[], max)
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

/// One side's results of a list of raw contract calls (the argument-check
/// tests), each checked against the contract's value as soon as it is
/// known: a wrong answer fails the test before a later call can crash a
/// mutant. The two sides' lists are compared afterwards.
#[derive(Debug)]
pub struct Calls(pub &'static str, pub Vec<(&'static str, i64)>);

impl Calls {
    pub fn check(&mut self, case: &'static str, got: impl TryInto<i64>, want: impl TryInto<i64>) {
        let got = got.try_into().ok().expect("a result that fits i64");
        let want = want
            .try_into()
            .ok()
            .expect("an expected value that fits i64");
        assert_eq!(got, want, "{}: {case}", self.0);
        self.1.push((case, got));
    }
}
