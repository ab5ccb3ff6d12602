//! Plain data of the pid contract (see the shim in mtproxy-ffi for the
//! functions): the error codes and the process-id struct (the core's
//! `repr(C)` type itself).
use mtproxy_core::common::pid;

/// Decode error: fewer than 12 input bytes.
pub const MTP_PID_ERR_SHORT: i32 = pid::ERR_SHORT;
/// A required pointer was NULL.
pub const MTP_PID_ERR_ARG: i32 = -2;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_process_id` from it.
pub use mtproxy_core::common::pid::ProcessId as mtp_process_id;
