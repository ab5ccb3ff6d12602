//! The fake-TLS face: the proxy probes its `-D` domain (a real TLS 1.3
//! server, rustls) and its ServerHello then has the domain's extension
//! order and encrypted-flight size; every key_share is a real X25519 point,
//! checked with the test kit's own curve arithmetic (not the proxy's
//! libraries).
use crate::harness::{http_get, Rig, SECRET_HEX};
use mtproxy_testkit::client::{ClientOptions, TestClient, Transport};
use mtproxy_testkit::fronting::{FakeDomain, TlsOptions};
use mtproxy_testkit::tls::parse_server_flight;
use mtproxy_testkit::x25519::is_x25519_point;

fn ee_secret() -> String {
    let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
    format!("ee{SECRET_HEX}{hex_domain}")
}

/// The encrypted-flight sizes the domain sent the proxy's probes (one
/// record each with rustls), as one record on the wire would carry them.
fn domain_flight_lens(domain: &FakeDomain) -> Vec<usize> {
    domain
        .connections()
        .iter()
        .filter_map(|c| parse_server_flight(c.first_flight()).ok())
        .map(|f| f.app_data_wire_total() - 5)
        .collect()
}

fn rig_for(domain: &FakeDomain) -> Rig {
    let d = format!("localhost:{}", domain.port());
    Rig::start(&["-D", &d, "--http-stats"])
}

#[test]
fn the_server_hello_takes_the_probed_domains_shape() {
    for (padding, swap) in [(0, false), (3000, true)] {
        let domain = FakeDomain::start_tls(TlsOptions {
            cert_padding: padding,
            swap_server_hello_extensions: swap,
            ..TlsOptions::default()
        })
        .unwrap();
        let rig = rig_for(&domain);
        let seen = domain_flight_lens(&domain);
        assert!(!seen.is_empty(), "the proxy did not probe the domain");
        let (lo, hi) = (*seen.iter().min().unwrap(), *seen.iter().max().unwrap());
        let stats = rig.stats();
        let line = stats
            .get("fake_tls_profile_localhost")
            .cloned()
            .unwrap_or_default();
        assert!(line.starts_with("learned "), "stats: {line:?}");
        for _ in 0..8 {
            let client = rig.client(&ee_secret(), Transport::Padded);
            let flight = client.server_flight().expect("a ServerHello flight");
            assert_eq!(flight.app_data_record_lens.len(), 1);
            let n = flight.app_data_record_lens[0];
            // Upstream's rule (docs/PROTOCOL.md §2.4): equal sizes are
            // copied, a spread of up to 3 gives max-1 +-1, a wider one the
            // mean +-1; all of these stay within the seen range +-1.
            assert!(
                n + 1 >= lo && n <= hi + 1,
                "fake record {n}, domain sent {seen:?} (padding {padding})"
            );
            assert_eq!(
                flight.key_share_first(),
                !swap,
                "extension order (padding {padding}, swap {swap})"
            );
        }
        let (status, metrics) = http_get(rig.proxy.stats_port.unwrap(), "/metrics");
        assert_eq!(status, 200);
        assert!(
            metrics.contains("mtproxy_fake_tls_profile_learned{domain=\"localhost\"} 1"),
            "{metrics}"
        );
    }
}

#[test]
fn a_domain_that_is_not_tls13_leaves_the_fallback_and_a_warning() {
    let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let rig = rig_for(&domain);
    let line = rig.stats().get("fake_tls_profile_localhost").cloned();
    assert_eq!(line.as_deref(), Some("fallback"));
    assert!(
        rig.proxy
            .stderr_text()
            .contains("warning: domain probe: localhost"),
        "{}",
        rig.proxy.stderr_text()
    );
    // Still served, with the fallback sizes (2500..3620).
    let client = rig.client(&ee_secret(), Transport::Padded);
    let n = client.server_flight().unwrap().app_data_record_lens[0];
    assert!((2500..3620).contains(&n), "{n}");
}

#[test]
fn every_key_share_is_a_real_x25519_point() {
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    let rig = rig_for(&domain);
    let mut keys = std::collections::HashSet::new();
    for _ in 0..200 {
        let client = TestClient::connect(
            rig.proxy.addr(),
            &ee_secret(),
            Transport::Padded,
            2,
            ClientOptions::default(),
        )
        .unwrap();
        let key = client
            .server_flight()
            .unwrap()
            .x25519_key()
            .expect("x25519 key share");
        assert!(is_x25519_point(&key), "{key:02x?} is on the twist");
        keys.insert(key);
    }
    assert_eq!(keys.len(), 200, "every ServerHello has a fresh key");
}
