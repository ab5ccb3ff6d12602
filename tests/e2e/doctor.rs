//! `mtproxy-rust doctor` (README "Running as a service") against loopback
//! servers: the clock against an HTTP Date header, middle-ends reachable or
//! not, a TLS 1.3 fronting domain with an untrusted certificate, a domain
//! that is not TLS.
use crate::harness::*;
use mtproxy_testkit::fronting::{FakeDomain, TlsOptions};
use mtproxy_testkit::http_server::{Answer, HttpServer};
use std::process::Command;

/// Runs `doctor` with `args`: its exit code and lines.
fn doctor(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = Command::new(crate::harness::proxy_bin())
        .arg("doctor")
        .args(args)
        .output()
        .expect("run mtproxy-rust doctor");
    let text = String::from_utf8_lossy(&out.stdout);
    (out.status.code(), text.lines().map(String::from).collect())
}

fn line<'a>(lines: &'a [String], check: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no {check} line in {lines:?}"))
}

#[test]
fn doctor_reports_each_check_with_its_verdict() {
    let scratch = Scratch::new();
    let me = start_me(&scratch, 0);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let conf = scratch.path("proxy-multi.conf");
    std::fs::write(
        &conf,
        format!(
            "{}proxy_for 4 127.0.0.1:{closed_port};\n",
            me.proxy_multi_conf(&[2])
        ),
    )
    .unwrap();
    let time = HttpServer::start().unwrap();
    time.set("/", Answer::Body(b"hello".to_vec()));
    let tls = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    let plain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let url = time.url("/");
    let conf = conf.to_str().unwrap();
    let tls_domain = format!("localhost:{}", tls.port());
    let (code, lines) = doctor(&["-H", "443", "-D", &tls_domain, "--time-url", &url, conf]);
    assert!(line(&lines, "clock").starts_with("ok"), "{lines:?}");
    let mes = line(&lines, "middle-ends");
    assert!(
        mes.starts_with("warn") && mes.contains("1 of 2 reachable"),
        "{mes}"
    );
    let domain = line(&lines, "domain");
    assert!(
        domain.starts_with("warn")
            && domain.contains("TLS 1.3 with X25519, but the certificate is not trusted"),
        "{domain}"
    );
    assert!(line(&lines, "domain-dns").starts_with("ok"), "{lines:?}");
    assert_eq!(code, Some(0), "{lines:?}");

    // A clock two minutes off and a domain that is not TLS: failures.
    time.set_clock_offset(120);
    let plain_domain = format!("localhost:{}", plain.port());
    let (code, lines) = doctor(&["-H", "443", "-D", &plain_domain, "--time-url", &url, conf]);
    let clock = line(&lines, "clock");
    assert!(
        clock.starts_with("FAIL") && clock.contains("synchronise"),
        "{clock}"
    );
    assert!(line(&lines, "domain").starts_with("FAIL"), "{lines:?}");
    assert_eq!(code, Some(1));
    time.set_clock_offset(10);
    let (_, lines) = doctor(&["-H", "443", "--time-url", &url, conf]);
    assert!(line(&lines, "clock").starts_with("warn"), "{lines:?}");
}
