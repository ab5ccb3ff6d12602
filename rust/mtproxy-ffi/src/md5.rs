//! Contract of the md5 module: the MD5 digest (RFC 1321).
use crate::raw;
use mtproxy_core::common::md5;

/// Writes the 16-byte MD5 digest of `len` bytes at `data` to `out`; does
/// nothing if `out` is null. `out` may overlap `data`.
///
/// # Safety
/// `data` must point to `len` readable bytes (may be null if `len` is 0);
/// `out` must be null or point to 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_md5(data: *const u8, len: usize, out: *mut u8) {
    // SAFETY: forwarded caller contract; the slice ends before `out` is used.
    let digest = md5::md5(unsafe { raw::bytes(data, len) });
    // SAFETY: forwarded caller contract.
    if let Some(out) = unsafe { raw::array_mut::<16>(out) } {
        *out = digest;
    }
}
