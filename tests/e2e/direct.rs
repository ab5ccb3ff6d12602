//! Direct mode (README "Direct mode"; Rust proxy only) and the Rust proxy's
//! obfuscated2 replay protection, against the test kit's fake DC. Builds
//! whose proxy is C run the refusal tests instead (and print why the rest
//! is skipped).
use crate::harness::*;

#[test]
fn an_ad_tag_with_direct_mode_is_refused_with_the_reason() {
    refused(
        &["-H", "0", "--direct", "-P", SECRET_HEX, "x.conf"],
        "an ad tag (-P) only works through Telegram's middle-ends: drop --direct to show the sponsored channel, or drop -P",
    );
}

#[cfg(not(feature = "rust-mtproto-proxy"))]
#[test]
fn a_c_proxy_build_refuses_direct_mode_naming_the_feature() {
    let line = "direct mode needs the Rust proxy: build with --features rust-mtproto-proxy";
    refused(&["-H", "0", "--direct", "x.conf"], line);
    refused(
        &[
            "-H",
            "0",
            "--direct",
            "--dc-addr",
            "2=127.0.0.1:1",
            "x.conf",
        ],
        line,
    );
    refused(&["-H", "0", "--direct-fallback", "5", "x.conf"], line);
    println!(
        "skipped: direct mode and obfuscated2 replay protection (this build's proxy is C; \
         they need --features rust-mtproto-proxy)"
    );
}

#[cfg(feature = "rust-mtproto-proxy")]
mod rust_proxy {
    use super::*;
    use mtproxy_core::net::obfs2;
    use mtproxy_testkit::client::{ClientError, ClientOptions, Received, TestClient, Transport};
    use mtproxy_testkit::fake_dc::FakeDc;
    use mtproxy_testkit::fronting::FakeDomain;

    fn hex_localhost() -> String {
        b"localhost".iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A proxy in direct mode with `extra` arguments; the config and the
    /// proxy secret are given too, so a C engine (rust-mtproto build)
    /// starts as well.
    fn start_direct(scratch: &Scratch, extra: &[&str]) -> Proxy {
        std::fs::write(scratch.path("proxy-secret"), proxy_secret()).unwrap();
        let conf = scratch.path("proxy-multi.conf");
        std::fs::write(&conf, "proxy_for 2 127.0.0.1:9;\n").unwrap();
        let mut args = vec!["--direct"];
        args.extend(extra);
        start_proxy(scratch, &conf, &args)
    }

    fn connect(proxy: &Proxy, secret: &str, transport: Transport, dc: i16) -> TestClient {
        TestClient::connect(
            proxy.addr(),
            secret,
            transport,
            dc,
            ClientOptions::default(),
        )
        .unwrap_or_else(|e| panic!("connect: {e}; proxy stderr:\n{}", proxy.stderr_text()))
    }

    /// Sends a packet and expects the fake DC's echo of it (padding, which
    /// passes through unchanged in direct mode, may follow in padded mode).
    fn echo(client: &mut TestClient, len: usize, seed: u32, padded: bool) {
        let p = packet(len, seed);
        client.send_packet(&p, false).unwrap();
        match client.recv_packet(WAIT).unwrap() {
            Received::Packet(got) if padded => {
                assert!(
                    got.starts_with(&p) && got.len() <= p.len() + 3,
                    "padded echo differs"
                )
            }
            Received::Packet(got) => assert_eq!(got, p, "echo of {len} bytes differs"),
            other => panic!("expected the echo, got {other:?}"),
        }
    }

    fn stat(proxy: &Proxy, key: &str) -> Option<i64> {
        let (status, body) = http_get(proxy.stats_port.expect("stats port"), "/stats");
        assert_eq!(status, 200);
        body.lines()
            .filter_map(|l| l.split_once('\t'))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse().ok())
    }

    /// Polls /stats until `key` is `value`. The Rust-only lines are
    /// rendered by the Rust engine only: with a C engine, nothing is checked.
    fn wait_stat(proxy: &Proxy, key: &str, value: i64) {
        if !cfg!(feature = "rust-engine-main") {
            return;
        }
        let deadline = std::time::Instant::now() + WAIT;
        while stat(proxy, key) != Some(value) {
            assert!(
                std::time::Instant::now() < deadline,
                "/stats {key} stayed {:?}, expected {value}",
                stat(proxy, key)
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn every_obfs2_transport_reaches_the_dc_it_names() {
        let dc = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        let over = format!("2={}", dc.addr());
        let proxy = start_direct(&scratch, &["--dc-addr", &over]);
        let cases = [
            (
                SECRET_HEX.to_string(),
                Transport::Abridged,
                obfs2::TAG_ABRIDGED,
            ),
            (
                SECRET_HEX.to_string(),
                Transport::Intermediate,
                obfs2::TAG_INTERMEDIATE,
            ),
            (
                format!("dd{SECRET_HEX}"),
                Transport::Padded,
                obfs2::TAG_PADDED,
            ),
        ];
        for (k, (secret, transport, tag)) in cases.iter().enumerate() {
            let mut client = connect(&proxy, secret, *transport, 2);
            for i in 0..5u32 {
                let len = 56 + 4 * ((i as usize * 97) % 300);
                echo(
                    &mut client,
                    len,
                    (k as u32) << 8 | i,
                    *tag == obfs2::TAG_PADDED,
                );
            }
            // Unsolicited bytes from the DC reach the client too.
            let pushed = packet(56, 77);
            let mut frame = (pushed.len() as u32).to_le_bytes().to_vec();
            if *tag == obfs2::TAG_ABRIDGED {
                frame = vec![(pushed.len() / 4) as u8];
            }
            frame.extend_from_slice(&pushed);
            assert!(dc.push(k, &frame));
            assert_eq!(client.recv_packet(WAIT).unwrap(), Received::Packet(pushed));
            let seen = dc.connections();
            assert_eq!(
                (seen[k].dc, seen[k].tag, seen[k].header_ok),
                (2, *tag, true)
            );
            // The DC closing ends the client.
            dc.close(k);
            assert!(matches!(
                client.recv_packet(WAIT),
                Err(ClientError::Closed | ClientError::Io(_))
            ));
        }
        wait_stat(&proxy, "direct_mode", 1);
        wait_stat(&proxy, "direct_connections_total_dc2", 3);
        wait_stat(&proxy, "direct_connections_dc2", 0);
        if cfg!(feature = "rust-engine-main") {
            assert!(stat(&proxy, "direct_bytes_up_dc2").unwrap() > 0);
            assert!(stat(&proxy, "direct_bytes_down_dc2").unwrap() > 0);
        }
        // No middle-end connection is ever opened in direct mode.
        assert_eq!(stat(&proxy, "total_ready_targets"), Some(0));
    }

    #[test]
    fn fake_tls_clients_are_unwrapped_and_rewrapped() {
        let dc = FakeDc::start().unwrap();
        let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
        let scratch = Scratch::new();
        let d = format!("localhost:{}", domain.port());
        let over = format!("2={}", dc.addr());
        let proxy = start_direct(&scratch, &["-D", &d, "--dc-addr", &over]);
        let secret = format!("ee{SECRET_HEX}{}", hex_localhost());
        let mut client = connect(&proxy, &secret, Transport::Padded, 2);
        for i in 0..5u32 {
            echo(&mut client, 2000 + 4 * i as usize, i, true);
        }
        // A 100 KiB packet spans many records both ways.
        echo(&mut client, 100 << 10, 9, true);
        let seen = dc.connections();
        assert_eq!((seen[0].dc, seen[0].tag), (2, obfs2::TAG_PADDED));
    }

    #[test]
    fn media_dcs_and_overrides_pick_their_address() {
        let two = FakeDc::start().unwrap();
        let media = FakeDc::start().unwrap();
        let four = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        let t = format!("2={}", two.addr());
        let (m, f) = (format!("-2={}", media.addr()), format!("4={}", four.addr()));
        let proxy = start_direct(
            &scratch,
            &["--dc-addr", &t, "--dc-addr", &m, "--dc-addr", &f],
        );
        let mut a = connect(&proxy, SECRET_HEX, Transport::Intermediate, -2);
        echo(&mut a, 64, 1, false);
        let mut b = connect(&proxy, SECRET_HEX, Transport::Abridged, 4);
        echo(&mut b, 64, 2, false);
        assert_eq!(media.connections()[0].dc, -2);
        assert_eq!(four.connections()[0].dc, 4);
        assert_eq!(media.connections().len(), 1);
        assert!(two.connections().is_empty(), "the media DC went to DC 2");
        wait_stat(&proxy, "direct_connections_total_dc-2", 1);
        wait_stat(&proxy, "direct_connections_total_dc4", 1);
    }

    #[test]
    fn unknown_dcs_close_the_client_and_others_keep_working() {
        let dc = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        let over = format!("2={}", dc.addr());
        let proxy = start_direct(&scratch, &["--dc-addr", &over]);
        let mut good = connect(&proxy, SECRET_HEX, Transport::Intermediate, 2);
        echo(&mut good, 64, 1, false);
        for bad in [0i16, 10000, 20000, -30000] {
            let mut client = connect(&proxy, SECRET_HEX, Transport::Intermediate, bad);
            let _ = client.send_packet(&packet(64, 3), false);
            assert!(
                matches!(
                    client.recv_packet(WAIT),
                    Err(ClientError::Closed | ClientError::Io(_))
                ),
                "DC {bad} was not closed"
            );
            echo(&mut good, 64, 2, false);
        }
        wait_stat(&proxy, "direct_unknown_dc", 4);
        assert_eq!(dc.connections().len(), 1);
        let mut late = connect(&proxy, SECRET_HEX, Transport::Abridged, 2);
        echo(&mut late, 128, 4, false);
    }

    #[test]
    fn a_replayed_obfs2_header_is_refused() {
        let rig = Rig::start(&[]);
        let options = || ClientOptions {
            seed: Some(0x5eed),
            ..ClientOptions::default()
        };
        let addr = rig.proxy.addr();
        let mut first =
            TestClient::connect(addr, SECRET_HEX, Transport::Intermediate, 2, options()).unwrap();
        let p = packet(64, 1);
        first.send_packet(&p, false).unwrap();
        assert_eq!(
            first.recv_packet(WAIT).unwrap(),
            Received::Packet(p.clone())
        );
        // The same seed draws the same 64-byte header: a replay.
        let mut replay =
            TestClient::connect(addr, SECRET_HEX, Transport::Intermediate, 2, options()).unwrap();
        let _ = replay.send_packet(&p, false);
        assert!(matches!(
            replay.recv_packet(WAIT),
            Err(ClientError::Closed | ClientError::Io(_))
        ));
        if cfg!(feature = "rust-engine-main") {
            rig.wait_stat("obfs2_replays_rejected", 1);
        }
        // The original connection is untouched.
        first.send_packet(&p, false).unwrap();
        assert_eq!(first.recv_packet(WAIT).unwrap(), Received::Packet(p));
    }

    /// With the Rust engine too, direct mode needs neither proxy-multi.conf
    /// nor the proxy-secret file.
    #[cfg(feature = "rust-engine-main")]
    #[test]
    fn direct_mode_runs_without_the_config_files() {
        use mtproxy_testkit::process::ChildGuard;
        let dc = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        let ports = scratch.path("ports");
        let over = format!("2={}", dc.addr());
        let user = run_user();
        let stderr = scratch.path("proxy.stderr");
        let child = std::process::Command::new(proxy_bin())
            .args([
                "-u", &user, "-H", "0", "-M", "1", "-S", SECRET_HEX, "--direct",
            ])
            .args(["--aes-pwd", "/nonexistent/proxy-secret", "--dc-addr", &over])
            .arg("--ports-file")
            .arg(&ports)
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let _guard = ChildGuard::new(child);
        let deadline = std::time::Instant::now() + WAIT;
        let port: u16 = loop {
            let text = std::fs::read_to_string(&ports).unwrap_or_default();
            if let Some(p) = text.lines().find_map(|l| l.strip_prefix("client ")) {
                break p.trim().parse().unwrap();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no ports file: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut client = TestClient::connect(
            addr,
            SECRET_HEX,
            Transport::Intermediate,
            2,
            Default::default(),
        )
        .unwrap();
        echo(&mut client, 64, 1, false);
    }

    /// A loopback port nothing listens on (bound, then freed).
    fn closed_port_addr() -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    }

    #[test]
    fn a_refused_dc_address_falls_back_to_the_next() {
        let dc = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        let dead = format!("2={}", closed_port_addr());
        let live = format!("2={}", dc.addr());
        let proxy = start_direct(&scratch, &["--dc-addr", &dead, "--dc-addr", &live]);
        for i in 0..3 {
            let mut client = connect(&proxy, SECRET_HEX, Transport::Intermediate, 2);
            echo(&mut client, 64, i, false);
        }
        assert_eq!(dc.connections().len(), 3);
        wait_stat(&proxy, "direct_address_fallbacks", 3);
        wait_stat(&proxy, "direct_connect_failed", 0);
        // With no address left the client is closed and counted.
        let dead_only = format!("3={}", closed_port_addr());
        let proxy = start_direct(&Scratch::new(), &["--dc-addr", &dead_only]);
        let mut client = connect(&proxy, SECRET_HEX, Transport::Intermediate, 3);
        let _ = client.send_packet(&packet(64, 1), false);
        assert!(matches!(
            client.recv_packet(WAIT),
            Err(ClientError::Closed | ClientError::Io(_))
        ));
        wait_stat(&proxy, "direct_connect_failed", 1);
    }

    #[test]
    fn a_dc_address_that_never_answers_gives_way_after_the_deadline() {
        let hole = mtproxy_testkit::fake_dc::Unanswered::start().unwrap();
        let dc = FakeDc::start().unwrap();
        let (silent, live) = (format!("2={}", hole.addr()), format!("2={}", dc.addr()));
        let proxy = start_direct(&Scratch::new(), &["--dc-addr", &silent, "--dc-addr", &live]);
        let started = std::time::Instant::now();
        let mut client = connect(&proxy, SECRET_HEX, Transport::Intermediate, 2);
        echo(&mut client, 64, 1, false);
        // The attempt deadline (5 s), not the kernel's connect timeout.
        assert!(started.elapsed() >= std::time::Duration::from_secs(4));
        wait_stat(&proxy, "direct_address_fallbacks", 1);
    }

    #[test]
    fn prefer_ipv6_picks_the_dc_ipv6_address_first() {
        let v6 = match FakeDc::start_with(mtproxy_testkit::fake_dc::FakeDcConfig {
            bind: "[::1]:0".parse().unwrap(),
            ..Default::default()
        }) {
            Ok(dc) => dc,
            Err(e) => {
                println!("skipped: IPv6 direct connect (this machine has no ::1: {e})");
                return;
            }
        };
        let v4 = FakeDc::start().unwrap();
        let (a, b) = (format!("2={}", v4.addr()), format!("2={}", v6.addr()));
        for prefer in [false, true] {
            let mut extra = vec!["--dc-addr", &a, "--dc-addr", &b];
            if prefer {
                extra.push("--prefer-ipv6");
            }
            let before = (v4.connections().len(), v6.connections().len());
            let proxy = start_direct(&Scratch::new(), &extra);
            let mut client = connect(&proxy, SECRET_HEX, Transport::Abridged, 2);
            echo(&mut client, 64, 1, false);
            let after = (v4.connections().len(), v6.connections().len());
            let want = if prefer {
                (before.0, before.1 + 1)
            } else {
                (before.0 + 1, before.1)
            };
            assert_eq!(
                after, want,
                "(IPv4, IPv6) DC connections, prefer_ipv6={prefer}"
            );
        }
    }

    #[test]
    fn clients_go_direct_once_the_middle_ends_stay_down() {
        let dc = FakeDc::start().unwrap();
        let scratch = Scratch::new();
        std::fs::write(scratch.path("proxy-secret"), proxy_secret()).unwrap();
        let conf = scratch.path("proxy-multi.conf");
        let nobody = closed_port_addr();
        std::fs::write(&conf, format!("proxy_for 2 {nobody};\n")).unwrap();
        let over = format!("2={}", dc.addr());
        let proxy = start_proxy(
            &scratch,
            &conf,
            &["--direct-fallback", "1", "--dc-addr", &over],
        );
        // Clients of the first second wait for a middle-end; once none has
        // been ready for 1 s, new ones are relayed to the DC.
        let deadline = std::time::Instant::now() + WAIT;
        let mut client = loop {
            let mut client = connect(&proxy, SECRET_HEX, Transport::Intermediate, 2);
            let p = packet(64, 1);
            client.send_packet(&p, false).unwrap();
            let wait = std::time::Duration::from_millis(300);
            if let Ok(Received::Packet(got)) = client.recv_packet(wait) {
                assert_eq!(got, p);
                break client;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no client went direct; proxy stderr:\n{}",
                proxy.stderr_text()
            );
        };
        echo(&mut client, 1000, 2, false);
        let seen = dc.connections();
        assert_eq!(seen.len(), 1, "only the client that went direct");
        assert_eq!((seen[0].dc, seen[0].header_ok), (2, true));
        wait_stat(&proxy, "direct_fallback_clients", 1);
        wait_stat(&proxy, "direct_connections_dc2", 1);
    }

    #[test]
    fn dc_addr_without_direct_is_refused() {
        let answer = "add --direct or --direct-fallback SECS";
        refused(
            &["-H", "0", "--dc-addr", "2=127.0.0.1:1", "x.conf"],
            &format!("--dc-addr only applies to direct connections: {answer}"),
        );
        refused(
            &["-H", "0", "--prefer-ipv6", "x.conf"],
            &format!("--prefer-ipv6 only applies to direct connections: {answer}"),
        );
    }
}
