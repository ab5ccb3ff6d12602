//! `--config-url` / `--secret-url` (README "Running against real Telegram";
//! Rust engine only), against the test kit's loopback HTTP server: files
//! fetched at start-up, a new config taken live, bad, truncated, failing and
//! slow answers refused while the last good copy stays.
#[cfg(not(feature = "rust-engine-main"))]
#[test]
fn a_c_engine_build_refuses_the_urls_naming_the_feature() {
    crate::harness::refused(
        &["-H", "0", "--config-url", "default", "x.conf"],
        "fetching Telegram's files (--config-url, --secret-url) needs the Rust engine: build with --features rust-engine-main",
    );
}

#[cfg(feature = "rust-engine-main")]
mod rust_engine {
    use crate::harness::*;
    use mtproxy_testkit::client::{Received, Transport};
    use mtproxy_testkit::http_server::{Answer, HttpServer};
    use std::time::{Duration, Instant};

    fn counter(proxy: &Proxy, key: &str) -> i64 {
        let (_, body) = http_get(proxy.stats_port.expect("stats port"), "/stats");
        body.lines()
            .filter_map(|l| l.split_once('\t'))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(-1)
    }

    /// Polls until `key` reaches at least `at_least`.
    fn wait_counter(proxy: &Proxy, key: &str, at_least: i64) {
        let deadline = Instant::now() + WAIT;
        while counter(proxy, key) < at_least {
            assert!(
                Instant::now() < deadline,
                "{key} stayed {}; stderr:\n{}",
                counter(proxy, key),
                proxy.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn echo(proxy: &Proxy) {
        let mut client = mtproxy_testkit::client::TestClient::connect(
            proxy.addr(),
            SECRET_HEX,
            Transport::Intermediate,
            2,
            Default::default(),
        )
        .unwrap();
        let p = packet(64, 5);
        client.send_packet(&p, false).unwrap();
        assert_eq!(client.recv_packet(WAIT).unwrap(), Received::Packet(p));
    }

    #[test]
    fn files_are_fetched_at_start_up_and_refreshed_and_bad_answers_are_refused() {
        let scratch = Scratch::new();
        let me = start_me(&scratch, 0);
        let secret_path = scratch.path("proxy-secret");
        let secret = std::fs::read(&secret_path).unwrap();
        std::fs::remove_file(&secret_path).unwrap();
        let conf = scratch.path("proxy-multi.conf");
        let server = HttpServer::start().unwrap();
        server.set(
            "/config",
            Answer::Body(me.proxy_multi_conf(&[2]).into_bytes()),
        );
        server.set("/secret", Answer::Body(secret.clone()));
        let (config_url, secret_url) = (server.url("/config"), server.url("/secret"));
        let proxy = start_proxy(
            &scratch,
            &conf,
            &[
                "--config-url",
                &config_url,
                "--secret-url",
                &secret_url,
                "--refresh-interval",
                "1",
            ],
        );
        // Both files were fetched before the start, and they work.
        assert_eq!(std::fs::read(&secret_path).unwrap(), secret);
        assert_eq!(
            std::fs::read_to_string(&conf).unwrap(),
            me.proxy_multi_conf(&[2])
        );
        assert!(me.handle().wait_ready_connections(DEFAULT_POOL, WAIT));
        echo(&proxy);

        // A new middle-end list is taken live.
        let second = start_me(&scratch, 0);
        let new_conf = second.proxy_multi_conf(&[2]);
        server.set("/config", Answer::Body(new_conf.clone().into_bytes()));
        assert!(
            second.handle().wait_ready_connections(DEFAULT_POOL, WAIT),
            "the new config was not loaded; stderr:\n{}",
            proxy.stderr_text()
        );
        wait_counter(&proxy, "telegram_files_changed", 1);
        echo(&proxy);

        // Bad answers: counted, the last good copy stays on disk and in use.
        let failed = counter(&proxy, "telegram_fetch_failed");
        let bad = [
            Answer::Body(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
            Answer::Truncated(new_conf.as_bytes()[..new_conf.len() / 2].to_vec()),
            Answer::Status(500),
            Answer::Slow(Duration::from_secs(3), new_conf.clone().into_bytes()),
        ];
        for (i, answer) in bad.into_iter().enumerate() {
            server.set("/config", answer);
            wait_counter(&proxy, "telegram_fetch_failed", failed + 1 + i as i64);
            assert_eq!(std::fs::read_to_string(&conf).unwrap(), new_conf);
        }
        echo(&proxy);
        assert!(server.hits("/config") >= 6);
    }

    #[test]
    fn a_missing_file_that_cannot_be_fetched_stops_the_start() {
        let scratch = Scratch::new();
        std::fs::write(scratch.path("proxy-secret"), proxy_secret()).unwrap();
        let server = HttpServer::start().unwrap();
        server.set("/config", Answer::Status(503));
        let conf = scratch.path("proxy-multi.conf");
        let url = server.url("/config");
        let user = run_user();
        let status = proxy_command(&scratch, &conf, &["-u", &user, "--config-url", &url])
            .status()
            .unwrap();
        assert!(!status.success());
        let stderr = std::fs::read_to_string(scratch.path("proxy.stderr")).unwrap();
        assert!(
            stderr.contains("does not exist and cannot be fetched") && stderr.contains("503"),
            "{stderr}"
        );
        assert!(!conf.exists(), "nothing written");
    }
}
