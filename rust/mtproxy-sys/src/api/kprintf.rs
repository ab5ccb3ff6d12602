// Safe wrappers for the kprintf contract; same API as
// mtproxy_core::common::kprintf.

pub use mtproxy_core::common::kprintf::LogError;

#[inline]
pub fn format_log_line(out: &mut [u8], pid: i32, unix_usec: i64, msg: &[u8]) -> usize {
    let msg = input(msg);
    // SAFETY: two live, distinct slices.
    unsafe {
        ffi::mtp_log_format_line(
            out.as_mut_ptr().cast(),
            out.len(),
            pid,
            unix_usec,
            msg.as_ptr(),
            msg.len(),
        )
    }
}

#[inline]
pub fn log_level_enabled(verbosity: i32, level: i32) -> bool {
    // SAFETY: plain values only.
    unsafe { ffi::mtp_log_level_enabled(verbosity, level) != 0 }
}

#[inline]
pub fn parse_verbosity(s: &[u8]) -> Result<i32, LogError> {
    let s = input(s);
    let mut level = 0;
    // SAFETY: a live slice and a live output.
    let code = unsafe { ffi::mtp_log_parse_verbosity(s.as_ptr(), s.len(), &mut level) };
    LogError::from_code(code).map_or(Ok(level), Err)
}
