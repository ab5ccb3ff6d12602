//! Contract of the pid module: the 12-byte RPC process id (docs/PROTOCOL.md §4.6).
use crate::raw;
use mtproxy_core::common::pid::{self, ProcessId};

/// The codes and struct of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::pid::*;

/// Fills `*out` with a process id; `pid` keeps the low 16 bits of `os_pid`
/// (never aborts, also for pids above 65535). Does nothing if `out` is NULL.
///
/// # Safety
/// `out` must be NULL or point to a writable `mtp_process_id`.
#[no_mangle]
pub unsafe extern "C" fn mtp_process_id_init(
    out: *mut ProcessId,
    ip: u32,
    port: i16,
    os_pid: i64,
    utime: i32,
) {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    if let Some(out) = unsafe { out.as_mut() } {
        *out = pid::process_id_init(ip, port, os_pid, utime);
    }
}

/// Writes the 12-byte little-endian wire form of `*id` to `out`. Does
/// nothing if either pointer is NULL.
///
/// # Safety
/// `id` must be NULL or point to a valid `mtp_process_id`; `out` must be NULL
/// or point to 12 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_process_id_encode(id: *const ProcessId, out: *mut u8) {
    // SAFETY: both pointers are NULL or valid by the caller's contract.
    let (id, out) = unsafe { (id.as_ref(), raw::array_mut::<{ pid::ENCODED_LEN }>(out)) };
    if let (Some(id), Some(out)) = (id, out) {
        *out = pid::process_id_encode(id);
    }
}

/// Decodes the first 12 of `len` bytes at `input` into `*out`. Returns 0,
/// `MTP_PID_ERR_SHORT` if `len < 12`, or `MTP_PID_ERR_ARG` if `out` is NULL
/// (or `input` is NULL with `len > 0`).
///
/// # Safety
/// `input` must point to `len` readable bytes (may be NULL if `len` is 0);
/// `out` must be NULL or point to a writable `mtp_process_id`.
#[no_mangle]
pub unsafe extern "C" fn mtp_process_id_decode(
    input: *const u8,
    len: usize,
    out: *mut ProcessId,
) -> i32 {
    if input.is_null() && len != 0 {
        return MTP_PID_ERR_ARG;
    }
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MTP_PID_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match pid::process_id_decode(unsafe { raw::bytes(input, len) }) {
        Ok(id) => {
            *out = id;
            0
        }
        Err(code) => code,
    }
}

/// 1 if every non-zero field of `*peer` equals the same field of `*own`
/// (zero fields are wildcards; an all-zero peer always matches), else 0.
/// Returns 0 if either pointer is NULL.
///
/// # Safety
/// Each pointer must be NULL or point to a valid `mtp_process_id`.
#[no_mangle]
pub unsafe extern "C" fn mtp_process_id_matches(
    own: *const ProcessId,
    peer: *const ProcessId,
) -> i32 {
    // SAFETY: both pointers are NULL or valid by the caller's contract.
    match unsafe { (own.as_ref(), peer.as_ref()) } {
        (Some(own), Some(peer)) => i32::from(pid::process_id_matches(own, peer)),
        _ => 0,
    }
}
