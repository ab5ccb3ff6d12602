//! stats-http: the /stats text and Prometheus renderings, the stats-port
//! request parser and the response head, C vs Rust; known answers pin the
//! text format, the HTTP verdicts and RFC 7231 dates (Python's
//! email.utils.formatdate as the date oracle).
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::stats_http as ct;
use rust::net::stats_http as rt;

/// Number of i64 values a stats struct holds (arrays count per element).
const VALUES: usize = 64;

/// Fills either side's stats struct from `v`, in field order.
macro_rules! stats_from {
    ($ty:ty, $v:expr) => {{
        let v: &[i64; VALUES] = $v;
        let mut s = <$ty>::default();
        s.pid = v[0];
        s.start_time = v[1];
        s.current_time = v[2];
        s.uptime = v[3];
        s.vmsize_bytes = v[4];
        s.vmrss_bytes = v[5];
        s.vmdata_bytes = v[6];
        s.config_loaded_at = v[7];
        s.config_size = v[8];
        s.config_auth_clusters = v[9];
        s.workers = v[10];
        s.queries_get = v[11];
        s.qps_get_milli = v[12];
        s.tot_forwarded_queries = v[13];
        s.expired_forwarded_queries = v[14];
        s.dropped_queries = v[15];
        s.tot_forwarded_responses = v[16];
        s.dropped_responses = v[17];
        s.tot_forwarded_simple_acks = v[18];
        s.dropped_simple_acks = v[19];
        s.active_rpcs_created = v[20];
        s.active_rpcs = v[21];
        s.rpc_dropped_answers = v[22];
        s.rpc_dropped_running = v[23];
        s.window_clamp = v[24];
        s.total_ready_targets = v[25];
        s.total_allocated_targets = v[26];
        s.total_declared_targets = v[27];
        s.total_inactive_targets = v[28];
        s.total_connections = v[29];
        s.total_encrypted_connections = v[30];
        s.total_allocated_connections = v[31];
        s.total_allocated_outbound_connections = v[32];
        s.total_allocated_inbound_connections = v[33];
        s.total_allocated_socket_connections = v[34];
        s.total_dh_connections = v[35];
        s.total_dh_rounds = [v[36], v[37], v[38]];
        s.total_special_connections = v[39];
        s.total_max_special_connections = v[40];
        s.total_accept_connections_failed = [v[41], v[42], v[43], v[44], v[45]];
        s.ext_connections = v[46];
        s.ext_connections_created = v[47];
        s.total_active_network_events = v[48];
        s.total_network_buffers_used_size = v[49];
        s.total_network_buffers_allocated_bytes = v[50];
        s.total_network_buffers_used = v[51];
        s.total_network_chunks_allocated = v[52];
        s.total_network_chunks_allocated_max = v[53];
        s.mtproto_proxy_errors = v[54];
        s.connections_failed_lru = v[55];
        s.connections_failed_flood = v[56];
        s.http_connections = v[57];
        s.pending_http_queries = v[58];
        s.http_queries = v[59];
        s.http_bad_headers = v[60];
        s.http_qps_milli = v[61];
        s.proxy_mode = v[62];
        s.proxy_tag_set = v[63];
        s
    }};
}

fn both(v: &[i64; VALUES]) -> (ct::ProxyStats, rt::ProxyStats) {
    (
        stats_from!(ct::ProxyStats, v),
        stats_from!(rt::ProxyStats, v),
    )
}

const FILENAME: &[u8] = b"/etc/mtproxy/proxy-multi.conf";
const MD5: &[u8] = b"0123456789abcdef0123456789abcdef";
const VERSION: &[u8] = b"mtproxy-0.02 rust\tbuild";

const EXPECTED_TEXT: &str = concat!(
    "pid\t7\n",
    "start_time\t-1008\n",
    "current_time\t2009\n",
    "uptime\t-3010\n",
    "vmsize_bytes\t4011\n",
    "vmrss_bytes\t-5012\n",
    "vmdata_bytes\t6013\n",
    "config_filename\t/etc/mtproxy/proxy-multi.conf\n",
    "config_loaded_at\t-7014\n",
    "config_size\t8015\n",
    "config_md5\t0123456789abcdef0123456789abcdef\n",
    "config_auth_clusters\t-9016\n",
    "workers\t10017\n",
    "queries_get\t-11018\n",
    "qps_get\t12.019\n",
    "tot_forwarded_queries\t-13020\n",
    "expired_forwarded_queries\t14021\n",
    "dropped_queries\t-15022\n",
    "tot_forwarded_responses\t16023\n",
    "dropped_responses\t-17024\n",
    "tot_forwarded_simple_acks\t18025\n",
    "dropped_simple_acks\t-19026\n",
    "active_rpcs_created\t20027\n",
    "active_rpcs\t-21028\n",
    "rpc_dropped_answers\t22029\n",
    "rpc_dropped_running\t-23030\n",
    "window_clamp\t24031\n",
    "total_ready_targets\t-25032\n",
    "total_allocated_targets\t26033\n",
    "total_declared_targets\t-27034\n",
    "total_inactive_targets\t28035\n",
    "total_connections\t-29036\n",
    "total_encrypted_connections\t30037\n",
    "total_allocated_connections\t-31038\n",
    "total_allocated_outbound_connections\t32039\n",
    "total_allocated_inbound_connections\t-33040\n",
    "total_allocated_socket_connections\t34041\n",
    "total_dh_connections\t-35042\n",
    "total_dh_rounds\t36043 -37044 38045\n",
    "total_special_connections\t-39046\n",
    "total_max_special_connections\t40047\n",
    "total_accept_connections_failed\t-41048 42049 -43050 44051 -45052\n",
    "ext_connections\t46053\n",
    "ext_connections_created\t-47054\n",
    "total_active_network_events\t48055\n",
    "total_network_buffers_used_size\t-49056\n",
    "total_network_buffers_allocated_bytes\t50057\n",
    "total_network_buffers_used\t-51058\n",
    "total_network_chunks_allocated\t52059\n",
    "total_network_chunks_allocated_max\t-53060\n",
    "mtproto_proxy_errors\t54061\n",
    "connections_failed_lru\t-55062\n",
    "connections_failed_flood\t56063\n",
    "http_connections\t-57064\n",
    "pending_http_queries\t58065\n",
    "http_queries\t-59066\n",
    "http_bad_headers\t60067\n",
    "http_qps\t-61.068\n",
    "proxy_mode\t62069\n",
    "proxy_tag_set\t-63070\n",
    "version\tmtproxy-0.02 rust?build\n",
);

fn render_both(v: &[i64; VALUES], strings: (&[u8], &[u8], &[u8]), cap: usize) -> (usize, Vec<u8>) {
    let (cs, rs) = both(v);
    let c_strings = ct::StatsStrings {
        config_filename: strings.0,
        config_md5: strings.1,
        version: strings.2,
    };
    let r_strings = rt::StatsStrings {
        config_filename: strings.0,
        config_md5: strings.1,
        version: strings.2,
    };
    let (mut c_out, mut r_out) = (vec![0xeeu8; cap], vec![0xeeu8; cap]);
    let c_n = ct::render_text(&cs, &c_strings, &mut c_out);
    let r_n = rt::render_text(&rs, &r_strings, &mut r_out);
    assert_eq!(c_n, r_n);
    assert_eq!(c_out, r_out);
    (r_n, r_out)
}

fn prometheus_both(v: &[i64; VALUES], cap: usize) -> (usize, Vec<u8>) {
    let (cs, rs) = both(v);
    let (mut c_out, mut r_out) = (vec![0xeeu8; cap], vec![0xeeu8; cap]);
    let c_n = ct::render_prometheus(&cs, &mut c_out);
    let r_n = rt::render_prometheus(&rs, &mut r_out);
    assert_eq!(c_n, r_n);
    assert_eq!(c_out, r_out);
    (r_n, r_out)
}

fn kat_values() -> [i64; VALUES] {
    std::array::from_fn(|k| (k as i64 * 1001 + 7) * if k % 2 == 1 { -1 } else { 1 })
}

#[test]
fn stats_text_known_answer() {
    let v = kat_values();
    let (n, out) = render_both(&v, (FILENAME, MD5, VERSION), 4096);
    assert_eq!(n, EXPECTED_TEXT.len());
    assert_eq!(std::str::from_utf8(&out[..n]).unwrap(), EXPECTED_TEXT);
    // Too small by one: length reported, buffer untouched on both sides.
    let (n2, out2) = render_both(&v, (FILENAME, MD5, VERSION), n - 1);
    assert_eq!(n2, n);
    assert!(out2.iter().all(|&b| b == 0xee));
    assert_eq!(
        render_both(&v, (b"", b"", b""), 0).0,
        n - FILENAME.len() - MD5.len() - VERSION.len()
    );
}

#[test]
fn prometheus_known_answer() {
    let mut v = [0i64; VALUES];
    v[0] = 4242;
    v[12] = 1500; // qps_get_milli
    v[37] = 7; // total_dh_rounds[1] (the list is v[36..39])
    let (n, out) = prometheus_both(&v, 16384);
    let text = std::str::from_utf8(&out[..n]).unwrap();
    assert!(text.starts_with(
        "# TYPE mtproxy_pid gauge\nmtproxy_pid 4242\n# TYPE mtproxy_start_time gauge\n"
    ));
    assert!(text.contains("\n# TYPE mtproxy_qps_get gauge\nmtproxy_qps_get 1.500\n"));
    assert!(text.contains(concat!(
        "\n# TYPE mtproxy_total_dh_rounds counter\n",
        "mtproxy_total_dh_rounds{index=\"0\"} 0\n",
        "mtproxy_total_dh_rounds{index=\"1\"} 7\n",
        "mtproxy_total_dh_rounds{index=\"2\"} 0\n"
    )));
    assert!(text.contains(
        "\n# TYPE mtproxy_tot_forwarded_queries counter\nmtproxy_tot_forwarded_queries 0\n"
    ));
    assert!(text.ends_with("# TYPE mtproxy_proxy_tag_set gauge\nmtproxy_proxy_tag_set 0\n"));
    assert!(!text.contains("version") && !text.contains("config_md5"));
    // 58 numeric fields: 58 TYPE lines, 56 single samples + 3 + 5 list samples.
    assert_eq!(text.lines().filter(|l| l.starts_with("# TYPE")).count(), 58);
    assert_eq!(text.lines().count(), 58 + 56 + 8);
}

const REQUESTS: &[(&[u8], i32, i32, usize)] = &[
    (
        b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        200,
        1,
        40,
    ),
    (b"GET /metrics HTTP/1.0\r\n\r\nbody", 200, 2, 25),
    (b"GET /stats HTTP/1.1\n\n", 200, 1, 21),
    (b"GET /stats HTTP/1.1\r\nHost: x\r\n", 0, 0, 0),
    (b"GET /stats HTTP/1.1", 0, 0, 0),
    (b"", 0, 0, 0),
    (b"GET /stats?x=1 HTTP/1.1\r\n\r\n", 404, 0, 27),
    (b"GET /Stats HTTP/1.1\r\n\r\n", 404, 0, 23),
    (b"GET / HTTP/1.1\r\n\r\n", 404, 0, 18),
    (b"POST /stats HTTP/1.1\r\n\r\n", 411, 0, 24),
    (
        b"POST /stats HTTP/1.1\r\ncontent-LENGTH: 5\r\n\r\n",
        405,
        0,
        43,
    ),
    (
        b"POST /stats HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        501,
        0,
        52,
    ),
    (
        b"PUT /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400,
        0,
        57,
    ),
    (
        b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        400,
        0,
        40,
    ),
    (b"HEAD /stats HTTP/1.1\r\n\r\n", 405, 0, 24),
    (b"OPTIONS * HTTP/1.1\r\n\r\n", 405, 0, 22),
    (b"BREW /pot HTTP/1.1\r\n\r\n", 501, 0, 22),
    (b"GET /stats HTTP/2.0\r\n\r\n", 400, 0, 23),
    (b"GET  /stats HTTP/1.1\r\n\r\n", 400, 0, 24),
    (b"GET /stats HTTP/1.1 \r\n\r\n", 400, 0, 24),
    (b"GET /st\x01ts HTTP/1.1\r\n\r\n", 400, 0, 23),
    (b"GET /stats HTTP/1.1\r\nNo colon\r\n\r\n", 400, 0, 33),
    (b"GET /stats HTTP/1.1\r\n folded: x\r\n\r\n", 400, 0, 35),
    (b"GET /stats HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, 0, 31),
    (b"\r\nGET /stats HTTP/1.1\r\n\r\n", 400, 0, 2),
];

#[test]
fn http_requests_known_answers() {
    for &(req, status, target, header_len) in REQUESTS {
        let want = (status, target, header_len);
        let c_got = ct::parse_request(req);
        let r_got = rt::parse_request(req);
        assert_eq!(
            (c_got.status, c_got.target, c_got.header_len),
            want,
            "C {:?}",
            String::from_utf8_lossy(req)
        );
        assert_eq!(
            (r_got.status, r_got.target, r_got.header_len),
            want,
            "Rust {:?}",
            String::from_utf8_lossy(req)
        );
    }
}

#[test]
fn oversized_heads_get_431() {
    let mut req = b"GET /stats HTTP/1.1\r\nX-Pad: ".to_vec();
    req.resize(8190, b'a');
    req.extend_from_slice(b"\r\n\r\n"); // ends at 8194 > 8192
    for len in [8191, 8192, 8194] {
        let want = if len < 8192 { 0 } else { 431 };
        assert_eq!(ct::parse_request(&req[..len]).status, want);
        assert_eq!(rt::parse_request(&req[..len]).status, want);
    }
    req.truncate(8188);
    req.extend_from_slice(b"\r\n\r\n"); // ends exactly at 8192
    assert_eq!(
        (
            ct::parse_request(&req).status,
            rt::parse_request(&req).status
        ),
        (200, 200)
    );
}

#[test]
fn response_heads_known_answers() {
    let dates = [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_700_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ];
    for (now, date) in dates {
        let want = format!(
            "HTTP/1.1 200 OK\r\nServer: MTProxy/1.0\r\nDate: {date}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 1234\r\n\r\n"
        );
        let (mut c_out, mut r_out) = ([0u8; 512], [0u8; 512]);
        let c_n = ct::response_head(200, b"text/plain", 1234, now, &mut c_out).unwrap();
        let r_n = rt::response_head(200, b"text/plain", 1234, now, &mut r_out).unwrap();
        assert_eq!(std::str::from_utf8(&c_out[..c_n]).unwrap(), want);
        assert_eq!(std::str::from_utf8(&r_out[..r_n]).unwrap(), want);
    }
    let mut out = [0u8; 512];
    let n = ct::response_head(405, b"text/plain", 0, 0, &mut out).unwrap();
    assert!(std::str::from_utf8(&out[..n])
        .unwrap()
        .ends_with("Content-Length: 0\r\nAllow: GET\r\n\r\n"));
    for (status, ctype, now, cap, want) in [
        (302, &b"text/plain"[..], 0, 512, rt::ERR_ARG),
        (200, b"text/plain\r\nX: y", 0, 512, rt::ERR_ARG),
        (200, &[b'a'; 257][..], 0, 512, rt::ERR_ARG),
        (200, b"text/plain", -1, 512, rt::ERR_ARG),
        (200, b"text/plain", rt::MAX_UNIX_TIME + 1, 512, rt::ERR_ARG),
        (200, b"text/plain", 0, 100, rt::ERR_SPACE),
    ] {
        assert_eq!(
            ct::response_head(status, ctype, u64::MAX, now, &mut out[..cap]),
            Err(want)
        );
        assert_eq!(
            rt::response_head(status, ctype, u64::MAX, now, &mut out[..cap]),
            Err(want)
        );
    }
    let longest =
        rt::response_head(431, &[b'a'; 256], u64::MAX, rt::MAX_UNIX_TIME, &mut out).unwrap();
    assert!(longest <= rt::MAX_HEAD_LEN);
}

/// Request-ish bytes: HTTP tokens, separators and some noise.
fn http_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"GET".to_vec()),
        Just(b"POST".to_vec()),
        Just(b"HEAD".to_vec()),
        Just(b"PUT".to_vec()),
        Just(b"OPTIONS".to_vec()),
        Just(b"/stats".to_vec()),
        Just(b"/metrics".to_vec()),
        Just(b"/".to_vec()),
        Just(b"HTTP/1.1".to_vec()),
        Just(b"HTTP/1.0".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b":".to_vec()),
        Just(b"Content-Length: ".to_vec()),
        Just(b"Transfer-Encoding: chunked".to_vec()),
        Just(b"Host: x".to_vec()),
        Just(b"12".to_vec()),
        Just(b"?q".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..4),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_stats_render_alike(
        v in proptest::array::uniform32(any::<i64>()),
        w in proptest::array::uniform32(any::<i64>()),
        name in parity_tests::bytes(40),
        md5 in parity_tests::bytes(40),
        version in parity_tests::bytes(40),
        cap in 0usize..6000,
    ) {
        let mut all = [0i64; VALUES];
        all[..32].copy_from_slice(&v);
        all[32..].copy_from_slice(&w);
        let (n, out) = render_both(&all, (&name, &md5, &version), cap);
        prop_assert_eq!(out.iter().all(|&b| b == 0xee), n > cap);
        let (p, pout) = prometheus_both(&all, cap);
        prop_assert_eq!(pout.iter().all(|&b| b == 0xee), p > cap);
    }

    #[test]
    fn random_requests_parse_alike(req in http_like()) {
        prop_assert_eq!(format!("{:?}", ct::parse_request(&req)), format!("{:?}", rt::parse_request(&req)));
    }

    #[test]
    fn random_bytes_parse_alike(req in parity_tests::bytes(200)) {
        prop_assert_eq!(format!("{:?}", ct::parse_request(&req)), format!("{:?}", rt::parse_request(&req)));
    }

    #[test]
    fn more_bytes_never_change_a_verdict(head in http_like(), tail in parity_tests::bytes(40), cuts in proptest::collection::vec(any::<usize>(), 0..10)) {
        let mut req = head;
        req.extend_from_slice(b"\r\n\r\n");
        req.extend_from_slice(&tail);
        // Grow the request chunk by chunk; the first final verdict must stay.
        let mut seen = 0;
        let mut first_final: Option<rt::HttpRequest> = None;
        for chunk in parity_tests::chunked(&req, &cuts) {
            seen += chunk.len();
            let r_got = rt::parse_request(&req[..seen]);
            let c_got = ct::parse_request(&req[..seen]);
            prop_assert_eq!((c_got.status, c_got.target, c_got.header_len), (r_got.status, r_got.target, r_got.header_len));
            match first_final {
                Some(f) => prop_assert_eq!(f, r_got),
                None if r_got.status != 0 => first_final = Some(r_got),
                None => {}
            }
        }
        prop_assert!(first_final.is_some(), "a complete head always gets a verdict");
    }

    #[test]
    fn random_response_heads_alike(
        status in prop_oneof![Just(200), Just(404), Just(405), Just(431), any::<i32>()],
        ctype in parity_tests::bytes(300),
        length in any::<u64>(),
        now in prop_oneof![0i64..=rt::MAX_UNIX_TIME, any::<i64>()],
        cap in 0usize..600,
    ) {
        let (mut c_out, mut r_out) = (vec![0u8; cap], vec![0u8; cap]);
        let c_got = ct::response_head(status, &ctype, length, now, &mut c_out);
        let r_got = rt::response_head(status, &ctype, length, now, &mut r_out);
        prop_assert_eq!(c_got, r_got);
        prop_assert_eq!(c_out, r_out);
    }
}

mod args;
