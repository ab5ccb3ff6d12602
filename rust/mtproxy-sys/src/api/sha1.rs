// Safe wrappers for the sha1 contract; same API as mtproxy_core::common::sha1.

#[inline]
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let data = input(data);
    let mut out = [0u8; 20];
    // SAFETY: the input comes from one live slice; `out` is 20 writable bytes.
    unsafe { ffi::mtp_sha1(data.as_ptr(), data.len(), out.as_mut_ptr()) };
    out
}
