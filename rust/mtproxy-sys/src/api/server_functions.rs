// Safe wrappers for the server-functions contract; same API as
// mtproxy_core::common::server_functions.

/// The contract's struct is the core's `repr(C)` type itself.
pub use mtproxy_core::common::server_functions::FileLimit;
pub use mtproxy_core::common::server_functions::{
    ERR_NO_USER, ERR_PERMISSION, ERR_RANGE, ERR_SYNTAX, ERR_SYSCALL,
};

const CLAMPED: i32 = ffi::MTP_SF_CLAMPED;

#[inline]
pub fn parse_memory_size(text: &[u8]) -> Result<i64, i32> {
    let text = input(text);
    let mut out = 0;
    // SAFETY: the pointer and length come from one live slice; `out` is writable.
    match unsafe { ffi::mtp_parse_memory_size(text.as_ptr(), text.len(), &mut out) } {
        0 => Ok(out),
        code => Err(code),
    }
}

/// A name with an interior NUL names no user (as in the core, which cannot
/// pass it to the system either).
#[inline]
pub fn lookup_user(name: &str) -> Result<(u32, u32), i32> {
    let name = std::ffi::CString::new(name).map_err(|_| ERR_NO_USER)?;
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: `name` is a live C string; `uid` and `gid` are writable.
    match unsafe { ffi::mtp_lookup_user(name.as_ptr(), &mut uid, &mut gid) } {
        0 => Ok((uid, gid)),
        code => Err(code),
    }
}

#[inline]
pub fn change_user(name: &str) -> Result<(), i32> {
    let name = std::ffi::CString::new(name).map_err(|_| ERR_NO_USER)?;
    // SAFETY: `name` is a live C string.
    match unsafe { ffi::mtp_change_user(name.as_ptr()) } {
        0 => Ok(()),
        code => Err(code),
    }
}

/// `Ok((limits, clamped))`: `clamped` is the contract's MTP_SF_CLAMPED.
#[inline]
pub fn raise_file_limit(wanted: u64) -> Result<(FileLimit, bool), i32> {
    let mut out = FileLimit::default();
    // SAFETY: `out` is a live, writable struct.
    match unsafe { ffi::mtp_raise_file_limit(wanted, &mut out) } {
        0 => Ok((out, false)),
        CLAMPED => Ok((out, true)),
        code => Err(code),
    }
}

/// TCP_WINDOW_CLAMP on a socket; `Err` holds the contract's code.
#[inline]
pub fn set_tcp_window_clamp(fd: std::os::fd::RawFd, clamp: u32) -> Result<(), i32> {
    // SAFETY: plain values; the contract validates both.
    match unsafe { ffi::mtp_set_tcp_window_clamp(fd, clamp) } {
        0 => Ok(()),
        code => Err(code),
    }
}
