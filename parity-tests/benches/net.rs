//! Protocol cores of net/: the obfuscated2 header against many secrets, and
//! client transport framing.
use criterion::{BenchmarkId, Criterion};
use parity_tests::{c, rust};
use std::hint::black_box;

/// Parse one header against n secrets whose last one matches (the worst
/// case: n SHA-256 + n AES blocks, one write-key derivation).
pub fn obfs2_header(crit: &mut Criterion) {
    use {c::obfs2 as co, rust::net::obfs2 as ro};
    let random: [u8; 64] = std::array::from_fn(|i| 0x40 + i as u8);
    let mut g = crit.benchmark_group("obfs2-header");
    for n in [1usize, 16, 256] {
        let secrets: Vec<[u8; 16]> = (0..n).map(|i| [i as u8 ^ 0x5a; 16]).collect();
        let last = secrets[n - 1];
        let header = ro::build_client_header(&random, Some(&last), ro::TAG_PADDED, 2)
            .unwrap()
            .header;
        let list = secrets.concat();
        let label = n.to_string();
        g.bench_with_input(BenchmarkId::new("c", &label), &list, |b, l| {
            b.iter(|| black_box(co::parse_header(black_box(&header), l, false).is_ok()))
        });
        g.bench_with_input(BenchmarkId::new("rust", &label), &list, |b, l| {
            b.iter(|| black_box(ro::parse_header(black_box(&header), l, false).is_ok()))
        });
    }
    g.finish();
}
