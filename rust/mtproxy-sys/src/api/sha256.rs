// Safe wrappers for the sha256 contract; same API as mtproxy_core::common::sha256.

#[inline]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let data = input(data);
    let mut out = [0u8; 32];
    // SAFETY: the input comes from one live slice; `out` is 32 writable bytes.
    unsafe { ffi::mtp_sha256(data.as_ptr(), data.len(), out.as_mut_ptr()) };
    out
}

#[inline]
pub fn sha256_two_chunks(first: &[u8], second: &[u8]) -> [u8; 32] {
    let first = input(first);
    let second = input(second);
    let mut out = [0u8; 32];
    // SAFETY: each input comes from one live slice; `out` is 32 writable bytes.
    unsafe {
        ffi::mtp_sha256_two_chunks(
            first.as_ptr(),
            first.len(),
            second.as_ptr(),
            second.len(),
            out.as_mut_ptr(),
        )
    };
    out
}

#[inline]
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let key = input(key);
    let msg = input(msg);
    let mut out = [0u8; 32];
    // SAFETY: each input comes from one live slice; `out` is 32 writable bytes.
    unsafe {
        ffi::mtp_hmac_sha256(
            key.as_ptr(),
            key.len(),
            msg.as_ptr(),
            msg.len(),
            out.as_mut_ptr(),
        )
    };
    out
}
