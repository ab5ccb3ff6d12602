//! Replay protection shared by a fleet through Redis (`--shared-state`;
//! README "Operating a fleet"): two proxy instances pointed at one
//! redis-server (the test kit's, on a free loopback port). Builds whose
//! proxy is C run the refusal test instead.

#[cfg(not(feature = "rust-mtproto-proxy"))]
#[test]
fn a_c_proxy_build_refuses_shared_state_naming_the_feature() {
    crate::harness::refused(
        &["-H", "0", "--shared-state", "redis://127.0.0.1:1/", "x.conf"],
        "shared replay protection (--shared-state) needs the Rust proxy: build with --features rust-mtproto-proxy",
    );
}

/// The Redis thread starts with the proxy, before either engine blocks the
/// signals it reads from its signalfd: a SIGHUP must still reach the engine
/// (a reload), not that thread (whose default action ends the process).
#[cfg(feature = "rust-mtproto-proxy")]
#[test]
fn sighup_reloads_a_proxy_that_shares_state_and_it_goes_on_serving() {
    use crate::harness::*;
    use mtproxy_testkit::client::{Received, Transport};
    use mtproxy_testkit::redis_server::RedisServer;
    use std::time::{Duration, Instant};

    let redis = RedisServer::start().unwrap();
    let mut rig = Rig::start(&["--shared-state", &redis.url()]);
    signal(rig.proxy.pid(), nix::sys::signal::Signal::SIGHUP);
    let deadline = Instant::now() + WAIT;
    while !rig.proxy.stderr_text().contains("config reloaded from") {
        let exited = rig.proxy.child.try_wait().unwrap();
        assert!(
            exited.is_none(),
            "the proxy ended on SIGHUP ({exited:?}):\n{}",
            rig.proxy.stderr_text()
        );
        assert!(Instant::now() < deadline, "{}", rig.proxy.stderr_text());
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    client.send_packet(&packet(64, 1), false).unwrap();
    assert_eq!(
        client.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 1))
    );
}

/// The health lines are the Rust engine's (`/stats`), so the fleet tests
/// need both Rust modules.
#[cfg(all(feature = "rust-mtproto-proxy", feature = "rust-engine-main"))]
mod fleet {
    use crate::harness::*;
    use mtproxy_testkit::client::{ClientError, ClientOptions, Received, TestClient, Transport};
    use mtproxy_testkit::fronting::FakeDomain;
    use mtproxy_testkit::redis_server::RedisServer;
    use std::time::Instant;

    /// Polls /stats until `key` is at least `min`.
    fn wait_stat_at_least(rig: &Rig, key: &str, min: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = rig
                .stats()
                .get(key)
                .and_then(|v| v.trim().parse::<i64>().ok());
            if now.is_some_and(|v| v >= min) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/stats {key} stayed {now:?}, expected at least {min}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn echo(client: &mut TestClient, seed: u32) {
        let p = packet(64, seed);
        client.send_packet(&p, false).unwrap();
        assert_eq!(client.recv_packet(WAIT).unwrap(), Received::Packet(p));
    }

    fn seeded(rig: &Rig, seed: u64) -> Result<TestClient, ClientError> {
        let options = ClientOptions {
            seed: Some(seed),
            ..ClientOptions::default()
        };
        TestClient::connect(
            rig.proxy.addr(),
            SECRET_HEX,
            Transport::Intermediate,
            2,
            options,
        )
    }

    #[test]
    fn an_obfs2_header_replayed_to_another_instance_is_refused() {
        let redis = RedisServer::start().unwrap();
        let url = redis.url();
        let a = Rig::start(&["--shared-state", &url]);
        let b = Rig::start(&["--shared-state", &url]);
        let mut first = seeded(&a, 0x5eed).unwrap();
        echo(&mut first, 1);
        wait_stat_at_least(&b, "shared_state_received", 1);
        // The same seed draws the same 64-byte header: a replay, on `b`.
        let mut replay = seeded(&b, 0x5eed).unwrap();
        let _ = replay.send_packet(&packet(64, 1), false);
        assert!(matches!(
            replay.recv_packet(WAIT),
            Err(ClientError::Closed | ClientError::Io(_))
        ));
        b.wait_stat("obfs2_replays_rejected", 1);
        // Other clients of `b` are served; the original goes on.
        let mut other = seeded(&b, 0xfeed).unwrap();
        echo(&mut other, 2);
        echo(&mut first, 3);
    }

    /// Issue #12's scale-out set-up: two instances behind a balancer that
    /// sends PROXY protocol v2, one Redis. The balancer alternates, so a
    /// client's second connection lands on the other instance.
    #[test]
    fn behind_a_balancer_a_replay_to_the_other_instance_is_refused() {
        use mtproxy_testkit::balancer::Balancer;
        let redis = RedisServer::start().unwrap();
        let url = redis.url();
        let args = [
            "--shared-state",
            url.as_str(),
            "--proxy-protocol",
            "127.0.0.1",
        ];
        let a = Rig::start(&args);
        let b = Rig::start(&args);
        let lb = Balancer::start(vec![a.proxy.addr(), b.proxy.addr()]).unwrap();
        let through = |seed: u64| {
            let options = ClientOptions {
                seed: Some(seed),
                ..ClientOptions::default()
            };
            TestClient::connect(lb.addr(), SECRET_HEX, Transport::Intermediate, 2, options)
        };
        let mut first = through(0x5eed).unwrap();
        echo(&mut first, 1);
        a.wait_stat("proxy_protocol_headers", 1);
        wait_stat_at_least(&b, "shared_state_received", 1);
        let mut replay = through(0x5eed).unwrap();
        let _ = replay.send_packet(&packet(64, 1), false);
        assert!(matches!(
            replay.recv_packet(WAIT),
            Err(ClientError::Closed | ClientError::Io(_))
        ));
        b.wait_stat("proxy_protocol_headers", 1);
        b.wait_stat("obfs2_replays_rejected", 1);
        // Fresh clients get served by both instances.
        for seed in [7, 8] {
            echo(&mut through(seed).unwrap(), 2);
        }
        echo(&mut first, 3);
    }

    /// Issue #12's scale-out limits: a user with one connection gets one
    /// across both instances, a quota adds up across both, and Redis going
    /// away mid-run drops no client.
    #[test]
    fn behind_a_balancer_a_users_limits_and_quota_hold_across_both_instances() {
        use mtproxy_testkit::balancer::Balancer;
        const ALICE: &str = "a11ce000a11ce000a11ce000a11ce000";
        const BOB: &str = "b0b00000b0b00000b0b00000b0b00000";
        let redis = RedisServer::start().unwrap();
        let url = redis.url();
        let scratch = Scratch::new();
        let users = scratch.path("users.toml");
        std::fs::write(
            &users,
            format!(
                "[users.alice]\nsecrets = [\"{ALICE}\"]\nmax_connections = 1\n\
                 [users.bob]\nsecrets = [\"{BOB}\"]\nquota = 100000\n"
            ),
        )
        .unwrap();
        let users = users.to_str().unwrap();
        let args = [
            "--shared-state",
            &url,
            "--proxy-protocol",
            "127.0.0.1",
            "--users",
            users,
        ];
        let a = Rig::start(&args);
        let b = Rig::start(&args);
        let lb = Balancer::start(vec![a.proxy.addr(), b.proxy.addr()]).unwrap();
        let through = |secret: &str| {
            TestClient::connect(
                lb.addr(),
                secret,
                Transport::Intermediate,
                2,
                ClientOptions::default(),
            )
            .unwrap()
        };
        let closed_without_a_byte = |mut c: TestClient| {
            let _ = c.send_packet(&packet(64, 9), false);
            let (bytes, eof) = drain(&mut c.into_stream());
            assert!(bytes.is_empty() && eof, "{} bytes, eof {eof}", bytes.len());
        };
        // Turn 0 (a): alice's one connection; turn 1 (b): refused there.
        let mut alice = through(ALICE);
        echo(&mut alice, 1);
        b.wait_stat("user_fleet_connections:alice", 1);
        closed_without_a_byte(through(ALICE));
        b.wait_stat("user_refused_connections:alice", 1);
        // Turns 2 (a) and 3 (b): 10 echoes of 1,000 bytes each way on
        // each instance; each sees the other's bytes in its quota.
        for _ in 0..2 {
            let mut bob = through(BOB);
            for i in 0..10 {
                let p = packet(1000, i);
                bob.send_packet(&p, false).unwrap();
                assert_eq!(bob.recv_packet(WAIT).unwrap(), Received::Packet(p));
            }
        }
        let left = |rig: &Rig| {
            rig.stats()
                .get("user_quota_left:bob")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(-1)
        };
        let deadline = Instant::now() + WAIT;
        // 20,000 payload bytes (and framing) on each: alone each would
        // have about 80,000 left; counting the other, about 60,000.
        while !(left(&a) == left(&b) && (0..62_000).contains(&left(&a))) {
            assert!(
                Instant::now() < deadline,
                "quota left: a {}, b {}",
                left(&a),
                left(&b)
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Redis goes away: alice's connection goes on, a new client is
        // served, and both instances say Redis is down.
        redis.stop();
        echo(&mut alice, 2);
        let mut other = through(SECRET_HEX);
        echo(&mut other, 3);
        a.wait_stat("shared_state_up", 0);
        b.wait_stat("shared_state_up", 0);
        echo(&mut alice, 4);
    }

    #[test]
    fn a_client_hello_replayed_to_another_instance_goes_to_the_domain() {
        let redis = RedisServer::start().unwrap();
        let url = redis.url();
        let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
        let d = format!("localhost:{}", domain.port());
        let a = Rig::start(&["--shared-state", &url, "-D", &d]);
        let b = Rig::start(&["--shared-state", &url, "-D", &d]);
        let probed = domain.connections().len();
        let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
        let secret = format!("ee{SECRET_HEX}{hex_domain}");
        let mut first = a.client(&secret, Transport::Padded);
        let hello = first.client_hello().unwrap().to_vec();
        wait_stat_at_least(&b, "shared_state_received", 1);
        replay_reaches_the_domain(b.proxy.addr(), &hello, &domain, probed);
        echo(&mut first, 1);
    }

    #[test]
    fn redis_going_away_loses_no_client_and_the_backlog_follows_it_back() {
        let redis = RedisServer::start().unwrap();
        let port = redis.port();
        let rig = Rig::start(&["--shared-state", &redis.url()]);
        rig.wait_stat("shared_state_up", 1);
        let mut before = seeded(&rig, 1).unwrap();
        echo(&mut before, 1);
        rig.wait_stat("shared_state_published", 1);
        redis.stop();
        // Handshakes go on with the local caches while Redis is away.
        let mut during: Vec<TestClient> = (2..4).map(|s| seeded(&rig, s).unwrap()).collect();
        for (i, c) in during.iter_mut().enumerate() {
            echo(c, i as u32);
        }
        rig.wait_stat("shared_state_up", 0);
        rig.wait_stat("shared_state_pending", 2);
        wait_stat_at_least(&rig, "shared_state_errors", 3);
        let outage = "shared state: Redis at";
        let said = |what: &str| {
            rig.proxy
                .stderr_text()
                .lines()
                .filter(|l| l.contains(outage) && l.contains(what))
                .count()
        };
        assert_eq!(said("unavailable"), 1, "{}", rig.proxy.stderr_text());
        // The same address, empty: the two digests of the outage are pushed.
        let redis = RedisServer::start_on(port).unwrap();
        rig.wait_stat("shared_state_up", 1);
        rig.wait_stat("shared_state_pending", 0);
        rig.wait_stat("shared_state_published", 3);
        let (_, metrics) = http_get(rig.proxy.stats_port.unwrap(), "/metrics");
        for line in [
            "# TYPE mtproxy_shared_state_up gauge\nmtproxy_shared_state_up 1\n",
            "mtproxy_shared_state_published 3\n",
            "# TYPE mtproxy_shared_state_errors counter\n",
        ] {
            assert!(metrics.contains(line), "{line} in:\n{metrics}");
        }
        assert_eq!(said("is back;"), 1);
        let len: i64 = redis.query(&["XLEN", "mtproxy:replay"]).unwrap();
        assert_eq!(len, 2);
        echo(&mut before, 9);
        for (i, c) in during.iter_mut().enumerate() {
            echo(c, 10 + i as u32);
        }
    }
}
