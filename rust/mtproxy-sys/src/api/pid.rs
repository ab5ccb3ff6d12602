// Safe wrappers for the pid contract; same API as mtproxy_core::common::pid.

/// The contract's struct is the core's `repr(C)` type itself.
pub use mtproxy_core::common::pid::ProcessId;
pub use mtproxy_core::common::pid::{ENCODED_LEN, ERR_SHORT};

#[inline]
pub fn process_id_init(ip: u32, port: i16, os_pid: i64, utime: i32) -> ProcessId {
    let mut out = ProcessId::default();
    // SAFETY: `out` is a live, writable struct.
    unsafe { ffi::mtp_process_id_init(&mut out, ip, port, os_pid, utime) };
    out
}

#[inline]
pub fn process_id_encode(id: &ProcessId) -> [u8; ENCODED_LEN] {
    let mut out = [0u8; ENCODED_LEN];
    // SAFETY: `id` is a live struct, `out` has the 12 bytes the contract writes.
    unsafe { ffi::mtp_process_id_encode(id, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn process_id_decode(input: &[u8]) -> Result<ProcessId, i32> {
    let input = super::input(input);
    let mut out = ProcessId::default();
    // SAFETY: the pointer and length come from one live slice; `out` is writable.
    match unsafe { ffi::mtp_process_id_decode(input.as_ptr(), input.len(), &mut out) } {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn process_id_matches(own: &ProcessId, peer: &ProcessId) -> bool {
    // SAFETY: both references are live structs.
    unsafe { ffi::mtp_process_id_matches(own, peer) != 0 }
}
