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
use mtproxy_core::mtproto::mtproto_config::{
    ClusterInfo, ProxyConfig, Target, OPTION_LITERAL_HOSTS,
};

/// The codes and records of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::mtproto_config::*;

/// A parsed config (opaque).
#[allow(non_camel_case_types)]
pub struct mtp_mtproto_config(ProxyConfig);

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
    out: *mut ClusterInfo,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let cluster = config.0.cluster(index);
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
    out: *mut Target,
) -> i32 {
    // SAFETY: null or live by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return MTP_MTPROTO_CONFIG_ERR_ARG;
    };
    let target = config.0.target(index);
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
