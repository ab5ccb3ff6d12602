//! The local stats endpoint (docs/PROTOCOL.md §6), sans-IO: the `/stats` text
//! body and a Prometheus rendering of the same counters, the HTTP request
//! parser for the stats port, and the response head.
//!
//! Text body: `name<TAB>value\n` lines in upstream's order: the generic
//! `pid`, `start_time`, `current_time`, `uptime`, then `vmsize_bytes`,
//! `vmrss_bytes`, `vmdata_bytes`, then the proxy fields. Upstream's
//! per-module blocks (`>>>>>>name>>>>>>` ... `<<<<<<name<<<<<<`: connections,
//! raw_msg, jobs, ...) and the idle/epoll counters describe upstream's own
//! engine internals and are left out. Rates are fixed-point thousandths
//! (`qps_get_milli` = 1500 renders `1.500`), so both implementations print
//! the same digits without floating point. Control bytes in the strings are
//! printed as `?` so a string cannot add lines.
mod http;
mod render;

pub use http::{
    http_date, parse_request, response_head, HttpRequest, MAX_CONTENT_TYPE_LEN, MAX_HEADER_LEN,
    MAX_HEAD_LEN, MAX_UNIX_TIME, TARGET_METRICS, TARGET_NONE, TARGET_STATS,
};
pub use render::{render_prometheus, render_text};

/// An argument out of range (unknown status, bad content type, time).
pub const ERR_ARG: i32 = -1;
/// The output buffer is too small.
pub const ERR_SPACE: i32 = -2;

/// The numeric stats (docs/PROTOCOL.md §6 field table plus the generic ones).
/// All counters are signed 64-bit; `*_milli` fields are thousandths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
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

/// The string stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsStrings<'a> {
    pub config_filename: &'a [u8],
    pub config_md5: &'a [u8],
    pub version: &'a [u8],
}

#[cfg(test)]
mod tests;
