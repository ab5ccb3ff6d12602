//! Contract of the sha1 module: the SHA-1 digest (FIPS 180-4).
use crate::raw;
use mtproxy_core::common::sha1;

/// Writes the 20-byte SHA-1 digest of `len` bytes at `data` to `out`; does
/// nothing if `out` is null. `out` may overlap `data`.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0);
/// `out` must be null or point to 20 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_sha1(data: *const u8, len: usize, out: *mut u8) {
    // SAFETY: forwarded caller contract; the slice ends before `out` is used.
    let digest = sha1::sha1(unsafe { raw::bytes(data, len) });
    // SAFETY: forwarded caller contract.
    if let Some(out) = unsafe { raw::array_mut::<20>(out) } {
        *out = digest;
    }
}
