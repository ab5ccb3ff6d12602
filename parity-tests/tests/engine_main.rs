//! engine-main, C against Rust: start-up refusals (files, settings) give the
//! same exit status on both sides, before anything is bound or started.
use mtproxy_core::runtime::EngineConfig;
use mtproxy_sys::c::engine_main as rust_engine;
use mtproxy_sys::cref::engine_main as c_engine;

/// This test's own directory under the system temp dir.
fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mtproxy-engine-parity-{}", std::process::id()))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn base() -> EngineConfig {
    let secret = scratch("proxy-secret");
    std::fs::write(&secret, [7u8; 64]).unwrap();
    let conf = scratch("proxy-multi.conf");
    std::fs::write(&conf, "proxy_for 2 127.0.0.1:1;\n").unwrap();
    EngineConfig {
        config_file: conf.display().to_string(),
        aes_pwd_file: secret.display().to_string(),
        ports: vec![0],
        secrets: vec![[1; 16]],
        workers: 1,
        backlog: 16,
        msg_buffers_size: 1 << 20,
        ..EngineConfig::default()
    }
}

fn both(config: &EngineConfig) -> (i32, i32) {
    (
        c_engine::run(config).unwrap(),
        rust_engine::run(config).unwrap(),
    )
}

#[test]
fn refusals_match() {
    let missing_conf = EngineConfig {
        config_file: scratch("no-such.conf").display().to_string(),
        ..base()
    };
    let short = scratch("short-secret");
    std::fs::write(&short, [1u8; 8]).unwrap();
    let short_secret = EngineConfig {
        aes_pwd_file: short.display().to_string(),
        ..base()
    };
    let bad = scratch("bad.conf");
    std::fs::write(&bad, "proxy_for 2 127.0.0.1:1\n").unwrap();
    let bad_conf = EngineConfig {
        config_file: bad.display().to_string(),
        ..base()
    };
    let unknown_user = EngineConfig {
        user: Some("no-such-user-mtproxy-test".into()),
        ..base()
    };
    let mut cases = vec![
        ("missing config", missing_conf),
        ("short proxy secret", short_secret),
        ("config without `;`", bad_conf),
        ("unknown -u user", unknown_user),
    ];
    // Started as root without -u on a machine without user mtproxy (docs/PROTOCOL.md
    // §8.3): refused, before anything is bound. Elsewhere the engine would run.
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root && mtproxy_core::common::server_functions::lookup_user("mtproxy").is_err() {
        cases.push(("root without -u and no user mtproxy", base()));
    }
    for (what, config) in cases {
        let (c, rust) = both(&config);
        assert_eq!(c, rust, "{what}");
        assert_eq!(c, 1, "{what} must be refused");
    }
    std::fs::remove_dir_all(scratch_dir()).unwrap();
}
