//! Clock readings in the units the engine uses: "precise time" is a 32.32
//! fixed-point number of seconds (units of 2^-32 s), plus realtime and
//! monotonic seconds as `f64` and unix seconds as `i32`.
use nix::time::{clock_gettime, ClockId};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// `sec + nsec / 1e9` seconds in units of 2^-32 s.
///
/// `nsec` may be out of range or negative: whole seconds move into `sec`
/// (floor division, so the fraction stays in `[0, 1e9)`). The fraction part
/// is `floor(nsec * 2^32 / 1e9)`. Seconds beyond ±2^31 do not fit in 32.32;
/// the result then wraps (two's complement, like every step here) instead of
/// failing, as a clock reading must always produce a value.
pub fn precise_time_from_parts(sec: i64, nsec: i64) -> i64 {
    let whole = sec.wrapping_add(nsec.div_euclid(NANOS_PER_SEC));
    let frac_nanos = nsec.rem_euclid(NANOS_PER_SEC);
    // frac_nanos < 2^30, so the product stays below 2^62.
    let frac = (frac_nanos << 32) / NANOS_PER_SEC;
    whole.wrapping_shl(32).wrapping_add(frac)
}

/// (seconds, nanoseconds) of `clock`; a clock that cannot be read (never the
/// case for the two used here on Linux) reads as zero rather than failing.
fn read_clock(clock: ClockId) -> (i64, i64) {
    clock_gettime(clock).map_or((0, 0), |t| (t.tv_sec(), t.tv_nsec()))
}

fn seconds_as_f64((sec, nsec): (i64, i64)) -> f64 {
    sec as f64 + nsec as f64 * 1e-9
}

/// Realtime clock as precise time (units of 2^-32 s since the epoch).
pub fn get_precise_time() -> i64 {
    let (sec, nsec) = read_clock(ClockId::CLOCK_REALTIME);
    precise_time_from_parts(sec, nsec)
}

/// Realtime clock in seconds since the epoch.
pub fn get_double_time() -> f64 {
    seconds_as_f64(read_clock(ClockId::CLOCK_REALTIME))
}

/// `CLOCK_MONOTONIC` in seconds (for intervals and timeouts).
pub fn get_utime_monotonic() -> f64 {
    seconds_as_f64(read_clock(ClockId::CLOCK_MONOTONIC))
}

/// Unix time in whole seconds. Truncated to 32 bits, as the protocol's
/// timestamps are (this wraps in 2038 like every `int32` unix time).
pub fn now() -> i32 {
    read_clock(ClockId::CLOCK_REALTIME).0 as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_known_values() {
        assert_eq!(precise_time_from_parts(0, 0), 0);
        assert_eq!(precise_time_from_parts(1, 0), 1 << 32);
        assert_eq!(precise_time_from_parts(0, 500_000_000), 1 << 31);
        assert_eq!(precise_time_from_parts(0, 999_999_999), 4_294_967_291);
        // Out-of-range nanoseconds move whole seconds (floor division).
        assert_eq!(precise_time_from_parts(1, -500_000_000), 1 << 31);
        assert_eq!(
            precise_time_from_parts(0, 2_500_000_000),
            (2 << 32) + (1 << 31)
        );
        assert_eq!(precise_time_from_parts(-1, 0), -(1 << 32));
    }

    #[test]
    fn from_parts_wraps_at_extremes() {
        assert_eq!(precise_time_from_parts(1 << 31, 0), i64::MIN);
        assert_eq!(precise_time_from_parts(i64::MAX, 0), -(1 << 32));
        // Whole seconds from nsec added to i64::MAX wrap instead of panicking.
        let _ = precise_time_from_parts(i64::MAX, i64::MAX);
        let _ = precise_time_from_parts(i64::MIN, i64::MIN);
    }

    #[test]
    fn clocks_agree_with_each_other() {
        let unix = now();
        let double = get_double_time();
        let precise = get_precise_time();
        assert!((double - f64::from(unix)).abs() < 2.0);
        assert!(((precise >> 32) - i64::from(unix)).abs() < 2);
        let a = get_utime_monotonic();
        let b = get_utime_monotonic();
        assert!(a > 0.0 && b >= a);
    }
}
