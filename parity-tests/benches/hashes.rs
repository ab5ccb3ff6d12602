//! Checksums and hashes.
use super::compare_bytes;
use criterion::Criterion;
use parity_tests::{c, rust};

pub fn crc32(crit: &mut Criterion) {
    use {c::crc32 as cs, rust::common::crc32 as rs};
    compare_bytes(crit, "crc32", cs::compute_crc32, rs::compute_crc32);
}
