use super::*;

#[test]
fn text_lines_in_order() {
    let stats = ProxyStats {
        pid: 42,
        qps_get_milli: -1500,
        total_dh_rounds: [1, 2, 3],
        ..ProxyStats::default()
    };
    let strings = StatsStrings {
        config_filename: b"a\nb",
        config_md5: b"",
        version: b"v",
    };
    let n = render_text(&stats, &strings, &mut []);
    let mut out = vec![0; n];
    assert_eq!(render_text(&stats, &strings, &mut out), n);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("pid\t42\nstart_time\t0\n"));
    assert!(text.contains("\nconfig_filename\ta?b\n"));
    assert!(text.contains("\nqps_get\t-1.500\n"));
    assert!(text.contains("\ntotal_dh_rounds\t1 2 3\n"));
    assert!(text.ends_with("\nproxy_tag_set\t0\nversion\tv\n"));
    assert_eq!(text.lines().count(), 61);
    let p = render_prometheus(&stats, &mut []);
    let mut prom = vec![0; p];
    render_prometheus(&stats, &mut prom);
    let prom = String::from_utf8(prom).unwrap();
    assert!(prom.contains(
        "# TYPE mtproxy_total_dh_rounds counter\nmtproxy_total_dh_rounds{index=\"0\"} 1\n"
    ));
}

#[test]
fn requests() {
    let p = |s: &[u8]| {
        let r = parse_request(s);
        (r.status, r.target)
    };
    assert_eq!(
        p(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"),
        (200, TARGET_STATS)
    );
    assert_eq!(p(b"GET /metrics HTTP/1.0\n\n"), (200, TARGET_METRICS));
    assert_eq!(p(b"GET /stats HTTP/1.1\r\nHost: x\r\n"), (0, 0));
    assert_eq!(p(b"GET /stats?x HTTP/1.1\r\n\r\n"), (404, 0));
    assert_eq!(p(b"POST /stats HTTP/1.1\r\n\r\n"), (411, 0));
    assert_eq!(
        p(b"POST /stats HTTP/1.1\r\nContent-Length: 3\r\n\r\n"),
        (405, 0)
    );
    assert_eq!(p(b"HEAD /stats HTTP/1.1\r\n\r\n"), (405, 0));
    assert_eq!(p(b"BREW /stats HTTP/1.1\r\n\r\n"), (501, 0));
    assert_eq!(p(b"GET  /stats HTTP/1.1\r\n\r\n"), (400, 0));
    assert_eq!(p(b"\r\n"), (400, 0));
    assert_eq!(p(&[b'a'; 8192]), (431, 0));
}

#[test]
fn response_head_format() {
    let mut out = [0u8; MAX_HEAD_LEN];
    let n = response_head(200, b"text/plain", 12, 784_111_777, &mut out).unwrap();
    assert_eq!(
        &out[..n],
        b"HTTP/1.1 200 OK\r\nServer: MTProxy/1.0\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
Content-Type: text/plain\r\nConnection: close\r\nContent-Length: 12\r\n\r\n"
    );
    assert_eq!(response_head(299, b"", 0, 0, &mut out), Err(ERR_ARG));
    assert_eq!(
        response_head(200, b"", 0, 0, &mut out[..10]),
        Err(ERR_SPACE)
    );
}

#[test]
fn http_dates_across_leap_days_and_the_range_ends() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(http_date(1_835_481_599), "Tue, 29 Feb 2028 23:59:59 GMT");
    assert_eq!(http_date(MAX_UNIX_TIME), "Fri, 31 Dec 9999 23:59:59 GMT");
}
