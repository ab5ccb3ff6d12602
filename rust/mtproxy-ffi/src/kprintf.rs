//! Contract of the kprintf module: log-line formatting and verbosity levels.
use crate::raw;
use mtproxy_core::common::kprintf;
use std::ffi::c_char;

/// The codes of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::kprintf::*;

/// Formats `[<pid>][YYYY-MM-DD HH:MM:SS.uuuuuu UTC] <msg>\n` like `snprintf`:
/// writes at most `cap - 1` bytes and a NUL (nothing when `cap` is 0) and
/// returns the full length of the line without the NUL.
///
/// The time is UTC, computed from `unix_usec` clamped to years 1970..9999.
/// Message bytes below 0x20 (except TAB) and 0x7f are written as `\xNN`;
/// one trailing `\n` of the message is dropped (the line always ends with
/// one). A null `out` counts as `cap` 0, a null `msg` as the empty message.
///
/// # Safety
/// `out` has `cap` writable bytes (or is null); `msg` has `msg_len` readable
/// bytes not overlapping `out` (or is null).
#[no_mangle]
pub unsafe extern "C" fn mtp_log_format_line(
    out: *mut c_char,
    cap: usize,
    pid: i32,
    unix_usec: i64,
    msg: *const u8,
    msg_len: usize,
) -> usize {
    // SAFETY: forwarded caller contract (null pointers become empty slices).
    let (out, msg) = unsafe { (raw::bytes_mut(out.cast(), cap), raw::bytes(msg, msg_len)) };
    kprintf::format_log_line(out, pid, unix_usec, msg)
}

/// 1 if a message of `level` is logged at `verbosity` (`level <= verbosity`),
/// else 0.
#[no_mangle]
pub extern "C" fn mtp_log_level_enabled(verbosity: i32, level: i32) -> i32 {
    i32::from(kprintf::log_level_enabled(verbosity, level))
}

/// Parses a verbosity (one decimal digit, 0..9) into `*out`. Returns 0,
/// `MTP_LOG_ERR_BAD_LEVEL`, or `MTP_LOG_ERR_ARG` (null `out`, or null `s`
/// with `len > 0`).
///
/// # Safety
/// `s` has `len` readable bytes (or is null); `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_log_parse_verbosity(s: *const u8, len: usize, out: *mut i32) -> i32 {
    // SAFETY: null or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MTP_LOG_ERR_ARG;
    };
    if s.is_null() && len > 0 {
        return MTP_LOG_ERR_ARG;
    }
    // SAFETY: `s` has `len` readable bytes by the caller's contract.
    match kprintf::parse_verbosity(unsafe { raw::bytes(s, len) }) {
        Ok(level) => *out = level,
        Err(e) => return e.code(),
    }
    0
}
