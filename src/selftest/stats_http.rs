use super::{expect_eq, Check};
use mtproxy_sys::c::stats_http as http;

pub const CHECKS: &[Check] = &[
    ("stats text lines", || {
        let stats = http::ProxyStats {
            pid: 77,
            qps_get_milli: 2050,
            total_accept_connections_failed: [1, 2, 3, 4, 5],
            ..http::ProxyStats::default()
        };
        let strings = http::StatsStrings {
            config_filename: b"proxy.conf",
            config_md5: b"",
            version: b"v1",
        };
        let n = http::render_text(&stats, &strings, &mut []);
        let mut out = vec![0u8; n];
        expect_eq("length", http::render_text(&stats, &strings, &mut out), n)?;
        let text = String::from_utf8_lossy(&out);
        expect_eq("first line", text.lines().next(), Some("pid\t77"))?;
        expect_eq("qps", text.contains("\nqps_get\t2.050\n"), true)?;
        expect_eq(
            "list",
            text.contains("\ntotal_accept_connections_failed\t1 2 3 4 5\n"),
            true,
        )?;
        expect_eq("last line", text.lines().last(), Some("version\tv1"))?;
        let p = http::render_prometheus(&stats, &mut []);
        let mut prom = vec![0u8; p];
        expect_eq(
            "prometheus length",
            http::render_prometheus(&stats, &mut prom),
            p,
        )?;
        let prom = String::from_utf8_lossy(&prom);
        expect_eq(
            "prometheus head",
            prom.starts_with("# TYPE mtproxy_pid gauge\nmtproxy_pid 77\n"),
            true,
        )
    }),
    ("requests", || {
        let verdict = |req: &[u8]| {
            let r = http::parse_request(req);
            (r.status, r.target)
        };
        expect_eq(
            "stats",
            verdict(b"GET /stats HTTP/1.1\r\n\r\n"),
            (200, http::TARGET_STATS),
        )?;
        expect_eq(
            "metrics",
            verdict(b"GET /metrics HTTP/1.0\n\n"),
            (200, http::TARGET_METRICS),
        )?;
        expect_eq("partial", verdict(b"GET /stats HTTP/1.1\r\n"), (0, 0))?;
        expect_eq("404", verdict(b"GET /x HTTP/1.1\r\n\r\n"), (404, 0))?;
        expect_eq("411", verdict(b"POST /stats HTTP/1.1\r\n\r\n"), (411, 0))?;
        expect_eq("400", verdict(b"GET /stats\r\n\r\n"), (400, 0))
    }),
    ("response head", || {
        let mut out = [0u8; 512];
        let n = http::response_head(404, b"text/plain", 0, 784_111_777, &mut out)
            .map_err(|e| format!("error {e}"))?;
        let want: &[u8] = b"HTTP/1.1 404 Not Found\r\nServer: MTProxy/1.0\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        expect_eq("bytes", &out[..n], want)
    }),
];
