//! `--shared-state` against a real redis-server (the test kit starts one on
//! a free loopback port): digests cross between instances and never come
//! back to their publisher, a late instance learns what the stream holds,
//! the stream stays within its bound and expires, and an outage loses no
//! digest. (A test of the root package: the contract symbols the runtime
//! calls, C or Rust as the features say, are linked here as in the binary.)
use mtproxy_core::users::Refusal;
use mtproxy_ffi as _;
use mtproxy_rt::rust_only::RustStats;
use mtproxy_rt::shared_state::{Digest, SharedState, STREAM_KEY, STREAM_TTL_MS};
use mtproxy_rt::users::Registry;
use mtproxy_testkit::redis_server::RedisServer;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

struct Instance {
    shared: Arc<SharedState>,
    stats: Arc<RustStats>,
    received: Receiver<Digest>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

fn instance(url: &str, entries: usize) -> Instance {
    instance_with(url, entries, None)
}

fn instance_with(url: &str, entries: usize, users: Option<Arc<Registry>>) -> Instance {
    let stats = Arc::new(RustStats::new(false, true));
    let (tx, received) = channel();
    let apply = Box::new(move |d| {
        let _ = tx.send(d);
    });
    let shared = SharedState::start(url, entries, Arc::clone(&stats), apply, users).unwrap();
    Instance {
        shared,
        stats,
        received,
    }
}

fn get(a: &AtomicI64) -> i64 {
    a.load(Ordering::Relaxed)
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    mtproxy_testkit::poll::wait_until(what, WAIT, done);
}

fn obfs2(i: u32) -> Digest {
    let mut d = [0xaa; 16];
    d[..4].copy_from_slice(&i.to_le_bytes());
    Digest::Obfs2Header(d)
}

#[test]
fn digests_cross_between_instances_and_never_come_back() {
    let redis = RedisServer::start().unwrap();
    let a = instance(&redis.url(), 10_000);
    let b = instance(&redis.url(), 10_000);
    let tls = Digest::TlsRandom([1; 16]);
    a.shared.publish(tls);
    assert_eq!(b.received.recv_timeout(WAIT), Ok(tls));
    b.shared.publish(obfs2(2));
    b.shared.publish(obfs2(3));
    // `a` reads its own entry before b's two: had it taken its own back,
    // it would come first.
    assert_eq!(a.received.recv_timeout(WAIT), Ok(obfs2(2)));
    assert_eq!(a.received.recv_timeout(WAIT), Ok(obfs2(3)));
    assert_eq!(get(&a.stats.shared_state.received), 2);
    assert_eq!(get(&a.stats.shared_state.published), 1);
    // An instance that starts later learns everything the stream holds.
    let c = instance(&redis.url(), 10_000);
    let late: Vec<Digest> = (0..3)
        .map(|_| c.received.recv_timeout(WAIT).unwrap())
        .collect();
    assert_eq!(late, [tls, obfs2(2), obfs2(3)]);
    assert_eq!(get(&c.stats.shared_state.up), 1);
}

#[test]
fn the_stream_stays_within_its_bound_and_expires() {
    let redis = RedisServer::start().unwrap();
    let a = instance(&redis.url(), 1000);
    for i in 0..5000 {
        a.shared.publish(obfs2(i));
    }
    wait_until("5000 digests pushed", || {
        get(&a.stats.shared_state.published) == 5000
    });
    let len: i64 = redis.query(&["XLEN", STREAM_KEY]).unwrap();
    // `MAXLEN ~` trims whole stream nodes (100 entries by default).
    assert!((1000..=1100).contains(&len), "XLEN {len}");
    let bytes: i64 = redis
        .query(&["MEMORY", "USAGE", STREAM_KEY, "SAMPLES", "0"])
        .unwrap();
    assert!(bytes <= len * 64, "{bytes} bytes for {len} entries");
    let ttl: i64 = redis.query(&["PTTL", STREAM_KEY]).unwrap();
    assert!(ttl > 0 && ttl <= STREAM_TTL_MS as i64, "PTTL {ttl}");
}

#[test]
fn an_outage_loses_no_digest_and_the_backlog_is_pushed_when_redis_is_back() {
    let redis = RedisServer::start().unwrap();
    let port = redis.port();
    let a = instance(&redis.url(), 10_000);
    let counters = &a.stats.shared_state;
    wait_until("connected", || get(&counters.up) == 1);
    redis.stop();
    for i in 0..10 {
        a.shared.publish(obfs2(i));
    }
    wait_until("the outage noticed", || {
        get(&counters.up) == 0 && get(&counters.errors) >= 1
    });
    assert_eq!(get(&counters.pending), 10);
    assert_eq!(get(&counters.published), 0);
    let redis = RedisServer::start_on(port).unwrap();
    wait_until("the backlog pushed", || {
        get(&counters.up) == 1 && get(&counters.published) == 10
    });
    assert_eq!(get(&counters.pending), 0);
    assert_eq!(get(&counters.dropped), 0);
    let len: i64 = redis.query(&["XLEN", STREAM_KEY]).unwrap();
    assert_eq!(len, 10);
    drop(a);
}

#[test]
fn tls_to_redis_and_bad_urls_are_refused_at_start() {
    let stats = Arc::new(RustStats::new(false, true));
    for (url, needle) in [
        ("rediss://127.0.0.1:1/", "TLS to Redis is not built in"),
        ("http://127.0.0.1:1/", "--shared-state http://127.0.0.1:1/"),
    ] {
        let refused = SharedState::start(url, 1000, Arc::clone(&stats), Box::new(|_| {}), None);
        match refused {
            Err(e) => assert!(e.contains(needle), "{url}: {e}"),
            Ok(shared) => {
                shared.stop();
                panic!("{url} accepted");
            }
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The same users file, opened by two instances.
fn two_registries(dir: &std::path::Path) -> (Arc<Registry>, Arc<Registry>) {
    let file = dir.join("users.toml");
    std::fs::write(
        &file,
        "[users.alice]\nsecrets = [\"0123456789abcdef0123456789abcdef\"]\nmax_connections = 1\n\
         [users.carol]\nsecrets = [\"1123456789abcdef0123456789abcdef\"]\nmax_ips = 1\n\
         [users.bob]\nsecrets = [\"2123456789abcdef0123456789abcdef\"]\nquota = 1000\n",
    )
    .unwrap();
    let open = || Arc::new(Registry::open(&file, None, &[]).unwrap().0);
    (open(), open())
}

#[test]
fn a_users_limits_hold_across_instances_and_quotas_survive_a_redis_restart() {
    let dir = std::env::temp_dir().join(format!("mtproxy-fleet-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ra, rb) = two_registries(&dir);
    let redis = RedisServer::start().unwrap();
    let port = redis.port();
    let _a = instance_with(&redis.url(), 10_000, Some(Arc::clone(&ra)));
    let _b = instance_with(&redis.url(), 10_000, Some(Arc::clone(&rb)));
    let now = unix_now();
    let ip = |last: u8| IpAddr::from([10, 0, 0, last]);
    let view = |r: &Registry, name: &str| r.fleet_view(name).unwrap_or_default();
    // One connection allowed in all: taken on `a`, refused on `b`.
    assert_eq!(ra.admit("alice", ip(1), now), Ok(()));
    wait_until("b sees alice's connection", || {
        view(&rb, "alice").connections == 1
    });
    assert_eq!(rb.admit("alice", ip(2), now), Err(Refusal::Connections));
    ra.close("alice", ip(1), now);
    wait_until("b sees it closed", || view(&rb, "alice").connections == 0);
    assert_eq!(rb.admit("alice", ip(2), now), Ok(()));
    // One address in all: a second address on `b` is refused, the first
    // one is welcome there too.
    assert_eq!(ra.admit("carol", ip(1), now), Ok(()));
    wait_until("b sees carol's address", || {
        view(&rb, "carol").ips == [ip(1)]
    });
    assert_eq!(rb.admit("carol", ip(2), now), Err(Refusal::Ips));
    assert_eq!(rb.admit("carol", ip(1), now), Ok(()));
    // The quota adds up: 600 on `a` and 300 on `b`, then 100 more on `a`
    // reach 1000.
    assert_eq!(ra.admit("bob", ip(1), now), Ok(()));
    assert_eq!(rb.admit("bob", ip(2), now), Ok(()));
    assert!(ra.add_bytes("bob", 600, 0, now));
    assert!(rb.add_bytes("bob", 300, 0, now));
    wait_until("both see the other's bytes", || {
        view(&ra, "bob").bytes == 300 && view(&rb, "bob").bytes == 600
    });
    assert!(!ra.add_bytes("bob", 100, 0, now), "1000 of 1000 used");
    // Redis loses everything: each instance writes its own figure again,
    // and the sum is the same (nothing lost, nothing counted twice).
    redis.stop();
    let redis = RedisServer::start_on(port).unwrap();
    let period = view(&ra, "bob").period_start;
    let key = format!("mtproxy:q:bob:{period}");
    wait_until("the quota figures written again", || {
        let fields: std::collections::HashMap<String, u64> =
            redis.query(&["HGETALL", &key]).unwrap_or_default();
        fields.values().sum::<u64>() == 1000 && fields.len() == 2
    });
    wait_until("b counts a's 700 bytes again", || {
        view(&rb, "bob").bytes == 700 && !rb.add_bytes("bob", 0, 0, now)
    });
    let _ = std::fs::remove_dir_all(&dir);
}
