//! The wall clock the runtime reports and checks against (stats times,
//! fake-TLS timestamps, middle-end nonces).

/// Seconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
