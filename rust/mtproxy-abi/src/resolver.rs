//! Plain data of the resolver contract (see the shim in mtproxy-ffi for
//! the functions): its codes and the resolved-address struct, with its
//! conversion from the core type.
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
