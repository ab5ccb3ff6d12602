// Safe wrappers for the crc32c contract; same API as mtproxy_core::common::crc32c.

#[inline]
pub fn crc32c_partial(data: &[u8], crc: u32) -> u32 {
    let data = input(data);
    // SAFETY: the pointer and length come from one live slice.
    unsafe { ffi::mtp_crc32c_partial(data.as_ptr(), data.len(), crc) }
}

#[inline]
pub fn crc32c_partial_portable(data: &[u8], crc: u32) -> u32 {
    let data = input(data);
    // SAFETY: the pointer and length come from one live slice.
    unsafe { ffi::mtp_crc32c_partial_portable(data.as_ptr(), data.len(), crc) }
}

#[inline]
pub fn compute_crc32c(data: &[u8]) -> u32 {
    let data = input(data);
    // SAFETY: the pointer and length come from one live slice.
    unsafe { ffi::mtp_compute_crc32c(data.as_ptr(), data.len()) }
}
