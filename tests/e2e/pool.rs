//! The middle-end pool (docs/RUNTIME.md, "Routing and the middle-end pool"):
//! `min_connections` connections per target per worker, clients spread over
//! them round-robin, a lost connection closes only its own clients.
use crate::harness::*;
use mtproxy_testkit::client::{Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{ConnId, Event};
use std::collections::{BTreeMap, BTreeSet};

/// How many connections the middle-end accepted so far.
fn accepted(rig: &Rig) -> usize {
    let events = rig.me.handle().events();
    events
        .iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count()
}

fn stat(rig: &Rig, key: &str) -> i64 {
    let stats = rig.stats();
    let value = stats
        .get(key)
        .unwrap_or_else(|| panic!("/stats lacks {key}"));
    value.trim().parse().unwrap()
}

/// The pool is up as the proxy sees it too: every connection ready (the
/// stat counts the AES contexts of ready ME connections and bound clients).
fn wait_pool_ready_in_proxy(rig: &Rig, bound_clients: usize) {
    rig.wait_stat(
        "total_encrypted_connections",
        (rig.pool + bound_clients) as i64,
    );
}

#[test]
fn default_pool_is_four_connections_per_worker() {
    for workers in [1usize, 2] {
        let m = workers.to_string();
        let rig = Rig::start_conf("", &["-M", &m], DEFAULT_POOL * workers);
        wait_pool_ready_in_proxy(&rig, 0);
        assert_eq!(accepted(&rig), DEFAULT_POOL * workers);
        // One target per worker, ready and allocated; its connections.
        assert_eq!(stat(&rig, "total_ready_targets"), workers as i64);
        assert_eq!(stat(&rig, "total_allocated_targets"), workers as i64);
        assert_eq!(stat(&rig, "total_declared_targets"), workers as i64);
        assert_eq!(stat(&rig, "total_inactive_targets"), 0);
        assert_eq!(
            stat(&rig, "total_connections"),
            (DEFAULT_POOL * workers) as i64
        );
    }
}

#[test]
fn min_connections_in_the_config_sets_the_pool() {
    let rig = Rig::start_conf("min_connections 2;\n", &["-M", "2"], 4);
    wait_pool_ready_in_proxy(&rig, 0);
    assert_eq!(accepted(&rig), 4);
    assert_eq!(stat(&rig, "total_connections"), 4);
    assert_eq!(stat(&rig, "total_ready_targets"), 2);
}

/// Each client's first packet is `packet(64, i)`; the ME connection that
/// carried it, per client index.
fn conn_per_client(rig: &Rig, clients: usize) -> Vec<ConnId> {
    let wanted: Vec<Vec<u8>> = (0..clients).map(|i| packet(64, i as u32)).collect();
    rig.me
        .handle()
        .wait_for(WAIT, |events| {
            let mut conns = vec![None; clients];
            for e in events {
                if let Event::ProxyReq(r) = e {
                    if let Some(i) = wanted.iter().position(|p| *p == r.packet) {
                        conns[i] = Some(r.conn);
                    }
                }
            }
            conns.into_iter().collect::<Option<Vec<_>>>()
        })
        .expect("every client's request reached the middle-end")
}

fn connect_clients(rig: &Rig, n: usize) -> Vec<TestClient> {
    (0..n)
        .map(|i| {
            let mut c = rig.client(SECRET_HEX, Transport::Intermediate);
            c.send_packet(&packet(64, i as u32), false).unwrap();
            assert_eq!(
                c.recv_packet(WAIT).unwrap(),
                Received::Packet(packet(64, i as u32))
            );
            c
        })
        .collect()
}

#[test]
fn clients_are_spread_round_robin_over_the_pool() {
    let rig = Rig::start(&[]);
    wait_pool_ready_in_proxy(&rig, 0);
    let _clients = connect_clients(&rig, 16);
    let mut per_conn: BTreeMap<ConnId, usize> = BTreeMap::new();
    for conn in conn_per_client(&rig, 16) {
        *per_conn.entry(conn).or_default() += 1;
    }
    assert_eq!(per_conn.len(), DEFAULT_POOL, "{per_conn:?}");
    assert!(per_conn.values().all(|&n| n == 4), "{per_conn:?}");
}

#[test]
fn losing_one_connection_closes_only_its_clients_and_it_is_reopened() {
    let rig = Rig::start(&[]);
    wait_pool_ready_in_proxy(&rig, 0);
    let mut clients = connect_clients(&rig, 8);
    let conns = conn_per_client(&rig, 8);
    let victim = conns[0];
    assert!(rig.me.handle().close_connection(victim));
    let (lost, kept): (Vec<usize>, Vec<usize>) = (0..8).partition(|&i| conns[i] == victim);
    assert!(!lost.is_empty() && !kept.is_empty(), "{conns:?}");
    for &i in &lost {
        assert!(
            clients[i].recv_packet(WAIT).is_err(),
            "client {i} on the lost connection is closed"
        );
    }
    for &i in &kept {
        let p = packet(64, 100 + i as u32);
        clients[i].send_packet(&p, false).unwrap();
        assert_eq!(
            clients[i].recv_packet(WAIT).unwrap(),
            Received::Packet(p),
            "client {i} on another connection goes on"
        );
    }
    // The pool is whole again: a fifth connection replaced the lost one.
    rig.wait_me_ready();
    wait_pool_ready_in_proxy(&rig, kept.len());
    let open: BTreeSet<ConnId> = rig.me.handle().ready_connections().into_iter().collect();
    assert_eq!(open.len(), DEFAULT_POOL);
    assert!(!open.contains(&victim));
    assert_eq!(accepted(&rig), DEFAULT_POOL + 1);
}

#[test]
fn sighup_resizes_the_pool_and_keeps_its_connections() {
    let rig = Rig::start_conf("min_connections 2;\n", &[], 2);
    wait_pool_ready_in_proxy(&rig, 0);
    let first: BTreeSet<ConnId> = rig.me.handle().ready_connections().into_iter().collect();
    let reload = |head: &str| {
        let conf = format!("{head}{}", rig.me.proxy_multi_conf(&[2]));
        std::fs::write(rig.scratch.path("proxy-multi.conf"), conf).unwrap();
        signal(rig.proxy.pid(), nix::sys::signal::Signal::SIGHUP);
    };
    // Growing: the two connections stay, two more are opened.
    reload("");
    assert!(rig.me.handle().wait_ready_connections(4, WAIT));
    rig.wait_stat("total_encrypted_connections", 4);
    assert_eq!(accepted(&rig), 4);
    let grown: BTreeSet<ConnId> = rig.me.handle().ready_connections().into_iter().collect();
    assert!(grown.is_superset(&first), "{first:?} -> {grown:?}");
    // Shrinking: the unused rest closes, one connection of the old pool stays.
    reload("min_connections 1;\n");
    let left = rig.me.handle().wait_for(WAIT, |events| {
        let closed = events
            .iter()
            .filter(|e| matches!(e, Event::Closed { .. }))
            .count();
        (closed == 3).then_some(())
    });
    assert!(left.is_some(), "three connections retired");
    rig.wait_stat("total_connections", 1);
    let kept = rig.me.handle().ready_connections();
    assert_eq!(kept.len(), 1);
    assert!(grown.contains(&kept[0]));
    assert_eq!(accepted(&rig), 4);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    client.send_packet(&packet(64, 7), false).unwrap();
    assert_eq!(
        client.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 7))
    );
}
