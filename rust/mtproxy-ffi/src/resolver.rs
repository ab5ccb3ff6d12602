//! Contract of the resolver module: strict IPv4/IPv6 literals and host name
//! resolution.
use crate::raw;
use mtproxy_core::common::resolver::{self, ResolvedAddr};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::resolver::*;

/// Parses a strict dotted quad (four decimal octets 0..255, no leading
/// zeros, nothing else) into the host-order `*out`. Returns 0,
/// `MTP_RESOLVE_ERR_SYNTAX`, or `MTP_RESOLVE_ERR_ARG` for NULL pointers.
///
/// # Safety
/// `s` must point to `len` readable bytes (may be NULL if `len` is 0); `out`
/// must be NULL or point to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn mtp_parse_ipv4(s: *const u8, len: usize, out: *mut u32) -> i32 {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !s.is_null() || len == 0) else {
        return MTP_RESOLVE_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match resolver::parse_ipv4(unsafe { raw::bytes(s, len) }) {
        Ok(ip) => {
            *out = ip;
            0
        }
        Err(code) => code,
    }
}

/// Parses an RFC 4291 IPv6 literal (eight groups of 1-4 hex digits, one `::`
/// for one or more zero groups, optionally a strict dotted IPv4 as the last 32
/// bits; no brackets or zone ids) into 16 network-order bytes at `out`.
/// Returns 0, `MTP_RESOLVE_ERR_SYNTAX`, or `MTP_RESOLVE_ERR_ARG` for NULL
/// pointers.
///
/// # Safety
/// `s` must point to `len` readable bytes (may be NULL if `len` is 0); `out`
/// must be NULL or point to 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_parse_ipv6(s: *const u8, len: usize, out: *mut u8) -> i32 {
    // SAFETY: `out` is NULL or valid for 16 bytes by the caller's contract.
    let Some(out) = (unsafe { raw::array_mut::<16>(out) }).filter(|_| !s.is_null() || len == 0)
    else {
        return MTP_RESOLVE_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match resolver::parse_ipv6(unsafe { raw::bytes(s, len) }) {
        Ok(ip) => {
            *out = ip;
            0
        }
        Err(code) => code,
    }
}

/// Resolves `len` bytes at `name` to an address of `family` (0 any, 4, 6).
/// A strict IPv4/IPv6 literal needs no lookup (`MTP_RESOLVE_ERR_NOT_FOUND`
/// if it is of the other family); anything else must be a valid host name
/// and is looked up with the system resolver, whose first address of the
/// requested family wins. Returns 0, `MTP_RESOLVE_ERR_BAD_NAME`,
/// `MTP_RESOLVE_ERR_NOT_FOUND` or `MTP_RESOLVE_ERR_ARG`.
///
/// # Safety
/// `name` must point to `len` readable bytes (may be NULL if `len` is 0);
/// `out` must be NULL or point to a writable `mtp_resolved_addr`.
#[no_mangle]
pub unsafe extern "C" fn mtp_resolve_host(
    name: *const u8,
    len: usize,
    family: i32,
    out: *mut ResolvedAddr,
) -> i32 {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !name.is_null() || len == 0) else {
        return MTP_RESOLVE_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match resolver::resolve_host(unsafe { raw::bytes(name, len) }, family) {
        Ok(addr) => {
            *out = addr;
            0
        }
        Err(code) => code,
    }
}
