//! Fake-TLS ClientHello check: a valid 517-byte hello, one secret. Each side
//! cycles through the same 4096 distinct hellos with a 1024-entry replay
//! cache, so every check is a cache miss, an insert with eviction, one HMAC
//! and an accept: identical work on both sides.
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_tests::{c, rust};
use std::hint::black_box;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const NOW: i64 = 1_700_000_000;
const POOL: usize = 4096;

fn hellos() -> Vec<Vec<u8>> {
    (0..POOL)
        .map(|i| {
            let mut random = [0u8; 64];
            random[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let mut out = vec![0u8; 517];
            let n = rust::net::fake_tls::build_client_hello(
                &SECRET,
                b"example.com",
                NOW as u32,
                &random,
                517,
                &mut out,
            );
            assert_eq!(n, Ok(517));
            out
        })
        .collect()
}

macro_rules! bench_side {
    ($group:expr, $id:expr, $side:path, $pool:expr) => {{
        use $side as tls;
        let mut cache = tls::ReplayCache::new(1024).unwrap();
        let domains: [&[u8]; 1] = [b"example.com"];
        let mut next = 0usize;
        $group.bench_with_input(BenchmarkId::new($id, "517B"), $pool, |b, pool| {
            b.iter(|| {
                let hello = &pool[next % POOL];
                next += 1;
                let got = tls::check_client_hello(
                    black_box(hello),
                    517,
                    &[SECRET],
                    &domains,
                    &mut cache,
                    NOW,
                );
                assert_eq!(got.map(|g| g.verdict), Ok(tls::VERDICT_ACCEPT));
            })
        });
    }};
}

pub fn tls_client_hello(crit: &mut Criterion) {
    let pool = hellos();
    let mut group = crit.benchmark_group("tls-client-hello");
    group.throughput(Throughput::Bytes(517));
    bench_side!(group, "c", c::fake_tls, &pool);
    bench_side!(group, "rust", rust::net::fake_tls, &pool);
    group.finish();
}
