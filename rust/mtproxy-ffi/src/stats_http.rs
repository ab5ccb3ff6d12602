//! Contract of the stats-http module (docs/PROTOCOL.md §6), sans-IO: the
//! `/stats` text body and a Prometheus rendering of the same counters, the
//! stats port's HTTP request parser, and the response head.
//!
//! Text body: `name<TAB>value\n` lines in upstream's order (generic `pid`,
//! `start_time`, `current_time`, `uptime`, then `vmsize_bytes`, `vmrss_bytes`,
//! `vmdata_bytes`, then the proxy fields); upstream's per-module blocks
//! (`>>>>>>name>>>>>>` ...) are left out. `*_milli` fields are thousandths,
//! printed with three decimals (`qps_get`, `http_qps`); list fields print
//! space-separated; control bytes in strings print as `?`.
use crate::raw;
use mtproxy_core::net::stats_http::{self as core, ProxyStats, StatsStrings};

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
    MTP_STATS_ERR_ARG == core::ERR_ARG
        && MTP_STATS_ERR_SPACE == core::ERR_SPACE
        && MTP_STATS_HTTP_MAX_HEADER_LEN as usize == core::MAX_HEADER_LEN
        && MTP_STATS_HTTP_MAX_HEAD_LEN as usize == core::MAX_HEAD_LEN
        && MTP_STATS_HTTP_MAX_CONTENT_TYPE_LEN as usize == core::MAX_CONTENT_TYPE_LEN
        && MTP_STATS_TARGET_STATS == core::TARGET_STATS
        && MTP_STATS_TARGET_METRICS == core::TARGET_METRICS
);

/// The numeric stats: docs/PROTOCOL.md §6's proxy fields plus the generic ones.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
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
#[allow(non_camel_case_types)]
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
#[allow(non_camel_case_types)]
pub struct mtp_http_request {
    /// 0: head incomplete, read more. Else an HTTP status: 200, 400, 404,
    /// 405, 411, 431, 501 (rules at `mtp_stats_http_parse`).
    pub status: i32,
    /// `MTP_STATS_TARGET_*` (with status 200).
    pub target: i32,
    /// Bytes of the head including its empty line (0 while incomplete / 431).
    pub header_len: usize,
}

/// Renders the `/stats` text body into `out` if it fits (else `out` is not
/// touched) and returns its length, like snprintf without the NUL. Returns 0
/// and writes nothing for a null `stats`, or a string with a null pointer
/// and nonzero length; a null `strings` means all strings empty.
///
/// # Safety
/// `stats` / `strings` null or valid, the strings' pointers valid for their
/// lengths; `out` has `cap` writable bytes (null if 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_stats_render_text(
    stats: *const mtp_proxy_stats,
    strings: *const mtp_stats_strings,
    out: *mut u8,
    cap: usize,
) -> usize {
    // SAFETY: null or valid by the caller's contract.
    let (Some(stats), strings) = (unsafe { stats.as_ref() }, unsafe { strings.as_ref() }) else {
        return 0;
    };
    let text = |p: *const u8, len: usize| {
        // SAFETY: valid for `len` bytes by the caller's contract.
        (!p.is_null() || len == 0).then(|| unsafe { raw::bytes(p, len) })
    };
    let strings = match strings {
        None => Some(StatsStrings::default()),
        Some(s) => (|| {
            Some(StatsStrings {
                config_filename: text(s.config_filename, s.config_filename_len)?,
                config_md5: text(s.config_md5, s.config_md5_len)?,
                version: text(s.version, s.version_len)?,
            })
        })(),
    };
    let (Some(strings), false) = (strings, out.is_null() && cap > 0) else {
        return 0;
    };
    // SAFETY: `cap` writable bytes by the caller's contract.
    core::render_text(&stats.into(), &strings, unsafe { raw::bytes_mut(out, cap) })
}

/// Renders the numeric fields in Prometheus text format: per field `# TYPE
/// mtproxy_<name> gauge|counter` then `mtproxy_<name> <value>`; list fields
/// give one sample per element labelled `{index="i"}`. Same length / fit
/// rule as `mtp_stats_render_text` (0 for a null `stats`).
///
/// # Safety
/// `stats` null or valid; `out` has `cap` writable bytes (null if 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_stats_render_prometheus(
    stats: *const mtp_proxy_stats,
    out: *mut u8,
    cap: usize,
) -> usize {
    // SAFETY: null or valid by the caller's contract.
    match unsafe { stats.as_ref() } {
        Some(stats) if !out.is_null() || cap == 0 => {
            // SAFETY: `cap` writable bytes by the caller's contract.
            let out = unsafe { raw::bytes_mut(out, cap) };
            core::render_prometheus(&stats.into(), out)
        }
        _ => 0,
    }
}

/// Judges the bytes received so far on a stats connection; judged only once
/// the head is complete (first empty line; LF line ends, CR before it
/// optional), so more bytes never change a verdict. 431: no end of head in
/// the first 8192 bytes. 400: request line not `METHOD SP target SP
/// HTTP/1.0|1.1` (token method ≤ 32 bytes, visible-ASCII target), empty first
/// line, a header line without token name and `:`, control bytes in a value,
/// bad or conflicting Content-Length. GET: 200 for exactly `/stats` or
/// `/metrics`, else 404. POST/PUT/PATCH: 501 with Transfer-Encoding, 411
/// without Content-Length, else 405. HEAD/OPTIONS/DELETE/CONNECT/TRACE: 405.
/// Other methods: 501. Returns 0, or `MTP_STATS_ERR_ARG` for null pointers.
///
/// # Safety
/// `data` has `len` readable bytes (null if 0); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_stats_http_parse(
    data: *const u8,
    len: usize,
    out: *mut mtp_http_request,
) -> i32 {
    // SAFETY: null or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !data.is_null() || len == 0) else {
        return MTP_STATS_ERR_ARG;
    };
    // SAFETY: `len` readable bytes by the caller's contract.
    let got = core::parse_request(unsafe { raw::bytes(data, len) });
    *out = mtp_http_request {
        status: got.status,
        target: got.target,
        header_len: got.header_len,
    };
    0
}

/// Writes a response head: `HTTP/1.1 <status> <reason>`, `Server:
/// MTProxy/1.0`, `Date:` (RFC 7231 IMF-fixdate of `now`), `Content-Type:`,
/// `Connection: close`, `Content-Length:`, `Allow: GET` for 405, empty line;
/// CRLF line ends. `*written` = its length. `MTP_STATS_ERR_ARG`: status not
/// one of 200 400 404 405 411 431 501, content type over 256 bytes or with
/// bytes outside 0x20..0x7e, `now` outside 0..=253402300799, null pointers;
/// `MTP_STATS_ERR_SPACE`: `cap` too small (512 always suffices).
///
/// # Safety
/// `content_type` has `content_type_len` bytes; `out` has `cap` writable
/// bytes (null if 0); `written` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_stats_http_response_head(
    status: i32,
    content_type: *const u8,
    content_type_len: usize,
    content_length: u64,
    now: i64,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> i32 {
    if (content_type.is_null() && content_type_len > 0) || (out.is_null() && cap > 0) {
        return MTP_STATS_ERR_ARG;
    }
    // SAFETY: valid for their lengths by the caller's contract.
    let (content_type, out) = unsafe {
        (
            raw::bytes(content_type, content_type_len),
            raw::bytes_mut(out, cap),
        )
    };
    match core::response_head(status, content_type, content_length, now, out) {
        Ok(n) => {
            // SAFETY: null or writable by the caller's contract.
            if let Some(w) = unsafe { written.as_mut() } {
                *w = n;
            }
            0
        }
        Err(code) => code,
    }
}
