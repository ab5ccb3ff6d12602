// Safe wrappers for the precise-time contract; same API as
// mtproxy_core::common::precise_time.

#[inline]
pub fn precise_time_from_parts(sec: i64, nsec: i64) -> i64 {
    // SAFETY: plain values only.
    unsafe { ffi::mtp_precise_time_from_parts(sec, nsec) }
}

#[inline]
pub fn get_precise_time() -> i64 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_get_precise_time() }
}

#[inline]
pub fn get_double_time() -> f64 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_get_double_time() }
}

#[inline]
pub fn get_utime_monotonic() -> f64 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_get_utime_monotonic() }
}

#[inline]
pub fn now() -> i32 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_now() }
}
