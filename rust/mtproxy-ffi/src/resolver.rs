//! Contract of the resolver module: strict IPv4/IPv6 literals and host name
//! resolution.
use crate::raw;
use mtproxy_core::common::resolver::{self, ResolvedAddr};

/// Not a valid address literal.
pub const MTP_RESOLVE_ERR_SYNTAX: i32 = -1;
/// The name has no address of the requested family.
pub const MTP_RESOLVE_ERR_NOT_FOUND: i32 = -2;
/// Not a valid host name: empty, longer than 253 bytes, or a byte outside
/// `[A-Za-z0-9.-]` (and not an address literal).
pub const MTP_RESOLVE_ERR_BAD_NAME: i32 = -3;
/// A required pointer was NULL, or `family` is not 0, 4 or 6.
pub const MTP_RESOLVE_ERR_ARG: i32 = -4;

/// `family` argument of `mtp_resolve_host`: any address, IPv4 only, IPv6
/// only; also the `family` of a result (4 or 6).
pub const MTP_RESOLVE_FAMILY_ANY: i32 = 0;
pub const MTP_RESOLVE_FAMILY_V4: i32 = 4;
pub const MTP_RESOLVE_FAMILY_V6: i32 = 6;

const _: () = assert!(
    MTP_RESOLVE_FAMILY_ANY == resolver::FAMILY_ANY
        && MTP_RESOLVE_FAMILY_V4 == resolver::FAMILY_V4
        && MTP_RESOLVE_FAMILY_V6 == resolver::FAMILY_V6
        && MTP_RESOLVE_ERR_SYNTAX == resolver::ERR_SYNTAX
        && MTP_RESOLVE_ERR_NOT_FOUND == resolver::ERR_NOT_FOUND
        && MTP_RESOLVE_ERR_BAD_NAME == resolver::ERR_BAD_NAME
        && MTP_RESOLVE_ERR_ARG == resolver::ERR_ARG
);

/// A resolved address: `family` is 4 (`ipv4` holds the host-order address,
/// 127.0.0.1 = 0x7f000001) or 6 (`ipv6` holds it in network byte order); the
/// other family's field is zero.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct mtp_resolved_addr {
    pub family: i32,
    pub ipv4: u32,
    pub ipv6: [u8; 16],
}

impl From<ResolvedAddr> for mtp_resolved_addr {
    fn from(a: ResolvedAddr) -> Self {
        mtp_resolved_addr {
            family: a.family,
            ipv4: a.ipv4,
            ipv6: a.ipv6,
        }
    }
}

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
    out: *mut mtp_resolved_addr,
) -> i32 {
    // SAFETY: `out` is NULL or valid for writes by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !name.is_null() || len == 0) else {
        return MTP_RESOLVE_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    match resolver::resolve_host(unsafe { raw::bytes(name, len) }, family) {
        Ok(addr) => {
            *out = addr.into();
            0
        }
        Err(code) => code,
    }
}
