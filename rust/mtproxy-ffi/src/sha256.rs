//! Contract of the sha256 module: SHA-256 (FIPS 180-4) and HMAC-SHA256
//! (RFC 2104).
use crate::raw;
use mtproxy_core::common::sha256;

/// Writes the 32-byte SHA-256 digest of `len` bytes at `data` to `out`; does
/// nothing if `out` is null. `out` may overlap `data`.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0);
/// `out` must be null or point to 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_sha256(data: *const u8, len: usize, out: *mut u8) {
    // SAFETY: forwarded caller contract; the slice ends before `out` is used.
    let digest = sha256::sha256(unsafe { raw::bytes(data, len) });
    // SAFETY: forwarded caller contract.
    unsafe { write_digest(out, digest) };
}

/// Writes the 32-byte SHA-256 digest of `first ‖ second` to `out` without
/// joining the two buffers; does nothing if `out` is null. `out` may overlap
/// either input.
///
/// # Safety
/// `first` / `second` must point to `first_len` / `second_len` readable bytes
/// (each may be null if its length is 0); `out` must be null or point to 32
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_sha256_two_chunks(
    first: *const u8,
    first_len: usize,
    second: *const u8,
    second_len: usize,
    out: *mut u8,
) {
    // SAFETY: forwarded caller contract; the slices end before `out` is used.
    let (first, second) = unsafe { (raw::bytes(first, first_len), raw::bytes(second, second_len)) };
    let digest = sha256::sha256_two_chunks(first, second);
    // SAFETY: forwarded caller contract.
    unsafe { write_digest(out, digest) };
}

/// Writes the 32-byte HMAC-SHA256 of `msg` under `key` (any length) to
/// `out`; does nothing if `out` is null. `out` may overlap either input.
///
/// # Safety
/// `key` / `msg` must point to `key_len` / `msg_len` readable bytes (each may
/// be null if its length is 0); `out` must be null or point to 32 writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_hmac_sha256(
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    out: *mut u8,
) {
    // SAFETY: forwarded caller contract; the slices end before `out` is used.
    let (key, msg) = unsafe { (raw::bytes(key, key_len), raw::bytes(msg, msg_len)) };
    let digest = sha256::hmac_sha256(key, msg);
    // SAFETY: forwarded caller contract.
    unsafe { write_digest(out, digest) };
}

/// # Safety
/// `out` must be null or point to 32 writable bytes.
unsafe fn write_digest(out: *mut u8, digest: [u8; 32]) {
    // SAFETY: forwarded caller contract.
    if let Some(out) = unsafe { raw::array_mut::<32>(out) } {
        *out = digest;
    }
}
