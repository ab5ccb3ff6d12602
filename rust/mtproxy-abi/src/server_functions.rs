//! Plain data of the server-functions contract (see the shim in mtproxy-ffi
//! for the functions): its codes and the file-limit struct (the core's
//! `repr(C)` type itself).
use mtproxy_core::common::server_functions as sf;

/// Not a memory size (`<1..19 digits>[kKmMgGtT]`).
pub const MTP_SF_ERR_SYNTAX: i32 = sf::ERR_SYNTAX;
/// The memory size does not fit in an `int64_t`.
pub const MTP_SF_ERR_RANGE: i32 = sf::ERR_RANGE;
/// No such user.
pub const MTP_SF_ERR_NO_USER: i32 = sf::ERR_NO_USER;
/// The system refused to change groups, gid or uid.
pub const MTP_SF_ERR_PERMISSION: i32 = sf::ERR_PERMISSION;
/// `getrlimit` failed.
pub const MTP_SF_ERR_SYSCALL: i32 = sf::ERR_SYSCALL;
/// A required pointer was NULL.
pub const MTP_SF_ERR_ARG: i32 = -6;
/// `mtp_raise_file_limit` succeeded but the soft limit stays below the
/// wanted value (a warning, not an error).
pub const MTP_SF_CLAMPED: i32 = 1;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_file_limit` from it.
pub use mtproxy_core::common::server_functions::FileLimit as mtp_file_limit;
