//! Plain data of the resolver contract (see the shim in mtproxy-ffi for
//! the functions): its codes and the resolved-address struct (the core's
//! `repr(C)` type itself).
use mtproxy_core::common::resolver;

/// Not a valid address literal.
pub const MTP_RESOLVE_ERR_SYNTAX: i32 = resolver::ERR_SYNTAX;
/// The name has no address of the requested family.
pub const MTP_RESOLVE_ERR_NOT_FOUND: i32 = resolver::ERR_NOT_FOUND;
/// Not a valid host name: empty, longer than 253 bytes, or a byte outside
/// `[A-Za-z0-9.-]` (and not an address literal).
pub const MTP_RESOLVE_ERR_BAD_NAME: i32 = resolver::ERR_BAD_NAME;
/// A required pointer was NULL, or `family` is not 0, 4 or 6.
pub const MTP_RESOLVE_ERR_ARG: i32 = resolver::ERR_ARG;

/// `family` argument of `mtp_resolve_host`: any address, IPv4 only, IPv6
/// only; also the `family` of a result (4 or 6).
pub const MTP_RESOLVE_FAMILY_ANY: i32 = resolver::FAMILY_ANY;
pub const MTP_RESOLVE_FAMILY_V4: i32 = resolver::FAMILY_V4;
pub const MTP_RESOLVE_FAMILY_V6: i32 = resolver::FAMILY_V6;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_resolved_addr` from it.
pub use mtproxy_core::common::resolver::ResolvedAddr as mtp_resolved_addr;
