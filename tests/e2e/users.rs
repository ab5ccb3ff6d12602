//! Named users (`--users`, Rust-only): limits refused like a wrong secret
//! and counted, quotas that close connections and survive a restart,
//! reloads that keep the old file on an error. A build that takes the proxy
//! or the engine from C refuses the option, naming the features.
use crate::harness::*;

const KEY_ALICE: &str = "a11ce000a11ce000a11ce000a11ce000";

#[cfg(not(all(feature = "rust-mtproto-proxy", feature = "rust-engine-main")))]
#[test]
fn a_build_with_a_c_proxy_or_engine_refuses_users_naming_the_features() {
    let scratch = Scratch::new();
    let users = scratch.path("users.toml");
    std::fs::write(
        &users,
        format!("[users.alice]\nsecrets = [\"{KEY_ALICE}\"]\n"),
    )
    .unwrap();
    std::fs::write(scratch.path("proxy-secret"), proxy_secret()).unwrap();
    let conf = scratch.path("proxy-multi.conf");
    std::fs::write(&conf, "proxy_for 2 127.0.0.1:9;\n").unwrap();
    let users = users.to_str().unwrap();
    let output = proxy_command(&scratch, &conf, &["--users", users])
        .output()
        .unwrap();
    let stderr = std::fs::read_to_string(scratch.path("proxy.stderr")).unwrap();
    assert!(!output.status.success());
    assert!(
        stderr.contains("build with --features rust-mtproto-proxy,rust-engine-main"),
        "{stderr}"
    );
}

#[cfg(all(feature = "rust-mtproto-proxy", feature = "rust-engine-main"))]
mod rust_build {
    use super::*;
    use mtproxy_testkit::client::{Received, TestClient, Transport};
    use nix::sys::signal::Signal;
    use std::path::Path;
    use std::time::Instant;

    fn users_file(scratch: &Scratch, text: &str) -> String {
        let path = scratch.path("users.toml");
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    const KEY_BOB: &str = "b0b00000b0b00000b0b00000b0b00000";
    const KEY_CAROL: &str = "ca201000ca201000ca201000ca201000";

    /// alice: one connection at a time; bob: `quota` bytes; carol: expired.
    fn three_users(quota: u64) -> String {
        format!(
            "[users.alice]\nsecrets = [\"{KEY_ALICE}\"]\nmax_connections = 1\n\n\
             [users.bob]\nsecrets = [\"dd{KEY_BOB}\"]\nquota = {quota}\n\n\
             [users.carol]\nsecrets = [\"{KEY_CAROL}\"]\nexpires = 2001-01-01T00:00:00Z\n"
        )
    }

    /// Polls until `read` gives something `done` accepts.
    fn wait_until<T: std::fmt::Debug>(
        what: &str,
        read: impl Fn() -> T,
        done: impl Fn(&T) -> bool,
    ) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = read();
            if done(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{what}: still {value:?}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn stat(rig: &Rig, key: &str) -> Option<i64> {
        rig.stats().get(key).and_then(|v| v.trim().parse().ok())
    }

    /// Echoes `rounds` packets of `len` bytes as bob.
    fn use_bob(rig: &Rig, rounds: u32, len: usize) {
        let mut bob = rig.client(&format!("dd{KEY_BOB}"), Transport::Intermediate);
        for i in 0..rounds {
            echo(&mut bob, len, i);
        }
    }

    fn echo(client: &mut TestClient, len: usize, seed: u32) {
        let p = packet(len, seed);
        client.send_packet(&p, false).unwrap();
        assert_eq!(client.recv_packet(WAIT).unwrap(), Received::Packet(p));
    }

    /// The proxy closed the client without a byte, as for a wrong secret.
    fn refused(rig: &Rig, secret: &str) {
        let mut client = rig.client(secret, Transport::Intermediate);
        let _ = client.send_packet(&packet(64, 9), false);
        let (bytes, eof) = drain(&mut client.into_stream());
        assert!(bytes.is_empty() && eof, "{} bytes, eof {eof}", bytes.len());
    }

    fn wait_stderr(rig: &Rig, text: &str) {
        let deadline = Instant::now() + WAIT;
        while !rig.proxy.stderr_text().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no `{text}` in:\n{}",
                rig.proxy.stderr_text()
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn stop(rig: Rig) {
        let Rig { mut proxy, .. } = rig;
        signal(proxy.pid(), Signal::SIGTERM);
        let deadline = Instant::now() + WAIT;
        while proxy.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "proxy did not exit");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn a_user_over_its_connection_limit_is_refused_like_a_wrong_secret_and_counted() {
        let scratch = Scratch::new();
        let users = users_file(&scratch, &three_users(1 << 30));
        let rig = Rig::start(&["--users", &users]);
        let mut alice = rig.client(KEY_ALICE, Transport::Intermediate);
        echo(&mut alice, 100, 1);
        refused(&rig, KEY_ALICE);
        // The -S secret and the other user are not affected.
        echo(&mut rig.client(SECRET_HEX, Transport::Intermediate), 100, 2);
        echo(
            &mut rig.client(&format!("dd{KEY_BOB}"), Transport::Intermediate),
            100,
            3,
        );
        refused(&rig, KEY_CAROL);
        rig.wait_stat("user_refused_expired:carol", 1);
        rig.wait_stat("user_refused_connections:alice", 1);
        rig.wait_stat("user_connections:alice", 1);
        rig.wait_stat("user_connections_total:bob", 1);
        drop(alice);
        rig.wait_stat("user_connections:alice", 0);
        echo(&mut rig.client(KEY_ALICE, Transport::Abridged), 100, 4);
        let (_, metrics) = http_get(rig.proxy.stats_port.unwrap(), "/metrics");
        assert!(
            metrics.contains("mtproxy_user_refused{user=\"alice\",reason=\"connections\"} 1\n"),
            "{metrics}"
        );
    }

    #[test]
    fn a_used_up_quota_closes_the_connection_and_stays_used_after_a_restart() {
        let scratch = Scratch::new();
        let users = users_file(&scratch, &three_users(20_000));
        let state = scratch.path("users.state");
        let state = state.to_str().unwrap();
        let args = ["--users", &users, "--users-state", state];
        let rig = Rig::start(&args);
        let mut bob = rig.client(&format!("dd{KEY_BOB}"), Transport::Intermediate);
        let deadline = Instant::now() + WAIT;
        let mut seed = 0;
        // 1,000 bytes each way per round: the quota is gone after about
        // ten; the registry hears of it within a sweep (one second).
        loop {
            seed += 1;
            if bob.send_packet(&packet(1000, seed), false).is_err() {
                break;
            }
            if !matches!(bob.recv_packet(WAIT), Ok(Received::Packet(_))) {
                break;
            }
            assert!(Instant::now() < deadline, "bob was never cut off");
        }
        assert!(seed > 5, "cut off after {seed} rounds: too early");
        rig.wait_stat("user_quota_left:bob", 0);
        refused(&rig, &format!("dd{KEY_BOB}"));
        rig.wait_stat("user_refused_quota:bob", 1);
        stop(rig);
        assert!(Path::new(state).exists(), "the state is saved at stop");

        let rig = Rig::start(&args);
        refused(&rig, &format!("dd{KEY_BOB}"));
        rig.wait_stat("user_quota_left:bob", 0);
        echo(&mut rig.client(KEY_ALICE, Transport::Intermediate), 100, 1);
    }

    #[test]
    fn sighup_applies_a_good_users_file_and_keeps_the_old_one_on_an_error() {
        let scratch = Scratch::new();
        let users = users_file(&scratch, &three_users(1 << 30));
        let rig = Rig::start(&["--users", &users]);
        std::fs::write(&users, "[users.alice]\nsecrets = [\"not hex\"]\n").unwrap();
        signal(rig.proxy.pid(), Signal::SIGHUP);
        wait_stderr(&rig, "users reload failed");
        assert!(
            rig.proxy.stderr_text().contains("line 2"),
            "{}",
            rig.proxy.stderr_text()
        );
        echo(&mut rig.client(KEY_ALICE, Transport::Intermediate), 100, 1);

        let dave = "da5e0000da5e0000da5e0000da5e0000";
        std::fs::write(&users, format!("[users.dave]\nsecrets = [\"{dave}\"]\n")).unwrap();
        signal(rig.proxy.pid(), Signal::SIGHUP);
        wait_stderr(&rig, "1 users");
        refused(&rig, KEY_ALICE);
        echo(&mut rig.client(dave, Transport::Intermediate), 100, 2);
        echo(&mut rig.client(SECRET_HEX, Transport::Intermediate), 100, 3);
    }

    #[test]
    fn a_removed_users_open_connection_is_closed_after_the_grace() {
        let scratch = Scratch::new();
        let users = users_file(&scratch, &three_users(1 << 30));
        let rig = Rig::start(&["--users", &users, "--users-grace", "0"]);
        let mut alice = rig.client(KEY_ALICE, Transport::Intermediate);
        echo(&mut alice, 100, 1);
        let mut bob = rig.client(&format!("dd{KEY_BOB}"), Transport::Intermediate);
        std::fs::write(&users, format!("[users.bob]\nsecrets = [\"{KEY_BOB}\"]\n")).unwrap();
        signal(rig.proxy.pid(), Signal::SIGHUP);
        wait_stderr(&rig, "1 users");
        // The next sweep (within a second) closes alice; bob goes on.
        let (bytes, eof) = drain(&mut alice.into_stream());
        assert!(bytes.is_empty() && eof, "{} bytes, eof {eof}", bytes.len());
        echo(&mut bob, 100, 2);
    }

    /// The sum of bob's byte counts in a state file's text.
    fn saved_bytes_of_bob(text: &str) -> i64 {
        let line = text.lines().find(|l| l.starts_with("bob "));
        let numbers = line.map(|l| l.split(' ').skip(2).filter_map(|n| n.parse::<i64>().ok()));
        numbers.map_or(0, Iterator::sum)
    }

    #[test]
    fn the_state_survives_a_sigkill_up_to_the_interval_and_a_damaged_one_is_set_aside() {
        let scratch = Scratch::new();
        let users = users_file(&scratch, &three_users(1 << 30));
        let state = scratch.path("users.state");
        let state_arg = state.to_str().unwrap();
        let args = [
            "--users",
            &users,
            "--users-state",
            state_arg,
            "--users-state-interval",
            "1",
        ];
        let rig = Rig::start(&args);
        use_bob(&rig, 10, 1000);
        let used = wait_until(
            "bob's bytes",
            || stat(&rig, "user_quota_used:bob"),
            |v| v.unwrap_or(0) >= 20_000,
        );
        // Saved within the interval.
        wait_until(
            "bob in the state file",
            || saved_bytes_of_bob(&std::fs::read_to_string(&state).unwrap_or_default()),
            |&n| n >= 20_000,
        );
        let Rig { proxy, .. } = rig;
        let _ = proxy.child.kill_and_wait();

        let rig = Rig::start(&args);
        let after = stat(&rig, "user_quota_used:bob").unwrap();
        assert!(
            (20_000..=used.unwrap()).contains(&after),
            "{after} of {used:?}"
        );
        stop(rig);

        std::fs::write(&state, "mtproxy-users-state 1\nbob 0 5 5\nend 1 00000000\n").unwrap();
        let rig = Rig::start(&args);
        wait_stderr(&rig, "set aside");
        assert!(scratch.path("users.corrupt").exists());
        rig.wait_stat("user_quota_used:bob", 0);
        use_bob(&rig, 1, 100);
    }

    /// Starts the proxy with a users file of `text`; it must exit with an
    /// error: its stderr.
    fn refused_start(text: &str) -> String {
        let scratch = Scratch::new();
        let users = users_file(&scratch, text);
        std::fs::write(scratch.path("proxy-secret"), proxy_secret()).unwrap();
        let conf = scratch.path("proxy-multi.conf");
        std::fs::write(&conf, "proxy_for 2 127.0.0.1:9;\n").unwrap();
        let status = proxy_command(&scratch, &conf, &["-u", &run_user(), "--users", &users])
            .status()
            .unwrap();
        assert!(!status.success());
        std::fs::read_to_string(scratch.path("proxy.stderr")).unwrap()
    }

    #[test]
    fn a_users_file_with_an_error_stops_the_start_with_its_line() {
        let stderr = refused_start(&format!(
            "[users.a]\nsecrets = [\"{KEY_ALICE}\"]\nquota = \"lots\"\n"
        ));
        assert!(stderr.contains("line 3"), "{stderr}");
    }

    #[test]
    fn a_user_secret_also_given_with_dash_s_is_refused_at_start() {
        let stderr = refused_start(&format!("[users.a]\nsecrets = [\"{SECRET_HEX}\"]\n"));
        assert!(stderr.contains("also given with -S"), "{stderr}");
    }

    #[test]
    fn a_flood_of_wrong_secrets_with_many_users_leaves_returning_clients_in() {
        let scratch = Scratch::new();
        let mut text = three_users(1 << 30);
        for i in 0..2_000 {
            text.push_str(&format!("[users.u{i}]\nsecrets = [\"{:032x}\"]\n", i + 1));
        }
        let users = users_file(&scratch, &text);
        let rig = Rig::start(&["--users", &users]);
        let mut alice = rig.client(KEY_ALICE, Transport::Intermediate);
        echo(&mut alice, 100, 0);
        let addr = rig.proxy.addr();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flooders: Vec<_> = (0..2u8)
            .map(|t| {
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let mut s = std::net::TcpStream::connect(addr).unwrap();
                        std::io::Write::write_all(&mut s, &[t.wrapping_add(0x5a); 64]).unwrap();
                        let _ = drain(&mut s);
                    }
                })
            })
            .collect();
        // Searches get a quarter of the worker's time: the flood soon has
        // only the address's last secret tried, and alice (that secret)
        // goes on meanwhile, as does a new connection of hers.
        wait_until(
            "skipped searches",
            || stat(&rig, "secret_searches_skipped"),
            |v| v.unwrap_or(0) > 0,
        );
        for i in 1..20 {
            echo(&mut alice, 100, i);
        }
        drop(alice);
        rig.wait_stat("user_connections:alice", 0);
        echo(&mut rig.client(KEY_ALICE, Transport::Intermediate), 100, 99);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for f in flooders {
            f.join().unwrap();
        }
    }
}
