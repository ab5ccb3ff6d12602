// Safe wrappers for the md5 contract; same API as mtproxy_core::common::md5.

#[inline]
pub fn md5(data: &[u8]) -> [u8; 16] {
    let data = input(data);
    let mut out = [0u8; 16];
    // SAFETY: the input comes from one live slice; `out` is 16 writable bytes.
    unsafe { ffi::mtp_md5(data.as_ptr(), data.len(), out.as_mut_ptr()) };
    out
}
