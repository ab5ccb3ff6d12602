//! Plain data of the stats-http contract (see the shim in mtproxy-ffi for
//! the functions): error codes, sizes, targets and the stats, strings and
//! request records, with their conversions to the core types.
use mtproxy_core::net::stats_http::{self as stats, HttpRequest, StatsStrings};

/// An argument out of range, or a null pointer.
pub const MTP_STATS_ERR_ARG: i32 = stats::ERR_ARG;
/// The output buffer is too small.
pub const MTP_STATS_ERR_SPACE: i32 = stats::ERR_SPACE;
/// Longest request head accepted (bytes, final empty line included).
pub const MTP_STATS_HTTP_MAX_HEADER_LEN: i32 = stats::MAX_HEADER_LEN as i32;
/// A buffer this large always holds a response head.
pub const MTP_STATS_HTTP_MAX_HEAD_LEN: i32 = stats::MAX_HEAD_LEN as i32;
/// Longest content type for a response head.
pub const MTP_STATS_HTTP_MAX_CONTENT_TYPE_LEN: i32 = stats::MAX_CONTENT_TYPE_LEN as i32;
/// Resource of a 200: none, `/stats`, `/metrics`.
pub const MTP_STATS_TARGET_NONE: i32 = stats::TARGET_NONE;
pub const MTP_STATS_TARGET_STATS: i32 = stats::TARGET_STATS;
pub const MTP_STATS_TARGET_METRICS: i32 = stats::TARGET_METRICS;

/// The numeric stats. Defined once, as the core's `repr(C)` record:
/// `cargo xtask gen` writes the header's `mtp_proxy_stats` from that file.
pub use mtproxy_core::net::stats_http::proxy_stats::ProxyStats as mtp_proxy_stats;

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
