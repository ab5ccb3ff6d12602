//! Contract of the crc32 module: CRC-32 (IEEE), streaming and combine.
use crate::raw;
use mtproxy_core::common::crc32;

/// Continues a CRC-32 from the running state `crc` (inverted form: start
/// from 0xffffffff, invert at the end).
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_crc32_partial(data: *const u8, len: usize, crc: u32) -> u32 {
    // SAFETY: forwarded caller contract.
    crc32::crc32_partial(unsafe { raw::bytes(data, len) }, crc)
}

/// The CRC-32 of `len` bytes at `data`.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_compute_crc32(data: *const u8, len: usize) -> u32 {
    // SAFETY: forwarded caller contract.
    crc32::compute_crc32(unsafe { raw::bytes(data, len) })
}

/// The CRC-32 of `A ‖ B` from `crc1 = CRC(A)`, `crc2 = CRC(B)`, `len2 = |B|`.
#[no_mangle]
pub extern "C" fn mtp_crc32_combine(crc1: u32, crc2: u32, len2: u64) -> u32 {
    crc32::crc32_combine(crc1, crc2, len2)
}
