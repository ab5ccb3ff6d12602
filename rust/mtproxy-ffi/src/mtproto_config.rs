//! Contract of the mtproto-config module: `proxy-multi.conf` parsed into a
//! cluster table (an opaque handle with accessors).
//!
//! Grammar: `proxy_for DC HOST:PORT;`, `proxy HOST:PORT;` (cluster 0),
//! `default DC;`, `min_connections N;`, `max_connections N;`, `timeout N;`,
//! `#` comments. DC in −32768..32767, PORT in 1..65535, HOST a name or IPv4
//! of at most 63 bytes (resolved to IPv4) or `[IPv6]`. Keywords are whole
//! words (upstream's prefix matching, e.g. `proxy_for2`, is not reproduced).
//! One cluster's lines must be consecutive; at most 1024 clusters and 4096
//! proxy lines; at least one. A repeated `ip:port` is one target that keeps
//! the connection limits of its first line.
use mtproxy_core::mtproto::mtproto_config::{ProxyConfig, Target, OPTION_LITERAL_HOSTS};

/// An unexpected token or byte: unknown keyword, missing `:` / `;` /
/// argument, a word that is not a number.
pub const MTP_MTPROTO_CONFIG_ERR_SYNTAX: i32 = -1;
/// A DC id outside −32768..32767.
pub const MTP_MTPROTO_CONFIG_ERR_DC_RANGE: i32 = -2;
/// A port outside 1..65535.
pub const MTP_MTPROTO_CONFIG_ERR_PORT_RANGE: i32 = -3;
/// A host longer than 63 bytes, not a valid host name, or a bracketed
/// address that is not an IPv6 literal.
pub const MTP_MTPROTO_CONFIG_ERR_HOST: i32 = -4;
/// A host name without an IPv4 address (or, with
/// `MTP_MTPROTO_CONFIG_LITERAL_HOSTS`, not an IPv4 literal).
pub const MTP_MTPROTO_CONFIG_ERR_RESOLVE: i32 = -5;
/// Lines of one cluster not consecutive.
pub const MTP_MTPROTO_CONFIG_ERR_INTERMIXED: i32 = -6;
/// A 1025th cluster.
pub const MTP_MTPROTO_CONFIG_ERR_TOO_MANY_CLUSTERS: i32 = -7;
/// A 4097th proxy line.
pub const MTP_MTPROTO_CONFIG_ERR_TOO_MANY_TARGETS: i32 = -8;
/// `min_connections` outside 1..current max.
pub const MTP_MTPROTO_CONFIG_ERR_MIN_CONNECTIONS: i32 = -9;
/// `max_connections` outside current min..1000.
pub const MTP_MTPROTO_CONFIG_ERR_MAX_CONNECTIONS: i32 = -10;
/// `timeout` outside 10..30000.
pub const MTP_MTPROTO_CONFIG_ERR_TIMEOUT: i32 = -11;
/// No `proxy` / `proxy_for` line.
pub const MTP_MTPROTO_CONFIG_ERR_NO_PROXIES: i32 = -12;
/// A file above 16 MiB (error line 0).
pub const MTP_MTPROTO_CONFIG_ERR_TOO_BIG: i32 = -13;
/// A null pointer, or unknown option bits.
pub const MTP_MTPROTO_CONFIG_ERR_ARG: i32 = -14;
/// An accessor index out of range.
pub const MTP_MTPROTO_CONFIG_ERR_INDEX: i32 = -15;
/// `mtp_mtproto_config_lookup`: no cluster for the id and no default one.
pub const MTP_MTPROTO_CONFIG_ERR_NOT_FOUND: i32 = -16;
/// Out of memory (C side only; Rust aborts instead).
pub const MTP_MTPROTO_CONFIG_ERR_NO_MEMORY: i32 = -17;

/// Parse option: only IPv4 literals as host words, no lookups.
pub const MTP_MTPROTO_CONFIG_LITERAL_HOSTS: i32 = 1;

/// A parsed config (opaque).
#[allow(non_camel_case_types)]
pub struct mtp_mtproto_config(ProxyConfig);

/// A cluster: its DC id and number of proxy lines.
#[repr(C)]
pub struct mtp_mtproto_cluster {
    pub id: i32,
    pub target_count: usize,
}

/// A target: `family` 4 (`ipv4` host-order, 127.0.0.1 = 0x7f000001) or 6
/// (`ipv6` network order), the port and the connection limits of its first
/// line.
#[repr(C)]
pub struct mtp_mtproto_target {
    pub family: i32,
    pub ipv4: u32,
    pub ipv6: [u8; 16],
    pub port: i32,
    pub min_connections: i32,
    pub max_connections: i32,
}

/// Writes `value` (if `Some`) to a non-null `out`.
///
/// # Safety
/// `out` is null or writable.
unsafe fn deliver<T>(out: *mut T, value: Option<T>, missing: i32) -> i32 {
    if out.is_null() {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    }
    let Some(value) = value else {
        return missing;
    };
    // SAFETY: non-null, so writable by the caller's contract.
    unsafe { out.write(value) };
    0
}

/// Parses `len` bytes at `data` with `options` (0 or
/// `MTP_MTPROTO_CONFIG_LITERAL_HOSTS`). On success `*out` gets a config to
/// release with `mtp_mtproto_config_free`; on failure the error's line goes
/// to `*error_line` (if non-null) and the code is returned.
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); `out` null or
/// writable; `error_line` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_parse(
    data: *const u8,
    len: usize,
    options: i32,
    out: *mut *mut mtp_mtproto_config,
    error_line: *mut i32,
) -> i32 {
    if (data.is_null() && len > 0)
        || out.is_null()
        || options & !MTP_MTPROTO_CONFIG_LITERAL_HOSTS != 0
    {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    }
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    let text = unsafe { crate::raw::bytes(data, len) };
    match ProxyConfig::parse(text, options as u32 & OPTION_LITERAL_HOSTS) {
        Ok(config) => {
            // SAFETY: non-null, so writable by the caller's contract.
            unsafe { out.write(Box::into_raw(Box::new(mtp_mtproto_config(config)))) };
            0
        }
        Err(e) => {
            // SAFETY: null or writable by the caller's contract.
            if let Some(line) = unsafe { error_line.as_mut() } {
                *line = e.line;
            }
            e.code
        }
    }
}

/// Releases a config; null does nothing.
///
/// # Safety
/// `config` is null or from `mtp_mtproto_config_parse`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_free(config: *mut mtp_mtproto_config) {
    if !config.is_null() {
        // SAFETY: made by Box::into_raw in mtp_mtproto_config_parse.
        drop(unsafe { Box::from_raw(config) });
    }
}

/// Number of clusters (0 for null).
///
/// # Safety
/// `config` is null or a live config.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_cluster_count(
    config: *const mtp_mtproto_config,
) -> usize {
    // SAFETY: null or live by the caller's contract.
    unsafe { config.as_ref() }.map_or(0, |c| c.0.cluster_count())
}

/// Cluster `index` (in order of first line) into `*out`.
///
/// # Safety
/// `config` null or live; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_cluster(
    config: *const mtp_mtproto_config,
    index: usize,
    out: *mut mtp_mtproto_cluster,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let cluster = config.0.cluster(index).map(|c| mtp_mtproto_cluster {
        id: c.id,
        target_count: c.target_count,
    });
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, cluster, MTP_MTPROTO_CONFIG_ERR_INDEX) }
}

/// The target index of cluster `cluster`'s `line`-th proxy line.
///
/// # Safety
/// `config` null or live; `target_index` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_cluster_target(
    config: *const mtp_mtproto_config,
    cluster: usize,
    line: usize,
    target_index: *mut usize,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let found = config.0.cluster_target(cluster, line);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(target_index, found, MTP_MTPROTO_CONFIG_ERR_INDEX) }
}

/// Number of distinct targets (0 for null).
///
/// # Safety
/// `config` is null or a live config.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_target_count(
    config: *const mtp_mtproto_config,
) -> usize {
    // SAFETY: null or live by the caller's contract.
    unsafe { config.as_ref() }.map_or(0, |c| c.0.target_count())
}

/// Target `index` (in order of first appearance) into `*out`.
///
/// # Safety
/// `config` null or live; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_target(
    config: *const mtp_mtproto_config,
    index: usize,
    out: *mut mtp_mtproto_target,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let target = config.0.target(index).map(|t: Target| mtp_mtproto_target {
        family: t.family,
        ipv4: t.ipv4,
        ipv6: t.ipv6,
        port: t.port,
        min_connections: t.min_connections,
        max_connections: t.max_connections,
    });
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, target, MTP_MTPROTO_CONFIG_ERR_INDEX) }
}

/// The `default` cluster id (0 if the file has none).
///
/// # Safety
/// `config` null or live; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_default_cluster_id(
    config: *const mtp_mtproto_config,
    out: *mut i32,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, Some(config.0.default_cluster_id()), 0) }
}

/// The cluster index for a client's DC id: the cluster with that id, else
/// the default cluster, else `MTP_MTPROTO_CONFIG_ERR_NOT_FOUND`.
///
/// # Safety
/// `config` null or live; `cluster_index` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_mtproto_config_lookup(
    config: *const mtp_mtproto_config,
    dc: i32,
    cluster_index: *mut usize,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let found = config.0.lookup(dc);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(cluster_index, found, MTP_MTPROTO_CONFIG_ERR_NOT_FOUND) }
}
