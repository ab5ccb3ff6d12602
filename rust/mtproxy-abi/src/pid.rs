//! Plain data of the pid contract (see the shim in mtproxy-ffi for the
//! functions): the error codes and the process-id struct, with its
//! conversions to the core type.
use mtproxy_core::common::pid::{self, ProcessId};

/// Decode error: fewer than 12 input bytes.
pub const MTP_PID_ERR_SHORT: i32 = -1;
/// A required pointer was NULL.
pub const MTP_PID_ERR_ARG: i32 = -2;

const _: () = assert!(MTP_PID_ERR_SHORT == pid::ERR_SHORT);

/// A process id: `ip` is the host-order IPv4 address, `pid` the OS pid
/// modulo 2^16, `utime` the process start time (unix seconds).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_process_id {
    pub ip: u32,
    pub port: i16,
    pub pid: u16,
    pub utime: i32,
}

impl From<ProcessId> for mtp_process_id {
    fn from(id: ProcessId) -> Self {
        mtp_process_id {
            ip: id.ip,
            port: id.port,
            pid: id.pid,
            utime: id.utime,
        }
    }
}

impl From<&mtp_process_id> for ProcessId {
    fn from(id: &mtp_process_id) -> Self {
        ProcessId {
            ip: id.ip,
            port: id.port,
            pid: id.pid,
            utime: id.utime,
        }
    }
}
