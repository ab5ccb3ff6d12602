//! HTTP/1.x request heads on the stats port, and response heads.
//!
//! A request is judged only once its head is complete (up to the first empty
//! line; lines end in LF with an optional CR before it), so feeding more
//! bytes never changes a verdict already given. Verdicts, as HTTP statuses:
//! - 0: head incomplete, read more;
//! - 431: no end of head within the first [`MAX_HEADER_LEN`] bytes;
//! - 400: request line not `METHOD SP target SP HTTP/1.0|1.1` (method a
//!   token of at most 32 bytes, target visible ASCII), an empty first line, a
//!   header line without a token name and `:`, control bytes in a value, or a
//!   bad/conflicting Content-Length;
//! - GET: 200 for `/stats` or `/metrics` exactly (no query), else 404;
//! - POST, PUT, PATCH: 501 with Transfer-Encoding, 411 without
//!   Content-Length, else 405;
//! - HEAD, OPTIONS, DELETE, CONNECT, TRACE: 405; any other method: 501.
use super::{ERR_ARG, ERR_SPACE};

/// Longest request head accepted, terminating empty line included.
pub const MAX_HEADER_LEN: usize = 8192;
/// Longest content type [`response_head`] takes.
pub const MAX_CONTENT_TYPE_LEN: usize = 256;
/// Longest head [`response_head`] can write.
pub const MAX_HEAD_LEN: usize = 512;
/// Latest time a Date header can show (9999-12-31 23:59:59 UTC).
pub const MAX_UNIX_TIME: i64 = 253_402_300_799;
/// Which resource a 200 is for.
pub const TARGET_NONE: i32 = 0;
pub const TARGET_STATS: i32 = 1;
pub const TARGET_METRICS: i32 = 2;

const MAX_METHOD_LEN: usize = 32;

/// What [`parse_request`] decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// 0 (need more) or an HTTP status.
    pub status: i32,
    /// `TARGET_*` (only with status 200).
    pub target: i32,
    /// Bytes of the head including its empty line (0 if incomplete or 431).
    pub header_len: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// The head's lines (CR stripped) and its length, if complete within the limit.
fn split_head(data: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let window = data.get(..MAX_HEADER_LEN).unwrap_or(data);
    let mut lines = Vec::new();
    let mut pos = 0;
    while let Some(nl) = window.get(pos..)?.iter().position(|&b| b == b'\n') {
        let raw = window.get(pos..pos + nl)?;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        pos += nl + 1;
        if line.is_empty() {
            return Some((lines, pos));
        }
        lines.push(line);
    }
    None
}

/// The decimal value of a Content-Length field, if valid.
fn content_length(value: &[u8]) -> Option<u64> {
    let trimmed = value.trim_ascii();
    if trimmed.is_empty() || trimmed.len() > 18 || !trimmed.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(trimmed.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// The status for a complete head (its lines, request line first).
fn judge(lines: &[&[u8]]) -> (i32, i32) {
    let Some((request_line, fields)) = lines.split_first() else {
        return (400, TARGET_NONE);
    };
    let parts: Vec<&[u8]> = request_line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return (400, TARGET_NONE);
    };
    let target_ok = !target.is_empty() && target.iter().all(|&b| (0x21..=0x7e).contains(&b));
    let version_ok = version == b"HTTP/1.0" || version == b"HTTP/1.1";
    if !is_token(method) || method.len() > MAX_METHOD_LEN || !target_ok || !version_ok {
        return (400, TARGET_NONE);
    }
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for field in fields {
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            return (400, TARGET_NONE);
        };
        let (name, value) = (&field[..colon], &field[colon + 1..]);
        let bad_byte = |&b: &u8| (b < 0x20 && b != b'\t') || b == 0x7f;
        if !is_token(name) || value.iter().any(bad_byte) {
            return (400, TARGET_NONE);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            match (content_length(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return (400, TARGET_NONE),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        }
    }
    match method {
        b"GET" => match target {
            b"/stats" => (200, TARGET_STATS),
            b"/metrics" => (200, TARGET_METRICS),
            _ => (404, TARGET_NONE),
        },
        b"POST" | b"PUT" | b"PATCH" if chunked => (501, TARGET_NONE),
        b"POST" | b"PUT" | b"PATCH" if length.is_none() => (411, TARGET_NONE),
        b"POST" | b"PUT" | b"PATCH" | b"HEAD" | b"OPTIONS" | b"DELETE" | b"CONNECT" | b"TRACE" => {
            (405, TARGET_NONE)
        }
        _ => (501, TARGET_NONE),
    }
}

/// Judges the bytes received so far on a stats connection.
pub fn parse_request(data: &[u8]) -> HttpRequest {
    match split_head(data) {
        Some((lines, header_len)) => {
            let (status, target) = judge(&lines);
            HttpRequest {
                status,
                target,
                header_len,
            }
        }
        None if data.len() >= MAX_HEADER_LEN => HttpRequest {
            status: 431,
            ..HttpRequest::default()
        },
        None => HttpRequest::default(),
    }
}

fn reason_phrase(status: i32) -> Option<&'static str> {
    Some(match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => return None,
    })
}

/// RFC 7231 IMF-fixdate of a unix time (`Sun, 06 Nov 1994 08:49:37 GMT`);
/// four-digit years, so meant for 0..=[`MAX_UNIX_TIME`].
pub fn http_date(t: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (year, month, day) = crate::users::schedule::civil_from_days(days);
    let weekday = DAYS.get(days.rem_euclid(7) as usize).unwrap_or(&"Thu");
    let month_name = MONTHS.get(month as usize - 1).unwrap_or(&"Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Writes a response head (status line, Server, Date from `now`,
/// Content-Type, Connection: close, Content-Length, `Allow: GET` for 405,
/// empty line) and returns its length. `ERR_ARG` for a status without a
/// reason phrase here, a content type over 256 bytes or with bytes outside
/// 0x20..=0x7e, or `now` outside 0..=[`MAX_UNIX_TIME`]; `ERR_SPACE` if `out`
/// is too small (at most [`MAX_HEAD_LEN`] is ever needed).
pub fn response_head(
    status: i32,
    content_type: &[u8],
    content_length: u64,
    now: i64,
    out: &mut [u8],
) -> Result<usize, i32> {
    let type_ok = content_type.len() <= MAX_CONTENT_TYPE_LEN
        && content_type.iter().all(|&b| (0x20..=0x7e).contains(&b));
    let Some(reason) = reason_phrase(status).filter(|_| type_ok) else {
        return Err(ERR_ARG);
    };
    if !(0..=MAX_UNIX_TIME).contains(&now) {
        return Err(ERR_ARG);
    }
    let allow = if status == 405 { "Allow: GET\r\n" } else { "" };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: MTProxy/1.0\r\nDate: {}\r\nContent-Type: ",
        http_date(now)
    )
    .into_bytes();
    head.extend_from_slice(content_type);
    let tail = format!("\r\nConnection: close\r\nContent-Length: {content_length}\r\n{allow}\r\n");
    head.extend_from_slice(tail.as_bytes());
    let Some(dst) = out.get_mut(..head.len()) else {
        return Err(ERR_SPACE);
    };
    dst.copy_from_slice(&head);
    Ok(head.len())
}
