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
// `ProxyStats` is the contract's `mtp_proxy_stats` (one repr(C) definition,
// in the core; the header names it so).
use mtproxy_core::net::stats_http::{self as core, ProxyStats, StatsStrings};

/// The codes and records of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::stats_http::*;

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
    stats: *const ProxyStats,
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
    core::render_text(stats, &strings, unsafe { raw::bytes_mut(out, cap) })
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
    stats: *const ProxyStats,
    out: *mut u8,
    cap: usize,
) -> usize {
    // SAFETY: null or valid by the caller's contract.
    match unsafe { stats.as_ref() } {
        Some(stats) if !out.is_null() || cap == 0 => {
            // SAFETY: `cap` writable bytes by the caller's contract.
            let out = unsafe { raw::bytes_mut(out, cap) };
            core::render_prometheus(stats, out)
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
    *out = got.into();
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
