//! Log lines (`[pid][time] text` on stderr) and the `-l` log file, which
//! replaces stderr and is reopened on SIGUSR1 (for log rotation).
use std::fs::OpenOptions;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use mtproxy_sys::c::kprintf;

/// Writes one log line to stderr. Failures to write are ignored: there is
/// nowhere left to report them.
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

/// Logs `text` if `level` is enabled at `verbosity`.
pub fn verbose(verbosity: i32, level: i32, text: &str) {
    if kprintf::log_level_enabled(verbosity, level) {
        line(text);
    }
}

/// Points stderr at the end of `path` (created if missing).
pub fn redirect_stderr(path: &str) -> Result<(), String> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open log file {path}: {e}"))?;
    nix::unistd::dup2_stderr(&file).map_err(|e| format!("cannot redirect stderr to {path}: {e}"))
}
