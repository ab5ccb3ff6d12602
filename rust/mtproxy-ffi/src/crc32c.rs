//! Contract of the crc32c module: CRC-32C (Castagnoli), streaming.
use crate::raw;
use mtproxy_core::common::crc32c;

/// Continues a CRC-32C from the running state `crc` (inverted form: start
/// from 0xffffffff, invert at the end). Uses the SSE4.2 instruction when the
/// CPU has it.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_crc32c_partial(data: *const u8, len: usize, crc: u32) -> u32 {
    // SAFETY: forwarded caller contract.
    crc32c::crc32c_partial(unsafe { raw::bytes(data, len) }, crc)
}

/// Same result as `mtp_crc32c_partial`, always by table lookups (the path
/// taken on CPUs without the CRC instruction); exists so tests cover it.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_crc32c_partial_portable(data: *const u8, len: usize, crc: u32) -> u32 {
    // SAFETY: forwarded caller contract.
    crc32c::crc32c_partial_portable(unsafe { raw::bytes(data, len) }, crc)
}

/// The CRC-32C of `len` bytes at `data`.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_compute_crc32c(data: *const u8, len: usize) -> u32 {
    // SAFETY: forwarded caller contract.
    crc32c::compute_crc32c(unsafe { raw::bytes(data, len) })
}
