//! One log line (`[pid][time] text`) on stderr, for the engine and the
//! proxy alike (the engine points stderr at `-l FILE`).
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use mtproxy_sys::c::kprintf;

/// Writes one log line to stderr in a single write. Failures to write are
/// ignored: there is nowhere left to report them.
pub fn line(text: &str) {
    let usec = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let pid = i32::try_from(std::process::id()).unwrap_or(-1);
    // Room for the prefix plus every byte escaped as `\xNN`.
    let mut buf = vec![0u8; 64 + text.len() * 4];
    let len = kprintf::format_log_line(&mut buf, pid, usec, text.as_bytes());
    let len = len.min(buf.len().saturating_sub(1));
    let _ = std::io::stderr().lock().write_all(&buf[..len]);
}
