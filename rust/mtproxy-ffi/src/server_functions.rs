//! Contract of the server-functions module: memory sizes, users, the
//! open-file limit.
use crate::raw;
use mtproxy_core::common::server_functions::{self as sf, FileLimit};
use std::ffi::{c_char, CStr};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::server_functions::*;

/// Parses `len` bytes at `s` as `<1..19 decimal digits>` plus an optional
/// suffix k/K, m/M, g/G, t/T (times 1024^1..4) into `*out` bytes. Returns 0,
/// `MTP_SF_ERR_SYNTAX`, `MTP_SF_ERR_RANGE` or `MTP_SF_ERR_ARG`.
///
/// # Safety
/// `s` must point to `len` readable bytes (may be NULL if `len` is 0); `out`
/// must be NULL or point to a writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn mtp_parse_memory_size(s: *const u8, len: usize, out: *mut i64) -> i32 {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !s.is_null() || len == 0) else {
        return MTP_SF_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match sf::parse_memory_size(unsafe { raw::bytes(s, len) }) {
        Ok(size) => {
            *out = size;
            0
        }
        Err(code) => code,
    }
}

/// A C string as `&str`; a name that is not UTF-8 names no user (user names
/// are ASCII in practice).
///
/// # Safety
/// `name` must be a valid NUL-terminated string that outlives `'a`.
unsafe fn user_name<'a>(name: *const c_char) -> Result<&'a str, i32> {
    // SAFETY: forwarded caller contract.
    unsafe { CStr::from_ptr(name) }
        .to_str()
        .map_err(|_| MTP_SF_ERR_NO_USER)
}

/// Looks user `name` up in the passwd database: 0 and its uid/gid, or
/// `MTP_SF_ERR_NO_USER`, or `MTP_SF_ERR_ARG` for NULL pointers.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `uid` and `gid` must be
/// NULL or point to writable `uint32_t`s.
#[no_mangle]
pub unsafe extern "C" fn mtp_lookup_user(name: *const c_char, uid: *mut u32, gid: *mut u32) -> i32 {
    // SAFETY: `uid` and `gid` are NULL or valid for writes by the caller's contract.
    let (Some(uid), Some(gid)) = (unsafe { (uid.as_mut(), gid.as_mut()) }) else {
        return MTP_SF_ERR_ARG;
    };
    if name.is_null() {
        return MTP_SF_ERR_ARG;
    }
    // SAFETY: `name` is a non-NULL C string by the caller's contract.
    match unsafe { user_name(name) }.and_then(sf::lookup_user) {
        Ok((u, g)) => {
            (*uid, *gid) = (u, g);
            0
        }
        Err(code) => code,
    }
}

/// Drops privileges to user `name`: supplementary groups become just the
/// user's group, then setgid and setuid. NULL or "" means user "mtproxy" when
/// running as root and nothing (returns 0) otherwise. Returns 0,
/// `MTP_SF_ERR_NO_USER` or `MTP_SF_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mtp_change_user(name: *const c_char) -> i32 {
    let name = if name.is_null() {
        Ok("")
    } else {
        // SAFETY: `name` is a non-NULL C string by the caller's contract.
        unsafe { user_name(name) }
    };
    match name.and_then(sf::change_user) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// Makes at least `wanted` file descriptors available if allowed: no change
/// if the soft `RLIMIT_NOFILE` already reaches it; else sets the soft limit
/// (and the hard one if `wanted` is above it) to `wanted`, and if that is
/// refused raises the soft limit to the hard one. `*result` gets the limits
/// now in effect. Returns 0 if the soft limit reaches `wanted`,
/// `MTP_SF_CLAMPED` if it stays below (warn, don't die),
/// `MTP_SF_ERR_SYSCALL` if the limits cannot be read, or `MTP_SF_ERR_ARG`.
///
/// # Safety
/// `result` must be NULL or point to a writable `mtp_file_limit`.
#[no_mangle]
pub unsafe extern "C" fn mtp_raise_file_limit(wanted: u64, result: *mut FileLimit) -> i32 {
    // SAFETY: `result` is NULL or valid for writes by the caller's contract.
    let Some(result) = (unsafe { result.as_mut() }) else {
        return MTP_SF_ERR_ARG;
    };
    match sf::raise_file_limit(wanted) {
        Ok((limit, clamped)) => {
            *result = limit;
            if clamped {
                MTP_SF_CLAMPED
            } else {
                0
            }
        }
        Err(code) => code,
    }
}

/// Sets TCP_WINDOW_CLAMP on socket `fd` to `clamp` bytes (`-W`; a
/// listener's clamp is inherited by the sockets it accepts). Returns 0,
/// `MTP_SF_ERR_ARG` for a negative fd or a clamp above `INT32_MAX`, or
/// `MTP_SF_ERR_SYSCALL` if the kernel refused (errno tells why).
#[no_mangle]
pub extern "C" fn mtp_set_tcp_window_clamp(fd: i32, clamp: u32) -> i32 {
    let Ok(value) = libc::c_int::try_from(clamp) else {
        return MTP_SF_ERR_ARG;
    };
    if fd < 0 {
        return MTP_SF_ERR_ARG;
    }
    // A single socket option with no safe wrapper in nix: the call itself
    // is the whole Rust side of this function.
    // SAFETY: `value` is a live c_int and its exact size is passed; the
    // kernel validates `fd`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_WINDOW_CLAMP,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        0
    } else {
        MTP_SF_ERR_SYSCALL
    }
}
