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
pub mod proxy_stats;
mod render;

pub use http::{
    http_date, parse_request, response_head, HttpRequest, MAX_CONTENT_TYPE_LEN, MAX_HEADER_LEN,
    MAX_HEAD_LEN, MAX_UNIX_TIME, TARGET_METRICS, TARGET_NONE, TARGET_STATS,
};
pub use proxy_stats::ProxyStats;
pub use render::{render_prometheus, render_text};

/// An argument out of range (unknown status, bad content type, time).
pub const ERR_ARG: i32 = -1;
/// The output buffer is too small.
pub const ERR_SPACE: i32 = -2;

/// The string stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsStrings<'a> {
    pub config_filename: &'a [u8],
    pub config_md5: &'a [u8],
    pub version: &'a [u8],
}

#[cfg(test)]
mod tests;
