//! Plain data of the proc-stat contract (see the shim in mtproxy-ffi for
//! the functions): its error codes and the stat struct (the core's `repr(C)`
//! type itself).
use mtproxy_core::common::proc_stat;

/// Malformed, truncated or out-of-range text.
pub const MTP_PROC_ERR_SYNTAX: i32 = proc_stat::ERR_SYNTAX;
/// The status key is absent.
pub const MTP_PROC_ERR_NOT_FOUND: i32 = proc_stat::ERR_NOT_FOUND;
/// A /proc file could not be read.
pub const MTP_PROC_ERR_IO: i32 = proc_stat::ERR_IO;
/// A required pointer was NULL.
pub const MTP_PROC_ERR_ARG: i32 = -4;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_proc_stat` from it.
pub use mtproxy_core::common::proc_stat::ProcStat as mtp_proc_stat;
