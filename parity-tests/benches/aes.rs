//! AES-256 streams: each side's context is created once per size, outside
//! the timed loop, and transforms the same buffer in place over and over.
use super::{input, SIZES};
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_tests::{c, rust};
use std::hint::black_box;

use c::aesni256 as ca;
use rust::crypto::aesni256 as ra;

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 16] = [0x24; 16];

fn compare_modes(crit: &mut Criterion, group: &str, c_mode: ca::AesMode, r_mode: ra::AesMode) {
    let mut g = crit.benchmark_group(group);
    for &(len, label) in SIZES {
        let mut data = input(len);
        g.throughput(Throughput::Bytes(len as u64));
        let mut c_ctx = ca::AesContext::new(c_mode, &KEY, &IV).expect("C context");
        g.bench_function(BenchmarkId::new("c", label), |b| {
            b.iter(|| c_ctx.crypt_in_place(black_box(&mut data)))
        });
        let mut r_ctx = ra::AesContext::new(r_mode, &KEY, &IV).expect("Rust context");
        g.bench_function(BenchmarkId::new("rust", label), |b| {
            b.iter(|| r_ctx.crypt_in_place(black_box(&mut data)))
        });
    }
    g.finish();
}

pub fn aes_ctr(crit: &mut Criterion) {
    compare_modes(crit, "aes-ctr", ca::AesMode::Ctr, ra::AesMode::Ctr);
}

pub fn aes_cbc_encrypt(crit: &mut Criterion) {
    compare_modes(
        crit,
        "aes-cbc-encrypt",
        ca::AesMode::CbcEncrypt,
        ra::AesMode::CbcEncrypt,
    );
}

pub fn aes_cbc_decrypt(crit: &mut Criterion) {
    compare_modes(
        crit,
        "aes-cbc-decrypt",
        ca::AesMode::CbcDecrypt,
        ra::AesMode::CbcDecrypt,
    );
}
