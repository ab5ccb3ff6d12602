//! The load generator (`mtproxy_testkit::load`, behind `mtproxy-load` and
//! `make perf`) through the built proxy: its epoll engine completes round
//! trips on every transport without errors, downloads and holds idle
//! connections, and reports its own CPU. Each run is bounded by its
//! `duration`.
use crate::harness::*;
use mtproxy_testkit::client::Transport;
use mtproxy_testkit::fake_me::Behaviour;
use mtproxy_testkit::fronting::FakeDomain;
use mtproxy_testkit::load::{run, LoadConfig, Mode, Report};
use std::net::SocketAddr;
use std::time::Duration;

fn config(proxy: SocketAddr, pid: i32, secret: &str, transport: Transport) -> LoadConfig {
    let mut config = LoadConfig::new(proxy, secret);
    config.transport = transport;
    config.connections = 6;
    config.size = 4096;
    config.window = 2;
    config.duration = Duration::from_millis(400);
    config.pid = Some(pid as u32);
    config.threads = 2;
    config
}

/// Round trips, no errors, and figures a reader can trust.
fn check(what: &str, report: &Report) {
    assert_eq!(report.errors, 0, "{what}: {report:?}");
    assert!(report.round_trips > 0, "{what}: no round trips: {report:?}");
    assert!(
        report.up_bytes > 0 && report.down_bytes > 0,
        "{what}: {report:?}"
    );
    assert!(report.proxy_cpu_seconds.is_some(), "{what}: {report:?}");
    // The generator's own CPU: present, and no more than its threads (plus
    // the main thread) could use in the wall time, with a tick of slack.
    assert!(
        report.generator_cpu_s >= 0.0
            && report.generator_kernel_s <= report.generator_cpu_s
            && report.generator_cpu_s <= report.seconds * (report.threads as f64 + 1.0) + 0.02,
        "{what}: implausible generator CPU: {report:?}"
    );
    assert!(
        report.generator_cpu_s_per_gb.is_some(),
        "{what}: {report:?}"
    );
    let json = report.to_json();
    assert!(json.contains("\"generator_cpu_s\":"), "{json}");
    assert!(report.to_table().contains("generator CPU s"));
}

#[test]
fn the_load_generator_runs_every_obfs2_transport_without_errors() {
    let rig = Rig::start(&[]);
    let cases = [
        ("abridged", SECRET_HEX.to_string(), Transport::Abridged),
        (
            "intermediate",
            SECRET_HEX.to_string(),
            Transport::Intermediate,
        ),
        ("padded dd", format!("dd{SECRET_HEX}"), Transport::Padded),
    ];
    for (what, secret, transport) in cases {
        let report = run(&config(
            rig.proxy.addr(),
            rig.proxy.pid(),
            &secret,
            transport,
        ))
        .unwrap_or_else(|e| panic!("{what}: {e}; proxy stderr:\n{}", rig.proxy.stderr_text()));
        check(what, &report);
        // Echo: every byte sent came back (answers may still be in flight).
        assert!(report.down_bytes <= report.up_bytes, "{what}: {report:?}");
    }
    // Latency is sampled with one packet in flight.
    let mut one = config(
        rig.proxy.addr(),
        rig.proxy.pid(),
        SECRET_HEX,
        Transport::Intermediate,
    );
    one.window = 1;
    one.size = 64;
    let report = run(&one).unwrap();
    check("window 1", &report);
    assert!(
        report.rtt_p50_us > 0 && report.rtt_p50_us <= report.rtt_p99_us,
        "{report:?}"
    );
}

#[test]
fn the_load_generator_runs_fake_tls_without_errors() {
    let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let d = format!("localhost:{}", domain.port());
    let rig = Rig::start(&["-D", &d]);
    let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
    let secret = format!("ee{SECRET_HEX}{hex_domain}");
    let report = run(&config(
        rig.proxy.addr(),
        rig.proxy.pid(),
        &secret,
        Transport::Padded,
    ))
    .unwrap_or_else(|e| panic!("fake TLS: {e}; proxy stderr:\n{}", rig.proxy.stderr_text()));
    check("fake TLS", &report);
}

#[test]
fn the_load_generator_downloads_and_holds_idle_connections() {
    let rig = Rig::start(&[]);
    rig.me.handle().set_behaviour(Behaviour::ReplyBytes(65536));
    let mut download = config(
        rig.proxy.addr(),
        rig.proxy.pid(),
        SECRET_HEX,
        Transport::Intermediate,
    );
    download.mode = Mode::Download;
    let report = run(&download).unwrap();
    check("download", &report);
    // 64-byte requests, 64 KiB answers.
    assert!(report.down_bytes > 100 * report.up_bytes, "{report:?}");

    rig.me.handle().set_behaviour(Behaviour::Echo);
    let mut idle = config(
        rig.proxy.addr(),
        rig.proxy.pid(),
        SECRET_HEX,
        Transport::Intermediate,
    );
    idle.mode = Mode::Idle;
    idle.connections = 300;
    idle.duration = Duration::ZERO;
    let report = run(&idle).unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.handshakes_per_sec > 0.0, "{report:?}");
    assert!(report.rss_bytes_per_connection.is_some(), "{report:?}");
    assert_eq!(
        report.round_trips, 0,
        "idle: nothing is measured after set-up"
    );
}
