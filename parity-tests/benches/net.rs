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

/// Where the encode benches' output starts in its buffer.
const OUT_OFFSET: usize = 1024;

/// Payload sizes of the framing benches.
const FRAME_SIZES: &[(usize, &str)] = &[(64, "64B"), (16384, "16KiB")];

/// Intermediate mode, client → proxy: feed one framed packet to a long-lived
/// decoder and take it out.
pub fn frame_decode(crit: &mut Criterion) {
    use {c::ext_framing as cf, rust::net::ext_framing as rf};
    let mut g = crit.benchmark_group("frame-decode");
    for &(len, label) in FRAME_SIZES {
        let payload = super::input(len);
        let mut frame = vec![0u8; len + 4];
        rf::encode_packet(
            rf::FROM_CLIENT,
            rf::MODE_INTERMEDIATE,
            false,
            &payload,
            &[],
            &mut frame,
        )
        .unwrap();
        let mut out = vec![0u8; len];
        let mut c_dec = cf::FrameDecoder::new(cf::MODE_INTERMEDIATE, cf::FROM_CLIENT).unwrap();
        g.bench_function(BenchmarkId::new("c", label), |b| {
            b.iter(|| {
                c_dec.feed(black_box(&frame)).unwrap();
                black_box(c_dec.next_packet(&mut out).unwrap())
            })
        });
        let mut r_dec = rf::FrameDecoder::new(rf::MODE_INTERMEDIATE, rf::FROM_CLIENT).unwrap();
        g.bench_function(BenchmarkId::new("rust", label), |b| {
            b.iter(|| {
                r_dec.feed(black_box(&frame)).unwrap();
                black_box(r_dec.next_packet(&mut out).unwrap())
            })
        });
    }
    g.finish();
}

/// Intermediate mode, proxy → client: frame one payload into a buffer.
pub fn frame_encode(crit: &mut Criterion) {
    use {c::ext_framing as cf, rust::net::ext_framing as rf};
    let mut g = crit.benchmark_group("frame-encode");
    for &(len, label) in FRAME_SIZES {
        let payload = super::input(len);
        // The frame starts 4 bytes into a page-offset output: with the
        // payload and output 4 bytes apart modulo 4096, the copy would stall
        // on 4K aliasing and measure that instead of the framing.
        let mut buffer = vec![0u8; len + 4 + OUT_OFFSET];
        let out = &mut buffer[OUT_OFFSET..];
        g.bench_function(BenchmarkId::new("c", label), |b| {
            b.iter(|| {
                let mode = cf::MODE_INTERMEDIATE;
                black_box(cf::encode_packet(
                    cf::FROM_PROXY,
                    mode,
                    false,
                    &payload,
                    &[],
                    out,
                ))
            })
        });
        g.bench_function(BenchmarkId::new("rust", label), |b| {
            b.iter(|| {
                let mode = rf::MODE_INTERMEDIATE;
                black_box(rf::encode_packet(
                    rf::FROM_PROXY,
                    mode,
                    false,
                    &payload,
                    &[],
                    out,
                ))
            })
        });
    }
    g.finish();
}
