//! Plain data of the server-functions contract (see the shim in mtproxy-ffi
//! for the functions): its codes and the file-limit struct, with its
//! conversion from the core type.
use mtproxy_core::common::server_functions::{self as sf, FileLimit};

/// Not a memory size (`<1..19 digits>[kKmMgGtT]`).
pub const MTP_SF_ERR_SYNTAX: i32 = -1;
/// The memory size does not fit in an `int64_t`.
pub const MTP_SF_ERR_RANGE: i32 = -2;
/// No such user.
pub const MTP_SF_ERR_NO_USER: i32 = -3;
/// The system refused to change groups, gid or uid.
pub const MTP_SF_ERR_PERMISSION: i32 = -4;
/// `getrlimit` failed.
pub const MTP_SF_ERR_SYSCALL: i32 = -5;
/// A required pointer was NULL.
pub const MTP_SF_ERR_ARG: i32 = -6;
/// `mtp_raise_file_limit` succeeded but the soft limit stays below the
/// wanted value (a warning, not an error).
pub const MTP_SF_CLAMPED: i32 = 1;

const _: () = assert!(
    MTP_SF_ERR_SYNTAX == sf::ERR_SYNTAX
        && MTP_SF_ERR_RANGE == sf::ERR_RANGE
        && MTP_SF_ERR_NO_USER == sf::ERR_NO_USER
        && MTP_SF_ERR_PERMISSION == sf::ERR_PERMISSION
        && MTP_SF_ERR_SYSCALL == sf::ERR_SYSCALL
);

/// `RLIMIT_NOFILE` limits (`UINT64_MAX` is unlimited).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_file_limit {
    pub soft: u64,
    pub hard: u64,
}

impl From<FileLimit> for mtp_file_limit {
    fn from(l: FileLimit) -> Self {
        mtp_file_limit {
            soft: l.soft,
            hard: l.hard,
        }
    }
}
