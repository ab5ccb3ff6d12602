//! The local stats endpoint: /stats text, /metrics, refusals.
use crate::harness::*;
use mtproxy_testkit::client::{Received, Transport};

#[test]
fn stats_and_metrics_count_the_traffic() {
    let rig = Rig::start(&["-P", "fedcba9876543210fedcba9876543210"]);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    for i in 0..5 {
        client.send_packet(&packet(64, i), false).unwrap();
        assert_eq!(
            client.recv_packet(WAIT).unwrap(),
            Received::Packet(packet(64, i))
        );
    }
    let stats = rig.stats();
    let num = |k: &str| -> i64 {
        stats
            .get(k)
            .unwrap_or_else(|| panic!("/stats lacks {k}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(num("tot_forwarded_queries"), 5);
    assert_eq!(num("tot_forwarded_responses"), 5);
    assert_eq!(num("ext_connections"), 1);
    assert!(num("ext_connections_created") >= 1);
    assert_eq!(num("proxy_tag_set"), 1);
    assert_eq!(num("workers"), 1);
    assert_eq!(num("config_auth_clusters"), 1);
    assert!(num("total_ready_targets") >= 1);
    assert_eq!(num("pid"), i64::from(rig.proxy.pid()));
    assert!(num("vmrss_bytes") > 0);
    let (status, metrics) = http_get(rig.proxy.stats_port.unwrap(), "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("mtproxy_tot_forwarded_queries 5"),
        "{metrics}"
    );
    assert_eq!(http_get(rig.proxy.stats_port.unwrap(), "/nope").0, 404);
}
