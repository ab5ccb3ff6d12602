//! Plain data of the kprintf contract (see the shim in mtproxy-ffi for the
//! functions): its error codes.

/// Not a verbosity level (a single digit 0..9).
pub const MTP_LOG_ERR_BAD_LEVEL: i32 = -1;
/// A null pointer where data was required.
pub const MTP_LOG_ERR_ARG: i32 = -2;
