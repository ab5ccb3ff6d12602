//! Plain data of the stats-http contract (see the shim in mtproxy-ffi for
//! the functions): error codes, sizes, targets and the stats, strings and
//! request records, with their conversions to the core types.
use mtproxy_core::net::stats_http::{self as stats, HttpRequest, ProxyStats, StatsStrings};

/// An argument out of range, or a null pointer.
pub const MTP_STATS_ERR_ARG: i32 = -1;
/// The output buffer is too small.
pub const MTP_STATS_ERR_SPACE: i32 = -2;
/// Longest request head accepted (bytes, final empty line included).
pub const MTP_STATS_HTTP_MAX_HEADER_LEN: i32 = 8192;
/// A buffer this large always holds a response head.
pub const MTP_STATS_HTTP_MAX_HEAD_LEN: i32 = 512;
/// Longest content type for a response head.
pub const MTP_STATS_HTTP_MAX_CONTENT_TYPE_LEN: i32 = 256;
/// Resource of a 200: none, `/stats`, `/metrics`.
pub const MTP_STATS_TARGET_NONE: i32 = 0;
pub const MTP_STATS_TARGET_STATS: i32 = 1;
pub const MTP_STATS_TARGET_METRICS: i32 = 2;

const _: () = assert!(
    MTP_STATS_ERR_ARG == stats::ERR_ARG
        && MTP_STATS_ERR_SPACE == stats::ERR_SPACE
        && MTP_STATS_HTTP_MAX_HEADER_LEN as usize == stats::MAX_HEADER_LEN
        && MTP_STATS_HTTP_MAX_HEAD_LEN as usize == stats::MAX_HEAD_LEN
        && MTP_STATS_HTTP_MAX_CONTENT_TYPE_LEN as usize == stats::MAX_CONTENT_TYPE_LEN
        && MTP_STATS_TARGET_STATS == stats::TARGET_STATS
        && MTP_STATS_TARGET_METRICS == stats::TARGET_METRICS
);

/// The numeric stats: docs/PROTOCOL.md §6's proxy fields plus the generic ones.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_proxy_stats {
    pub pid: i64,
    pub start_time: i64,
    pub current_time: i64,
    pub uptime: i64,
    pub vmsize_bytes: i64,
    pub vmrss_bytes: i64,
    pub vmdata_bytes: i64,
    pub config_loaded_at: i64,
    pub config_size: i64,
    pub config_auth_clusters: i64,
    pub workers: i64,
    pub queries_get: i64,
    pub qps_get_milli: i64,
    pub tot_forwarded_queries: i64,
    pub expired_forwarded_queries: i64,
    pub dropped_queries: i64,
    pub tot_forwarded_responses: i64,
    pub dropped_responses: i64,
    pub tot_forwarded_simple_acks: i64,
    pub dropped_simple_acks: i64,
    pub active_rpcs_created: i64,
    pub active_rpcs: i64,
    pub rpc_dropped_answers: i64,
    pub rpc_dropped_running: i64,
    pub window_clamp: i64,
    pub total_ready_targets: i64,
    pub total_allocated_targets: i64,
    pub total_declared_targets: i64,
    pub total_inactive_targets: i64,
    pub total_connections: i64,
    pub total_encrypted_connections: i64,
    pub total_allocated_connections: i64,
    pub total_allocated_outbound_connections: i64,
    pub total_allocated_inbound_connections: i64,
    pub total_allocated_socket_connections: i64,
    pub total_dh_connections: i64,
    pub total_dh_rounds: [i64; 3],
    pub total_special_connections: i64,
    pub total_max_special_connections: i64,
    pub total_accept_connections_failed: [i64; 5],
    pub ext_connections: i64,
    pub ext_connections_created: i64,
    pub total_active_network_events: i64,
    pub total_network_buffers_used_size: i64,
    pub total_network_buffers_allocated_bytes: i64,
    pub total_network_buffers_used: i64,
    pub total_network_chunks_allocated: i64,
    pub total_network_chunks_allocated_max: i64,
    pub mtproto_proxy_errors: i64,
    pub connections_failed_lru: i64,
    pub connections_failed_flood: i64,
    pub http_connections: i64,
    pub pending_http_queries: i64,
    pub http_queries: i64,
    pub http_bad_headers: i64,
    pub http_qps_milli: i64,
    pub proxy_mode: i64,
    pub proxy_tag_set: i64,
}

/// Copies the same-named fields (the two structs list the same fields).
macro_rules! copy_fields {
    ($from:expr => $to:ident { $($field:ident),* }) => {
        $to { $($field: $from.$field),* }
    };
}

impl From<&mtp_proxy_stats> for ProxyStats {
    fn from(s: &mtp_proxy_stats) -> Self {
        copy_fields!(s => ProxyStats { pid, start_time, current_time, uptime, vmsize_bytes, vmrss_bytes, vmdata_bytes, config_loaded_at, config_size, config_auth_clusters, workers, queries_get, qps_get_milli, tot_forwarded_queries, expired_forwarded_queries, dropped_queries, tot_forwarded_responses, dropped_responses, tot_forwarded_simple_acks, dropped_simple_acks, active_rpcs_created, active_rpcs, rpc_dropped_answers, rpc_dropped_running, window_clamp, total_ready_targets, total_allocated_targets, total_declared_targets, total_inactive_targets, total_connections, total_encrypted_connections, total_allocated_connections, total_allocated_outbound_connections, total_allocated_inbound_connections, total_allocated_socket_connections, total_dh_connections, total_dh_rounds, total_special_connections, total_max_special_connections, total_accept_connections_failed, ext_connections, ext_connections_created, total_active_network_events, total_network_buffers_used_size, total_network_buffers_allocated_bytes, total_network_buffers_used, total_network_chunks_allocated, total_network_chunks_allocated_max, mtproto_proxy_errors, connections_failed_lru, connections_failed_flood, http_connections, pending_http_queries, http_queries, http_bad_headers, http_qps_milli, proxy_mode, proxy_tag_set })
    }
}

/// The string stats, each `(pointer, length)`; a null pointer with length 0
/// is an empty string.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_stats_strings {
    pub config_filename: *const u8,
    pub config_filename_len: usize,
    pub config_md5: *const u8,
    pub config_md5_len: usize,
    pub version: *const u8,
    pub version_len: usize,
}

/// What `mtp_stats_http_parse` decided.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_http_request {
    /// 0: head incomplete, read more. Else an HTTP status: 200, 400, 404,
    /// 405, 411, 431, 501 (rules at `mtp_stats_http_parse`).
    pub status: i32,
    /// `MTP_STATS_TARGET_*` (with status 200).
    pub target: i32,
    /// Bytes of the head including its empty line (0 while incomplete / 431).
    pub header_len: usize,
}

/// All strings empty (null pointers, zero lengths).
impl Default for mtp_stats_strings {
    fn default() -> Self {
        mtp_stats_strings {
            config_filename: core::ptr::null(),
            config_filename_len: 0,
            config_md5: core::ptr::null(),
            config_md5_len: 0,
            version: core::ptr::null(),
            version_len: 0,
        }
    }
}

/// Borrows the slices: the pointers are valid as long as `s`'s slices are.
impl From<&StatsStrings<'_>> for mtp_stats_strings {
    fn from(s: &StatsStrings<'_>) -> Self {
        mtp_stats_strings {
            config_filename: s.config_filename.as_ptr(),
            config_filename_len: s.config_filename.len(),
            config_md5: s.config_md5.as_ptr(),
            config_md5_len: s.config_md5.len(),
            version: s.version.as_ptr(),
            version_len: s.version.len(),
        }
    }
}

impl From<HttpRequest> for mtp_http_request {
    fn from(r: HttpRequest) -> Self {
        mtp_http_request {
            status: r.status,
            target: r.target,
            header_len: r.header_len,
        }
    }
}

impl From<mtp_http_request> for HttpRequest {
    fn from(r: mtp_http_request) -> Self {
        HttpRequest {
            status: r.status,
            target: r.target,
            header_len: r.header_len,
        }
    }
}
