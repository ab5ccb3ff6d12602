//! C vs Rust on the same buffers, one criterion group per hot module.
//!
//! Bench ids are `<group>/<side>/<size>` with side `c` or `rust`; `cargo xtask
//! bench-record` reads criterion's estimates and writes the Rust/C ratios to
//! measurements/bench.json for the dashboard. Run with `make bench`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

mod aes;
mod hashes;
mod mp_queue;
mod net;
mod rpc_frame;
mod tls;

/// Buffer sizes every byte-oriented benchmark uses.
pub const SIZES: &[(usize, &str)] = &[(1024, "1KiB"), (16384, "16KiB")];

/// Deterministic, non-trivial input bytes.
pub fn input(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Time `c_side` and `rust_side` on the same input for each size in [`SIZES`].
pub fn compare_bytes<R>(
    crit: &mut Criterion,
    group: &str,
    c_side: impl Fn(&[u8]) -> R,
    rust_side: impl Fn(&[u8]) -> R,
) {
    let mut g = crit.benchmark_group(group);
    for &(len, label) in SIZES {
        let data = input(len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("c", label), &data, |b, d| {
            b.iter(|| black_box(c_side(black_box(d))))
        });
        g.bench_with_input(BenchmarkId::new("rust", label), &data, |b, d| {
            b.iter(|| black_box(rust_side(black_box(d))))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets =
        aes::aes_ctr,
        aes::aes_cbc_encrypt,
        aes::aes_cbc_decrypt,
        hashes::crc32,
        hashes::crc32c,
        hashes::sha256,
        mp_queue::mp_queue,
        net::obfs2_header,
        net::frame_decode,
        net::frame_encode,
        rpc_frame::rpc_frame_cbc,
        tls::tls_client_hello,
}
criterion_main!(benches);
