//! Contract of the proc-stat module: parsing `/proc/<pid>/stat` and
//! `/proc/<pid>/status`, and reading both for the current process.
use crate::raw;
use mtproxy_core::common::proc_stat::{self, ProcStat};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::proc_stat::*;

/// Parses a `/proc/<pid>/stat` text: `pid (comm) state f4 ... f24 [...]`,
/// where comm runs to the LAST `)`, fields are separated by runs of spaces,
/// tabs or newlines, fields 4-24 are decimal integers and the kept ones fit
/// their type; later fields are ignored. Returns 0, `MTP_PROC_ERR_SYNTAX` or
/// `MTP_PROC_ERR_ARG`.
///
/// # Safety
/// `s` must point to `len` readable bytes (may be NULL if `len` is 0); `out`
/// must be NULL or point to a writable `mtp_proc_stat`.
#[no_mangle]
pub unsafe extern "C" fn mtp_parse_proc_stat(s: *const u8, len: usize, out: *mut ProcStat) -> i32 {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !s.is_null() || len == 0) else {
        return MTP_PROC_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match proc_stat::parse_proc_stat(unsafe { raw::bytes(s, len) }) {
        Ok(stat) => {
            *out = stat;
            0
        }
        Err(code) => code,
    }
}

/// Finds the first line of `/proc/<pid>/status` text starting with
/// `<key>:` and parses its value `<spaces/tabs>N kB` into `*bytes_out` =
/// N * 1024. Returns 0, `MTP_PROC_ERR_NOT_FOUND`, `MTP_PROC_ERR_SYNTAX` (bad
/// value or overflow) or `MTP_PROC_ERR_ARG`.
///
/// # Safety
/// `text` and `key` must point to `len` / `key_len` readable bytes (each may
/// be NULL if its length is 0); `bytes_out` must be NULL or point to a
/// writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn mtp_parse_status_kb(
    text: *const u8,
    len: usize,
    key: *const u8,
    key_len: usize,
    bytes_out: *mut i64,
) -> i32 {
    let pointers_ok = (!text.is_null() || len == 0) && (!key.is_null() || key_len == 0);
    // SAFETY: `bytes_out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { bytes_out.as_mut() }).filter(|_| pointers_ok) else {
        return MTP_PROC_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    let (text, key) = unsafe { (raw::bytes(text, len), raw::bytes(key, key_len)) };
    match proc_stat::parse_status_kb(text, key) {
        Ok(bytes) => {
            *out = bytes;
            0
        }
        Err(code) => code,
    }
}

/// Reads `/proc/self/stat` and `/proc/self/status` (at most 64 KiB each)
/// into `*out` and the `VmRSS` / `VmSize` values in bytes. Returns 0,
/// `MTP_PROC_ERR_IO`, a parse error of the two functions above, or
/// `MTP_PROC_ERR_ARG`.
///
/// # Safety
/// Each pointer must be NULL or point to a writable object of its type.
#[no_mangle]
pub unsafe extern "C" fn mtp_read_proc_self(
    out: *mut ProcStat,
    vm_rss_bytes: *mut i64,
    vm_size_bytes: *mut i64,
) -> i32 {
    // SAFETY: each pointer is NULL or valid for writes by the caller's contract.
    let outs = unsafe { (out.as_mut(), vm_rss_bytes.as_mut(), vm_size_bytes.as_mut()) };
    let (Some(out), Some(rss), Some(size)) = outs else {
        return MTP_PROC_ERR_ARG;
    };
    match proc_stat::read_proc_self() {
        Ok(me) => {
            (*out, *rss, *size) = (me.stat, me.vm_rss_bytes, me.vm_size_bytes);
            0
        }
        Err(code) => code,
    }
}
