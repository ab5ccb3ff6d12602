// Safe wrappers for the stats-http contract; same API as
// mtproxy_core::net::stats_http.

pub use mtproxy_core::net::stats_http::{
    HttpRequest, StatsStrings, ERR_ARG, ERR_SPACE, MAX_CONTENT_TYPE_LEN, MAX_HEADER_LEN,
    MAX_HEAD_LEN, MAX_UNIX_TIME, TARGET_METRICS, TARGET_NONE, TARGET_STATS,
};

/// The contract's struct is the core's `repr(C)` record itself.
pub type ProxyStats = ffi::mtp_proxy_stats;

#[inline]
pub fn render_text(stats: &ProxyStats, strings: &StatsStrings<'_>, out: &mut [u8]) -> usize {
    let raw = ffi::mtp_stats_strings::from(strings);
    // SAFETY: every pointer comes from a live reference or slice.
    unsafe { ffi::mtp_stats_render_text(stats, &raw, out.as_mut_ptr(), out.len()) }
}

#[inline]
pub fn render_prometheus(stats: &ProxyStats, out: &mut [u8]) -> usize {
    // SAFETY: a live struct and a live output slice.
    unsafe { ffi::mtp_stats_render_prometheus(stats, out.as_mut_ptr(), out.len()) }
}

#[inline]
pub fn parse_request(data: &[u8]) -> HttpRequest {
    let data = input(data);
    let mut out = ffi::mtp_http_request::default();
    // SAFETY: a live input slice and a writable result; cannot fail with those.
    unsafe { ffi::mtp_stats_http_parse(data.as_ptr(), data.len(), &mut out) };
    out.into()
}

#[inline]
pub fn response_head(
    status: i32,
    content_type: &[u8],
    content_length: u64,
    now: i64,
    out: &mut [u8],
) -> Result<usize, i32> {
    let content_type = input(content_type);
    let mut written = 0;
    // SAFETY: live slices and a writable length.
    match unsafe {
        ffi::mtp_stats_http_response_head(
            status,
            content_type.as_ptr(),
            content_type.len(),
            content_length,
            now,
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    } {
        0 => Ok(written),
        code => Err(code),
    }
}
