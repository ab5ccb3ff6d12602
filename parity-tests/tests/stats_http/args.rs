//! stats-http: NULL pointers, empty inputs and output capacities at the raw
//! contract functions, and the request-line, header-field and response-head
//! limits at their edges; the C copy and the Rust FFI called with the same
//! arguments, each result checked against the value the C code's checks
//! give and the two sides compared.
use mtproxy_sys::bindings::{
    mtp_http_request, mtp_proxy_stats, mtp_stats_strings, MTP_STATS_ERR_ARG, MTP_STATS_ERR_SPACE,
};
use parity_tests::Calls;
use std::ptr::{null, null_mut};

const ARG: i32 = MTP_STATS_ERR_ARG;
const SPACE: i32 = MTP_STATS_ERR_SPACE;
const TYPE: &[u8] = b"text/plain";

/// Every argument case of the four functions through `$b`; rendered
/// lengths are checked against the size query's answer. Cases a mutant
/// answers wrongly without crashing come before the ones it crashes on.
macro_rules! cases {
    ($b:ident, $side:expr) => {{
        use mtproxy_sys::$b as b;
        let mut got = Calls($side, Vec::new());
        let stats = mtp_proxy_stats {
            pid: 42,
            ..Default::default()
        };
        let name = b"proxy.conf";
        let strings = |file: *const u8, file_len: usize| mtp_stats_strings {
            config_filename: file,
            config_filename_len: file_len,
            ..Default::default()
        };
        let mut out = vec![0u8; 8192];
        let o = out.as_mut_ptr();
        let cap = out.len();
        let text =
            |st: *const mtp_proxy_stats, s: *const mtp_stats_strings, o: *mut u8, c: usize| {
                // SAFETY: `o` is NULL or writable for `c` bytes; the stats and
                // strings are NULL or live; every NULL text comes with a length.
                unsafe { b::mtp_stats_render_text(st, s, o, c) }
            };
        let full = text(&stats, null(), o, cap);
        got.check(
            "text renders",
            out.starts_with(b"pid\t42\nstart_time\t0\n"),
            true,
        );
        // SAFETY: `o` is `out`'s buffer, writable for `cap` bytes.
        unsafe { std::ptr::write_bytes(o, 0, cap) };
        got.check("text out NULL,0", text(&stats, null(), null_mut(), 0), full);
        got.check("text out NULL,1", text(&stats, null(), null_mut(), 1), 0);
        got.check(
            "text out NULL,big",
            text(&stats, null(), null_mut(), cap),
            0,
        );
        got.check("text cap 0", text(&stats, null(), o, 0), full);
        got.check("text cap short", text(&stats, null(), o, full - 1), full);
        got.check(
            "nothing written",
            out.iter().filter(|&&x| x != 0).count(),
            0,
        );
        got.check("text cap exact", text(&stats, null(), o, full), full);
        got.check(
            "written",
            out[..full].starts_with(b"pid\t42\n") && out[full] == 0,
            true,
        );
        got.check(
            "text strings NULL,0",
            text(&stats, &strings(null(), 0), o, cap),
            full,
        );
        got.check(
            "text strings empty",
            text(&stats, &strings(name.as_ptr(), 0), o, cap),
            full,
        );
        got.check(
            "text strings name",
            text(&stats, &strings(name.as_ptr(), 10), o, cap),
            full + 10,
        );
        got.check(
            "text strings NULL,1",
            text(&stats, &strings(null(), 1), o, cap),
            0,
        );
        got.check(
            "text strings NULL,1 stats NULL",
            text(null(), &strings(null(), 1), null_mut(), 0),
            0,
        );

        let prom = |st: *const mtp_proxy_stats, o: *mut u8, c: usize| {
            // SAFETY: `o` is NULL or writable for `c` bytes, `st` NULL or live.
            unsafe { b::mtp_stats_render_prometheus(st, o, c) }
        };
        // SAFETY: `o` is `out`'s buffer, writable for `cap` bytes.
        unsafe { std::ptr::write_bytes(o, 0, cap) };
        let full = prom(&stats, null_mut(), 0);
        got.check("prom out NULL,1", prom(&stats, null_mut(), 1), 0);
        got.check("prom out NULL,big", prom(&stats, null_mut(), cap), 0);
        got.check("prom cap 0", prom(&stats, o, 0), full);
        got.check("prom cap short", prom(&stats, o, full - 1), full);
        got.check(
            "nothing written",
            out.iter().filter(|&&x| x != 0).count(),
            0,
        );
        got.check("prom cap exact", prom(&stats, o, full), full);
        got.check(
            "written",
            out.starts_with(b"# TYPE mtproxy_pid gauge\nmtproxy_pid 42\n"),
            true,
        );
        got.check("prom ends", out[full - 1] == b'\n' && out[full] == 0, true);

        let req = b"GET /stats HTTP/1.1\r\n\r\n";
        let mut r = mtp_http_request {
            status: 7,
            target: 7,
            header_len: 7,
        };
        let parse = |d: *const u8, n: usize, o: *mut mtp_http_request| {
            // SAFETY: `d` is NULL or readable for `n` bytes; `o` NULL or
            // writable.
            unsafe { b::mtp_stats_http_parse(d, n, o) }
        };
        got.check("parse ok", parse(req.as_ptr(), req.len(), &mut r), 0);
        got.check("status", r.status, 200);
        got.check("target", r.target, 1);
        got.check("header_len", r.header_len, 23);
        got.check("parse NULL,0", parse(null(), 0, &mut r), 0);
        got.check("status", r.status, 0);
        got.check("header_len", r.header_len, 0);
        r.status = 7;
        got.check("parse empty", parse(req.as_ptr(), 0, &mut r), 0);
        got.check("status", r.status, 0);
        r.status = 7;
        got.check("parse NULL,1", parse(null(), 1, &mut r), ARG);
        got.check("untouched", r.status, 7);
        got.check(
            "parse out NULL",
            parse(req.as_ptr(), req.len(), null_mut()),
            ARG,
        );

        let mut written = 7usize;
        let head = |status: i32,
                    t: *const u8,
                    tl: usize,
                    now: i64,
                    o: *mut u8,
                    c: usize,
                    w: *mut usize| {
            // SAFETY: `t` is NULL or readable for `tl` bytes, `o` NULL or
            // writable for `c` bytes, `w` NULL or writable.
            unsafe { b::mtp_stats_http_response_head(status, t, tl, 5, now, o, c, w) }
        };
        let t = TYPE.as_ptr();
        let tl = TYPE.len();
        got.check(
            "head out NULL,1",
            head(200, t, tl, 0, null_mut(), 1, &mut written),
            ARG,
        );
        got.check(
            "head out NULL,0",
            head(200, t, tl, 0, null_mut(), 0, &mut written),
            SPACE,
        );
        got.check("head cap 0", head(200, t, tl, 0, o, 0, &mut written), SPACE);
        got.check("untouched", written, 7);
        got.check(
            "head type NULL,0",
            head(200, null(), 0, 0, o, 512, &mut written),
            0,
        );
        let empty_type = written;
        got.check(
            "head type empty",
            head(200, t, 0, 0, o, 512, &mut written),
            0,
        );
        got.check("same length", written, empty_type);
        got.check(
            "head written NULL",
            head(200, t, tl, 0, o, 512, null_mut()),
            0,
        );
        got.check("head ok", head(200, t, tl, 0, o, 512, &mut written), 0);
        let total = written;
        got.check("length", total, empty_type + 10);
        got.check(
            "head cap exact",
            head(200, t, tl, 0, o, total, &mut written),
            0,
        );
        got.check(
            "head cap short",
            head(200, t, tl, 0, o, total - 1, &mut written),
            SPACE,
        );
        got.check(
            "head now -1",
            head(200, t, tl, -1, o, 512, &mut written),
            ARG,
        );
        got.check(
            "head now max",
            head(200, t, tl, 253_402_300_799, o, 512, &mut written),
            0,
        );
        got.check(
            "head now max+1",
            head(200, t, tl, 253_402_300_800, o, 512, &mut written),
            ARG,
        );
        got.check(
            "head status 302",
            head(302, t, tl, 0, o, 512, &mut written),
            ARG,
        );
        let long = [b'a'; 257];
        got.check(
            "head type 256",
            head(200, long.as_ptr(), 256, 0, o, 1024, &mut written),
            0,
        );
        got.check(
            "head type 257",
            head(200, long.as_ptr(), 257, 0, o, 1024, &mut written),
            ARG,
        );
        for bad in [0x1fu8, 0x7f, b'\t'] {
            let t = [b'a', bad, b'b'];
            got.check(
                "head type control",
                head(200, t.as_ptr(), 3, 0, o, 512, &mut written),
                ARG,
            );
        }
        for edge in [0x20u8, 0x7e] {
            let t = [b'a', edge, b'b'];
            got.check(
                "head type edge",
                head(200, t.as_ptr(), 3, 0, o, 512, &mut written),
                0,
            );
        }
        got.check(
            "head type NULL,1",
            head(200, null(), 1, 0, o, 512, &mut written),
            ARG,
        );
        got.check("text stats NULL", text(null(), null(), o, cap), 0);
        got.check("prom stats NULL", prom(null(), o, cap), 0);
        got.1
    }};
}

/// Each required pointer NULL alone is refused, a NULL input or output
/// with length 0 works as an empty one (a size query for the renderings),
/// with length 1 is refused; capacities, Unix times and content types are
/// checked at their exact limits.
#[test]
fn null_and_empty_arguments_agree() {
    let c = cases!(bindings_cref, "C");
    let r = cases!(bindings, "Rust");
    assert_eq!(c, r, "C vs Rust");
}

fn verdicts(line: &[u8]) -> [(i32, i32, usize); 2] {
    let mut data = line.to_vec();
    data.extend_from_slice(b"\r\n\r\n");
    parse_both(&data)
}

/// The request-line rules one at a time: a method of 32 token characters
/// passes and 33 do not, each of a bad method, target or version alone
/// makes a 400, and target bytes 0x21 and 0x7e are allowed, 0x20 and 0x7f
/// not.
#[test]
fn request_line_rules_one_at_a_time() {
    let method = |n: usize| {
        let mut l = vec![b'X'; n];
        l.extend_from_slice(b" /stats HTTP/1.1");
        l
    };
    let cases: Vec<(Vec<u8>, i32)> = vec![
        (method(32), 501),
        (method(33), 400),
        (method(1), 501),
        (b"G(T /stats HTTP/1.1".to_vec(), 400),
        (b"G\0T /stats HTTP/1.1".to_vec(), 400),
        (b"G\x01T /stats HTTP/1.1".to_vec(), 400),
        (b"GET /st\x7fts HTTP/1.1".to_vec(), 400),
        (b"GET /st\x80ts HTTP/1.1".to_vec(), 400),
        (b"GET /st\x1fts HTTP/1.1".to_vec(), 400),
        (b"GET !~ HTTP/1.1".to_vec(), 404),
        (b"GET /stats HTTP/1.2".to_vec(), 400),
        (b"GET /stats HTTP/1.0".to_vec(), 200),
        (b"GET /metrics HTTP/1.0".to_vec(), 200),
        (b"GET  HTTP/1.1".to_vec(), 400),
        (b"GET /stats  HTTP/1.1".to_vec(), 400),
        (b"GET /stats HTTP/1.1 ".to_vec(), 400),
        (b"HEAD /stats HTTP/1.1".to_vec(), 405),
        (b"POST /stats HTTP/1.1".to_vec(), 411),
    ];
    for (line, status) in cases {
        let [c, r] = verdicts(&line);
        assert_eq!(c, r, "{:?}", String::from_utf8_lossy(&line));
        assert_eq!(c.0, status, "{:?}", String::from_utf8_lossy(&line));
        assert_eq!(c.2, line.len() + 4);
    }
}

/// One whole request through both parsers: (status, target, header_len).
fn parse_both(data: &[u8]) -> [(i32, i32, usize); 2] {
    let mut c = mtp_http_request::default();
    let mut r = mtp_http_request::default();
    // SAFETY: `data` is readable for its length, `c` and `r` writable.
    let rc = unsafe {
        [
            mtproxy_sys::bindings_cref::mtp_stats_http_parse(data.as_ptr(), data.len(), &mut c),
            mtproxy_sys::bindings::mtp_stats_http_parse(data.as_ptr(), data.len(), &mut r),
        ]
    };
    assert_eq!(rc, [0, 0]);
    [
        (c.status, c.target, c.header_len),
        (r.status, r.target, r.header_len),
    ]
}

/// Header fields of a POST one rule at a time: Content-Length trimmed of
/// SP/HT on both ends, 1 to 18 digits, 0 a valid length, equal duplicates
/// allowed and different ones not; only the exact field names count
/// (case-insensitively); control bytes in a value make a 400.
#[test]
fn body_method_fields_one_at_a_time() {
    let d18 = "9".repeat(18);
    let d19 = "1".repeat(19);
    let cases: Vec<(String, i32)> = vec![
        ("Content-Length: 0".into(), 405),
        ("Content-Length: 5 ".into(), 405),
        ("Content-Length: 5\t".into(), 405),
        ("Content-Length:\t 5 \t".into(), 405),
        ("Content-Length:5".into(), 405),
        ("Content-Length: 5 x".into(), 400),
        ("Content-Length: 5 \r\nX: y".into(), 405),
        ("Content-Length: ".into(), 400),
        ("Content-Length:".into(), 400),
        ("Content-Length:  \t ".into(), 400),
        (format!("Content-Length: {d18}"), 405),
        (format!("Content-Length: {d19}"), 400),
        (format!("Content-Length: 0{d18}"), 400),
        ("Content-Length: 7\r\nContent-Length: 7".into(), 405),
        ("Content-Length: 7\r\nContent-Length: 8".into(), 400),
        ("Content-Length: 7\r\ncontent-length:  7 ".into(), 405),
        ("Content: 5".into(), 411),
        ("content-lengt: 5".into(), 411),
        ("Content-Lengthy: 5".into(), 411),
        ("Transfer-Encodin: x".into(), 411),
        ("TRANSFER-encoding: x\r\nContent-Length: 5".into(), 501),
        ("X: \t tab ok".into(), 411),
        ("X: a\x7fb".into(), 400),
        ("X: a\x1fb".into(), 400),
        ("X: a b ~".into(), 411),
        ("X(: 1".into(), 400),
        (": 1".into(), 400),
    ];
    for (fields, status) in cases {
        let req = format!("POST /s HTTP/1.1\r\n{fields}\r\n\r\n");
        let [c, r] = parse_both(req.as_bytes());
        assert_eq!(c, r, "{req:?}");
        assert_eq!(c, (status, 0, req.len()), "{req:?}");
    }
}

/// An empty first line ends the head at once (400, header_len 1), also
/// when the byte before the buffer is a `\r`: the parser never looks
/// before its input.
#[test]
fn empty_first_line_looks_at_nothing_before_it() {
    let buf = b"\r\nGET /stats HTTP/1.1\r\n\r\n";
    let [c, r] = parse_both(&buf[1..]);
    assert_eq!(c, r);
    assert_eq!(c, (400, 0, 1));
    let [c, r] = parse_both(&buf[..2]);
    assert_eq!(c, r);
    assert_eq!(c, (400, 0, 2));
}
