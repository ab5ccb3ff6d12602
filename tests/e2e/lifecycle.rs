//! Closing from either side, middle-end restarts, SIGHUP, SIGTERM, the user
//! switch.
use crate::harness::*;
use mtproxy_testkit::client::{Received, Transport};
use mtproxy_testkit::fake_me::{Behaviour, Event};
use mtproxy_testkit::process::ChildGuard;
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

fn ext_id_of_first_request(rig: &Rig) -> i64 {
    rig.me
        .handle()
        .wait_for(WAIT, |events| {
            events.iter().find_map(|e| match e {
                Event::ProxyReq(r) => Some(r.ext_conn_id),
                _ => None,
            })
        })
        .expect("a request reached the middle-end")
}

#[test]
fn client_close_is_reported_and_middle_end_close_closes_the_client() {
    let rig = Rig::start(&[]);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    client.send_packet(&packet(64, 1), false).unwrap();
    assert_eq!(
        client.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 1))
    );
    let ext = ext_id_of_first_request(&rig);
    drop(client);
    let closed = rig.me.handle().wait_for(WAIT, |events| {
        events
            .iter()
            .any(|e| matches!(e, Event::CloseConn { ext_conn_id, .. } if *ext_conn_id == ext))
            .then_some(())
    });
    assert!(closed.is_some(), "no RPC_CLOSE_EXT for {ext}");

    rig.me.handle().set_behaviour(Behaviour::CloseExt);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    client.send_packet(&packet(64, 2), false).unwrap();
    assert!(
        client.recv_packet(WAIT).is_err(),
        "CLOSE_EXT must close the client"
    );
}

/// A packet followed at once by the client's FIN is forwarded and then the
/// close is seen: a proxy that ends its reads at a short read must not
/// leave an EOF that came with the data unread (it would not be reported
/// again). Many clients, all connected first and then sending at once, so
/// the proxy is busy while most data and FINs arrive together.
#[test]
fn a_packet_sent_with_the_fin_is_forwarded_and_the_close_reported() {
    const CLIENTS: u32 = 64;
    let rig = Rig::start(&[]);
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|_| rig.client(SECRET_HEX, Transport::Intermediate))
        .collect();
    for (i, client) in (0..).zip(clients.iter_mut()) {
        client.send_packet(&packet(64, 100 + i), false).unwrap();
        client.stream().shutdown(std::net::Shutdown::Write).unwrap();
    }
    let all_closed = rig.me.handle().wait_for(WAIT, |events| {
        let ext_of = |i: u32| {
            events.iter().find_map(|e| match e {
                Event::ProxyReq(r) if r.packet == packet(64, 100 + i) => Some(r.ext_conn_id),
                _ => None,
            })
        };
        let closed = |ext: i64| {
            events
                .iter()
                .any(|e| matches!(e, Event::CloseConn { ext_conn_id, .. } if *ext_conn_id == ext))
        };
        (0..CLIENTS)
            .all(|i| ext_of(i).is_some_and(closed))
            .then_some(())
    });
    assert!(all_closed.is_some(), "{:?}", rig.me.handle().events());
    drop(clients);
}

#[test]
fn middle_end_restart_closes_bound_clients_and_service_resumes() {
    let rig = Rig::start(&[]);
    let mut client = rig.client(SECRET_HEX, Transport::Abridged);
    client.send_packet(&packet(64, 1), false).unwrap();
    assert_eq!(
        client.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 1))
    );
    // Replace the middle-end by a new one on the same port.
    let Rig {
        scratch,
        me,
        proxy,
        pool,
    } = rig;
    let port = me.port();
    drop(me);
    let me = start_me(&scratch, port);
    let rig = Rig {
        scratch,
        me,
        proxy,
        pool,
    };
    assert!(
        client.recv_packet(WAIT).is_err(),
        "a client bound to the lost ME is closed"
    );
    rig.wait_me_ready();
    let mut again = rig.client(SECRET_HEX, Transport::Abridged);
    again.send_packet(&packet(64, 2), false).unwrap();
    assert_eq!(
        again.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 2))
    );
}

#[test]
fn sighup_reloads_the_config_without_dropping_clients() {
    let rig = Rig::start(&[]);
    let mut old = rig.client(SECRET_HEX, Transport::Intermediate);
    old.send_packet(&packet(64, 1), false).unwrap();
    assert_eq!(
        old.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 1))
    );
    let second = start_me(&rig.scratch, 0);
    std::fs::write(
        rig.scratch.path("proxy-multi.conf"),
        second.proxy_multi_conf(&[2]),
    )
    .unwrap();
    signal(rig.proxy.pid(), Signal::SIGHUP);
    let ready = second.handle().wait_ready_connections(rig.pool, WAIT);
    assert!(
        ready,
        "no connection to the new middle-end:\n{}",
        rig.proxy.stderr_text()
    );
    let mut new = rig.client(SECRET_HEX, Transport::Intermediate);
    new.send_packet(&packet(64, 2), false).unwrap();
    assert_eq!(
        new.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 2))
    );
    assert!(second
        .handle()
        .events()
        .iter()
        .any(|e| matches!(e, Event::ProxyReq(_))));
    // The old client keeps its connection to the old middle-end.
    old.send_packet(&packet(64, 3), false).unwrap();
    assert_eq!(
        old.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 3))
    );
}

#[test]
fn sigterm_lets_accepted_data_finish_then_exits_cleanly() {
    let rig = Rig::start(&["--shutdown-grace-ms", "3000"]);
    rig.me.handle().set_behaviour(Behaviour::Echo);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    client.send_packet(&packet(64, 0), false).unwrap();
    assert_eq!(
        client.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 0))
    );
    for i in 1..=10 {
        client.send_packet(&packet(4096, i), false).unwrap();
    }
    // Every packet the middle-end acknowledged (received) gets its answer.
    let got = rig.me.handle().wait_for(WAIT, |events| {
        (events
            .iter()
            .filter(|e| matches!(e, Event::ProxyReq(_)))
            .count()
            >= 11)
            .then_some(())
    });
    assert!(got.is_some());
    let Rig {
        mut proxy,
        me,
        scratch,
        ..
    } = rig;
    signal(proxy.pid(), Signal::SIGTERM);
    for i in 1..=10 {
        assert_eq!(
            client.recv_packet(WAIT).unwrap(),
            Received::Packet(packet(4096, i))
        );
    }
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = proxy.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "proxy did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        proxy.stderr_text()
    );
    assert!(
        client.recv_packet(WAIT).is_err(),
        "connections are closed at exit"
    );
    drop((me, scratch));
}

#[test]
fn client_limit_defers_new_clients_until_one_leaves() {
    let rig = Rig::start(&["-C", "2"]);
    let mut first = rig.client(SECRET_HEX, Transport::Intermediate);
    let mut second = rig.client(SECRET_HEX, Transport::Intermediate);
    for (i, c) in [&mut first, &mut second].into_iter().enumerate() {
        c.send_packet(&packet(64, i as u32), false).unwrap();
        assert_eq!(
            c.recv_packet(WAIT).unwrap(),
            Received::Packet(packet(64, i as u32))
        );
    }
    // The third connection waits in the kernel's backlog: not served...
    let mut third = rig.client(SECRET_HEX, Transport::Intermediate);
    third.send_packet(&packet(64, 3), false).unwrap();
    assert!(matches!(
        third.recv_packet(Duration::from_millis(500)),
        Err(mtproxy_testkit::client::ClientError::Timeout)
    ));
    // ...until a client leaves.
    drop(first);
    assert_eq!(
        third.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 3))
    );
}

#[test]
fn root_without_u_switches_to_mtproxy_or_refuses_and_u_root_warns_and_serves() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not running as root: the rule for root without -u does not apply; skipped");
        return;
    }
    let scratch = Scratch::new();
    let me = start_me(&scratch, 0);
    let conf = scratch.path("proxy-multi.conf");
    std::fs::write(&conf, me.proxy_multi_conf(&[2])).unwrap();
    // Like upstream (docs/PROTOCOL.md §8.3): as root without -u, switch to user
    // mtproxy, or refuse to start if there is none.
    let mtproxy = nix::unistd::User::from_name("mtproxy").ok().flatten();
    let mut child = ChildGuard::new(
        proxy_command(&scratch, &conf, &[])
            .spawn()
            .expect("spawn mtproxy-rust"),
    );
    let stderr = || std::fs::read_to_string(scratch.path("proxy.stderr")).unwrap_or_default();
    let deadline = Instant::now() + WAIT;
    match &mtproxy {
        None => {
            eprintln!("this machine has no user mtproxy: expecting a refusal");
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(Instant::now() < deadline, "still running:\n{}", stderr());
                std::thread::sleep(Duration::from_millis(10));
            };
            assert!(!status.success(), "{status}");
            assert!(
                stderr().contains("can't find the user mtproxy"),
                "{}",
                stderr()
            );
            assert!(
                !scratch.path("ports").exists(),
                "refused only after binding"
            );
        }
        Some(user) => {
            eprintln!("this machine has a user mtproxy: expecting the switch to it");
            let pid = child.id().expect("running");
            let uid_line = format!("Uid:\t{}\t", user.uid);
            loop {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                if scratch.path("ports").exists() && status.contains(&uid_line) {
                    break;
                }
                assert!(Instant::now() < deadline, "no switch:\n{}", stderr());
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    drop(child);
    // -u root is allowed, with a warning, and serves.
    let proxy = start_proxy(&scratch, &conf, &["-u", "root"]);
    let rig = Rig {
        scratch,
        me,
        proxy,
        pool: DEFAULT_POOL,
    };
    rig.wait_me_ready();
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    let p = packet(64, 5);
    client.send_packet(&p, false).unwrap();
    assert_eq!(client.recv_packet(WAIT).unwrap(), Received::Packet(p));
    let log = rig.proxy.stderr_text();
    assert!(
        log.contains("warning: -u root: the proxy keeps running as root"),
        "{log}"
    );
}
