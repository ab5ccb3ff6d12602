//! Process figures from /proc: CPU seconds and resident memory.

/// User + system CPU seconds of a process, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    user_and_system_seconds(pid).map(|(user, system)| user + system)
}

/// (user, system) CPU seconds of a process, from /proc/PID/stat.
pub fn user_and_system_seconds(pid: u32) -> Option<(f64, f64)> {
    stat_seconds(&format!("/proc/{pid}/stat"))
}

/// (user, system) CPU seconds of this process, all threads, from
/// /proc/self/stat; (0, 0) if unreadable.
pub fn own_cpu_seconds() -> (f64, f64) {
    stat_seconds("/proc/self/stat").unwrap_or((0.0, 0.0))
}

fn stat_seconds(path: &str) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / clock_ticks(), stime / clock_ticks()))
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux ABI this runs on.
    100.0
}

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
