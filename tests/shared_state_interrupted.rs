//! The `--shared-state` thread against a real redis-server when a signal
//! cuts its socket waits short. glibc interrupts every other thread of the
//! process when one changes the process's ids, as the engine does for `-u`
//! right after the proxy (and this thread) started, and a socket wait with
//! a timeout is then never restarted: it fails with EINTR. That says
//! nothing about Redis, so it must not start an outage (`shared_state_up
//! 0` and the outage line). A test binary of its own: the set-id broadcast
//! reaches every thread of the process. (A test of the root package, like
//! tests/shared_state.rs, for the contract symbols the runtime calls.)

use mtproxy_ffi as _;
use mtproxy_rt::rust_only::RustStats;
use mtproxy_rt::shared_state::{Digest, SharedState};
use mtproxy_testkit::redis_server::RedisServer;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
/// How long Redis holds its replies each round (under [`IO_TIMEOUT`]).
///
/// [`IO_TIMEOUT`]: mtproxy_rt::shared_state::IO_TIMEOUT
const HOLD_MS: u64 = 200;

fn wait_until(what: &str, done: impl Fn() -> bool) {
    mtproxy_testkit::poll::wait_until(what, WAIT, done);
}

#[test]
fn a_redis_wait_cut_short_by_a_signal_is_no_outage() {
    let redis = RedisServer::start().expect("redis-server (scripts/setup.sh installs it)");
    let stats = Arc::new(RustStats::new(false, true));
    let shared = SharedState::start(
        &redis.url(),
        1000,
        Arc::clone(&stats),
        Box::new(|_| {}),
        None,
    )
    .unwrap();
    let counters = &stats.shared_state;
    wait_until("connected", || counters.up.load(Relaxed) == 1);
    // Redis holds every reply for a while, so the thread is mostly in a
    // read when the ids are set (to what they are).
    let deadline = Instant::now() + WAIT;
    while counters.errors.load(Relaxed) == 0 {
        assert!(Instant::now() < deadline, "no wait was interrupted");
        redis
            .query::<()>(&["CLIENT", "PAUSE", &HOLD_MS.to_string()])
            .unwrap();
        let held_until = Instant::now() + Duration::from_millis(HOLD_MS);
        while Instant::now() < held_until && counters.errors.load(Relaxed) == 0 {
            nix::unistd::setgid(nix::unistd::getgid()).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert_eq!(
        counters.up.load(Relaxed),
        1,
        "an interrupted wait was taken for an outage"
    );
    // And the thread goes on: a digest published now reaches Redis.
    shared.publish(Digest::Obfs2Header([7; 16]));
    wait_until("the digest pushed", || {
        counters.published.load(Relaxed) == 1
    });
    assert_eq!(counters.up.load(Relaxed), 1);
    let len: i64 = redis.query(&["XLEN", "mtproxy:replay"]).unwrap();
    assert_eq!(len, 1);
    shared.stop();
}
