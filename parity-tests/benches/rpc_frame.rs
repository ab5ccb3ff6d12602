//! One middle-end write: a 16 KiB payload framed (CRC-32C, as after the
//! handshake negotiated it), padded to whole AES blocks and encrypted with
//! AES-256-CBC. Contexts and buffers are made outside the timed loop; the
//! CBC chain carries over between iterations as it does on a connection.
use super::input;
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_tests::{c, rust};
use std::hint::black_box;

use c::aesni256 as ca;
use c::rpc_frame as cf;
use rust::crypto::aesni256 as ra;
use rust::net::rpc_frame as rf;

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 16] = [0x24; 16];
const PAYLOAD: usize = 16 * 1024;
/// Frame (payload + 12) plus room for up to three padding words.
const WIRE: usize = PAYLOAD + 12 + 12;

pub fn rpc_frame_cbc(crit: &mut Criterion) {
    let payload = input(PAYLOAD);
    let mut g = crit.benchmark_group("rpc-frame-cbc");
    g.throughput(Throughput::Bytes(PAYLOAD as u64));
    let mut wire = vec![0u8; WIRE];
    let mut c_ctx = ca::AesContext::new(ca::AesMode::CbcEncrypt, &KEY, &IV).expect("C context");
    let mut seq = 0i32;
    g.bench_function(BenchmarkId::new("c", "16KiB"), |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            let len =
                cf::encode_frame_into(seq, black_box(&payload), cf::CrcKind::Crc32c, &mut wire)
                    .unwrap();
            let pad = cf::write_padding(len as u64, &mut wire[len..]).unwrap();
            c_ctx.crypt_in_place(&mut wire[..len + pad]).unwrap();
            black_box(&wire);
        })
    });
    let mut r_ctx = ra::AesContext::new(ra::AesMode::CbcEncrypt, &KEY, &IV).expect("Rust context");
    g.bench_function(BenchmarkId::new("rust", "16KiB"), |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            let len =
                rf::encode_frame_into(seq, black_box(&payload), rf::CrcKind::Crc32c, &mut wire)
                    .unwrap();
            let pad = rf::write_padding(len as u64, &mut wire[len..]).unwrap();
            r_ctx.crypt_in_place(&mut wire[..len + pad]).unwrap();
            black_box(&wire);
        })
    });
    g.finish();
}
