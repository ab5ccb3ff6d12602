//! Checksums and hashes.
use super::compare_bytes;
use criterion::Criterion;
use parity_tests::{c, rust};

pub fn crc32(crit: &mut Criterion) {
    use {c::crc32 as cs, rust::common::crc32 as rs};
    compare_bytes(crit, "crc32", cs::compute_crc32, rs::compute_crc32);
}

pub fn crc32c(crit: &mut Criterion) {
    use {c::crc32c as cs, rust::common::crc32c as rs};
    compare_bytes(crit, "crc32c", cs::compute_crc32c, rs::compute_crc32c);
}

pub fn sha256(crit: &mut Criterion) {
    use {c::sha256 as cs, rust::common::sha256 as rs};
    compare_bytes(crit, "sha256", cs::sha256, rs::sha256);
}
