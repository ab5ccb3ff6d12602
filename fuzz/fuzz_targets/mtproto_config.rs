//! The Rust core's config parser on arbitrary bytes (literal hosts only, so
//! no lookups): must not panic, and a parsed table must be self-consistent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::mtproto::mtproto_config::{ProxyConfig, OPTION_LITERAL_HOSTS};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = ProxyConfig::parse(data, OPTION_LITERAL_HOSTS) else {
        return;
    };
    assert!(config.cluster_count() >= 1 && config.cluster_count() <= 1024);
    assert!(config.target_count() >= 1 && config.target_count() <= 4096);
    for i in 0..config.cluster_count() {
        let cluster = config.cluster(i).expect("cluster");
        assert!(cluster.target_count >= 1);
        for line in 0..cluster.target_count {
            let target = config.cluster_target(i, line).expect("line");
            assert!(target < config.target_count());
        }
        assert_eq!(config.lookup(cluster.id), Some(i));
    }
    for i in 0..config.target_count() {
        let t = config.target(i).expect("target");
        assert!((1..=65535).contains(&t.port));
        assert!(1 <= t.min_connections && t.min_connections <= t.max_connections);
    }
});
