// Safe wrappers for the crc32 contract; same API as mtproxy_core::common::crc32.

#[inline]
pub fn crc32_partial(data: &[u8], crc: u32) -> u32 {
    let data = input(data);
    // SAFETY: the pointer and length come from one live slice.
    unsafe { ffi::mtp_crc32_partial(data.as_ptr(), data.len(), crc) }
}

#[inline]
pub fn compute_crc32(data: &[u8]) -> u32 {
    let data = input(data);
    // SAFETY: the pointer and length come from one live slice.
    unsafe { ffi::mtp_compute_crc32(data.as_ptr(), data.len()) }
}

#[inline]
pub fn crc32_combine(crc1: u32, crc2: u32, len2: u64) -> u32 {
    // SAFETY: plain values only.
    unsafe { ffi::mtp_crc32_combine(crc1, crc2, len2) }
}
