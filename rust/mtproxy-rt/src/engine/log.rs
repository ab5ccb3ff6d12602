//! Log lines (`[pid][time] text` on stderr) and the `-l` log file, which
//! replaces stderr and is reopened on SIGUSR1 (for log rotation).
use std::fs::OpenOptions;

use mtproxy_sys::c::kprintf;

pub use crate::log::line;

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
