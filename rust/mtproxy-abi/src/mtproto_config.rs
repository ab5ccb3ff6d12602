//! Plain data of the mtproto-config contract (see the shim in mtproxy-ffi
//! for the functions and the opaque config handle): error codes, the parse
//! option, and the cluster and target records (the core's `repr(C)` types
//! themselves).
use mtproxy_core::mtproto::mtproto_config as cfg;

/// An unexpected token or byte: unknown keyword, missing `:` / `;` /
/// argument, a word that is not a number.
pub const MTP_MTPROTO_CONFIG_ERR_SYNTAX: i32 = cfg::ERR_SYNTAX;
/// A DC id outside −32768..32767.
pub const MTP_MTPROTO_CONFIG_ERR_DC_RANGE: i32 = cfg::ERR_DC_RANGE;
/// A port outside 1..65535.
pub const MTP_MTPROTO_CONFIG_ERR_PORT_RANGE: i32 = cfg::ERR_PORT_RANGE;
/// A host longer than 63 bytes, not a valid host name, or a bracketed
/// address that is not an IPv6 literal.
pub const MTP_MTPROTO_CONFIG_ERR_HOST: i32 = cfg::ERR_HOST;
/// A host name without an IPv4 address (or, with
/// `MTP_MTPROTO_CONFIG_LITERAL_HOSTS`, not an IPv4 literal).
pub const MTP_MTPROTO_CONFIG_ERR_RESOLVE: i32 = cfg::ERR_RESOLVE;
/// Lines of one cluster not consecutive.
pub const MTP_MTPROTO_CONFIG_ERR_INTERMIXED: i32 = cfg::ERR_INTERMIXED;
/// A 1025th cluster.
pub const MTP_MTPROTO_CONFIG_ERR_TOO_MANY_CLUSTERS: i32 = cfg::ERR_TOO_MANY_CLUSTERS;
/// A 4097th proxy line.
pub const MTP_MTPROTO_CONFIG_ERR_TOO_MANY_TARGETS: i32 = cfg::ERR_TOO_MANY_TARGETS;
/// `min_connections` outside 1..current max.
pub const MTP_MTPROTO_CONFIG_ERR_MIN_CONNECTIONS: i32 = cfg::ERR_MIN_CONNECTIONS;
/// `max_connections` outside current min..1000.
pub const MTP_MTPROTO_CONFIG_ERR_MAX_CONNECTIONS: i32 = cfg::ERR_MAX_CONNECTIONS;
/// `timeout` outside 10..30000.
pub const MTP_MTPROTO_CONFIG_ERR_TIMEOUT: i32 = cfg::ERR_TIMEOUT;
/// No `proxy` / `proxy_for` line.
pub const MTP_MTPROTO_CONFIG_ERR_NO_PROXIES: i32 = cfg::ERR_NO_PROXIES;
/// A file above 16 MiB (error line 0).
pub const MTP_MTPROTO_CONFIG_ERR_TOO_BIG: i32 = cfg::ERR_TOO_BIG;
/// A null pointer, or unknown option bits.
pub const MTP_MTPROTO_CONFIG_ERR_ARG: i32 = -14;
/// An accessor index out of range.
pub const MTP_MTPROTO_CONFIG_ERR_INDEX: i32 = -15;
/// `mtp_mtproto_config_lookup`: no cluster for the id and no default one.
pub const MTP_MTPROTO_CONFIG_ERR_NOT_FOUND: i32 = -16;
/// Out of memory (C side only; Rust aborts instead).
pub const MTP_MTPROTO_CONFIG_ERR_NO_MEMORY: i32 = -17;

/// Parse option: only IPv4 literals as host words, no lookups.
pub const MTP_MTPROTO_CONFIG_LITERAL_HOSTS: i32 = cfg::OPTION_LITERAL_HOSTS as i32;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_mtproto_cluster` from it.
pub use mtproxy_core::mtproto::mtproto_config::ClusterInfo as mtp_mtproto_cluster;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_mtproto_target` from it.
pub use mtproxy_core::mtproto::mtproto_config::Target as mtp_mtproto_target;
