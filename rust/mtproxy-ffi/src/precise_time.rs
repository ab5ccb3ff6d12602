//! Contract of the precise-time module: clock readings.
use mtproxy_core::common::precise_time;

/// `sec + nsec / 1e9` seconds in units of 2^-32 s. `nsec` is normalised into
/// [0, 1e9) by floor division first; the result is
/// `sec * 2^32 + floor(nsec * 2^32 / 1e9)`, all in wrapping (two's
/// complement) arithmetic, so seconds beyond ±2^31 wrap instead of failing.
#[no_mangle]
pub extern "C" fn mtp_precise_time_from_parts(sec: i64, nsec: i64) -> i64 {
    precise_time::precise_time_from_parts(sec, nsec)
}

/// The realtime clock as precise time (units of 2^-32 s since the epoch).
#[no_mangle]
pub extern "C" fn mtp_get_precise_time() -> i64 {
    precise_time::get_precise_time()
}

/// The realtime clock in seconds since the epoch.
#[no_mangle]
pub extern "C" fn mtp_get_double_time() -> f64 {
    precise_time::get_double_time()
}

/// `CLOCK_MONOTONIC` in seconds.
#[no_mangle]
pub extern "C" fn mtp_get_utime_monotonic() -> f64 {
    precise_time::get_utime_monotonic()
}

/// Unix time in whole seconds (realtime clock, truncated to 32 bits).
#[no_mangle]
pub extern "C" fn mtp_now() -> i32 {
    precise_time::now()
}
