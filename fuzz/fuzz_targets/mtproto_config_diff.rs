//! Differential: the same config bytes to the C and the Rust parser (literal
//! hosts only, so no lookups); the same error and line, or the same table.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::mtproto_config as cm, rust::mtproto::mtproto_config as rm};

/// Everything a config exposes, as plain values.
macro_rules! table {
    ($cfg:expr) => {{
        let cfg = &$cfg;
        let clusters: Vec<_> = (0..cfg.cluster_count())
            .map(|i| {
                let info = cfg.cluster(i);
                let count = info.map_or(0, |c| c.target_count);
                let lines: Vec<_> = (0..=count).map(|j| cfg.cluster_target(i, j)).collect();
                (info, lines, info.map(|c| cfg.lookup(c.id)))
            })
            .collect();
        let targets: Vec<_> = (0..=cfg.target_count()).map(|i| cfg.target(i)).collect();
        (
            clusters,
            targets,
            cfg.default_cluster_id(),
            cfg.lookup(0),
            cfg.lookup(-1),
        )
    }};
}

fuzz_target!(|data: &[u8]| {
    let c = cm::ProxyConfig::parse(data, 1)
        .map(|cfg| table!(cfg))
        .map_err(|e| (e.code, e.line));
    let r = rm::ProxyConfig::parse(data, 1)
        .map(|cfg| table!(cfg))
        .map_err(|e| (e.code, e.line));
    assert_eq!(c, r);
});
