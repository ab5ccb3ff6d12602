//! net-events: the same reactor scenarios (socketpairs, timers with ties and
//! cancels, cross-thread wake, many fds) run on the C reactor
//! (`mtproxy_sys::cref`) and on the Rust one (`mtproxy_sys::c`, exported by
//! mtproxy-ffi with `rust-net-events`); each scenario returns a log of what
//! it observed, and the two logs must be equal. The `c_*` tests also check
//! the C log against the contract on its own.
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use mtproxy_sys::bindings::{
    MTP_EV_CLOSED, MTP_EV_READ, MTP_EV_TIMER, MTP_EV_WAKE, MTP_EV_WRITE, MTP_REACTOR_ERR_ARG,
    MTP_REACTOR_ERR_SYS,
};

const READ: u32 = MTP_EV_READ;
const WRITE: u32 = MTP_EV_WRITE;
const CLOSED: u32 = MTP_EV_CLOSED;
const TIMER: u32 = MTP_EV_TIMER;
const WAKE: u32 = MTP_EV_WAKE;
const ERR_ARG: i32 = MTP_REACTOR_ERR_ARG;
const ERR_SYS: i32 = MTP_REACTOR_ERR_SYS;

/// Longest any scenario waits for an event that must come.
const DEADLINE: Duration = Duration::from_secs(5);

/// The reactor API both sides share, so one scenario drives either.
trait Side {
    type R: Send;
    type W: Send + Clone + 'static;
    fn new() -> Self::R;
    fn add(r: &mut Self::R, fd: i32, token: u64) -> Result<(), i32>;
    fn remove(r: &mut Self::R, fd: i32) -> Result<(), i32>;
    fn timer(r: &mut Self::R, token: u64, delay_ms: u64) -> u64;
    fn cancel(r: &mut Self::R, id: u64) -> bool;
    /// (token, events) pairs of one wait.
    fn wait(r: &mut Self::R, cap: usize, timeout_ms: i32) -> Result<Vec<(u64, u32)>, i32>;
    fn waker(r: &Self::R) -> Self::W;
    fn wake(w: &Self::W);
    fn now_ms() -> u64;
}

macro_rules! side {
    ($name:ident, $module:ident) => {
        struct $name;
        impl Side for $name {
            type R = $module::Reactor;
            type W = $module::Waker;
            fn new() -> Self::R {
                $module::Reactor::new().expect("reactor")
            }
            fn add(r: &mut Self::R, fd: i32, token: u64) -> Result<(), i32> {
                r.add(fd, token)
            }
            fn remove(r: &mut Self::R, fd: i32) -> Result<(), i32> {
                r.remove(fd)
            }
            fn timer(r: &mut Self::R, token: u64, delay_ms: u64) -> u64 {
                r.timer(token, delay_ms)
            }
            fn cancel(r: &mut Self::R, id: u64) -> bool {
                r.cancel(id)
            }
            fn wait(r: &mut Self::R, cap: usize, timeout_ms: i32) -> Result<Vec<(u64, u32)>, i32> {
                let mut out = vec![
                    $module::Event {
                        token: u64::MAX,
                        events: 0
                    };
                    cap
                ];
                let n = r.wait(&mut out, timeout_ms)?;
                assert!(n <= cap, "wait reported {n} events for cap {cap}");
                Ok(out[..n].iter().map(|e| (e.token, e.events)).collect())
            }
            fn waker(r: &Self::R) -> Self::W {
                r.waker()
            }
            fn wake(w: &Self::W) {
                w.wake()
            }
            fn now_ms() -> u64 {
                $module::now_ms()
            }
        }
    };
}

use mtproxy_sys::c::net_events as rust_reactor;
use mtproxy_sys::cref::net_events as c_reactor;
side!(C, c_reactor);
side!(Rust, rust_reactor);

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Reads until EAGAIN; the byte count (0 also for EOF).
fn drain(s: &mut UnixStream) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return total,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Waits (within DEADLINE) until an event for `token` with all `bits`
/// arrives; returns every event seen on the way, in order.
fn wait_for<S: Side>(r: &mut S::R, token: u64, bits: u32) -> Vec<(u64, u32)> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < DEADLINE {
        let events = S::wait(r, 8, 1000).expect("wait");
        let done = events.iter().any(|&(t, e)| t == token && e & bits == bits);
        seen.extend(events);
        if done {
            return seen;
        }
    }
    panic!("no event {bits:#x} for token {token} within {DEADLINE:?}; saw {seen:?}");
}

/// Registration, readiness edges, EOF and argument errors on one socketpair.
fn readiness<S: Side>() -> Vec<String> {
    let mut log = Vec::new();
    let mut r = S::new();
    let (mut a, mut b) = pair();
    let fd = a.as_raw_fd();
    log.push(format!("add {:?}", S::add(&mut r, fd, 7)));
    log.push(format!("add again {:?}", S::add(&mut r, fd, 8)));
    log.push(format!("add -1 {:?}", S::add(&mut r, -1, 9)));
    // A new registration reports the socket writable.
    log.push(format!("initial {:?}", wait_for::<S>(&mut r, 7, WRITE)));
    // Edge-triggered: nothing new happened, so nothing is reported.
    log.push(format!("quiet {:?}", S::wait(&mut r, 8, 30)));
    b.write_all(b"hello").unwrap();
    log.push(format!("readable {:?}", wait_for::<S>(&mut r, 7, READ)));
    log.push(format!("drained {}", drain(&mut a)));
    log.push(format!("quiet again {:?}", S::wait(&mut r, 8, 30)));
    drop(b);
    log.push(format!(
        "hangup {:?}",
        wait_for::<S>(&mut r, 7, CLOSED | READ)
    ));
    log.push(format!("eof read {}", drain(&mut a)));
    log.push(format!("remove {:?}", S::remove(&mut r, fd)));
    log.push(format!("remove again {:?}", S::remove(&mut r, fd)));
    log.push(format!("remove -1 {:?}", S::remove(&mut r, -1)));
    log.push(format!("after remove {:?}", S::wait(&mut r, 8, 0)));
    log
}

/// Timers: ties fire in arming order, cancels, ids, cap 1 leaves the rest
/// pending, delays are honoured.
fn timers<S: Side>() -> Vec<String> {
    let mut log = Vec::new();
    let mut r = S::new();
    let start = S::now_ms();
    let late_a = S::timer(&mut r, 10, 40);
    let early_a = S::timer(&mut r, 11, 15);
    let cancelled = S::timer(&mut r, 12, 40);
    let early_b = S::timer(&mut r, 13, 15);
    let now = S::timer(&mut r, 14, 0);
    let late_b = S::timer(&mut r, 15, 40);
    let ids = [late_a, early_a, cancelled, early_b, now, late_b];
    log.push(format!("ids nonzero {}", ids.iter().all(|&id| id != 0)));
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    log.push(format!("ids distinct {}", unique.len() == ids.len()));
    log.push(format!("cancel {}", S::cancel(&mut r, cancelled)));
    log.push(format!("cancel again {}", S::cancel(&mut r, cancelled)));
    log.push(format!("cancel 0 {}", S::cancel(&mut r, 0)));
    log.push(format!("cancel unknown {}", S::cancel(&mut r, u64::MAX)));
    // Another cancel-and-rearm, so a reused slot cannot confuse old ids.
    let temp = S::timer(&mut r, 16, 1000);
    log.push(format!("cancel temp {}", S::cancel(&mut r, temp)));
    let rearmed = S::timer(&mut r, 17, 20);
    log.push(format!("old id after rearm {}", S::cancel(&mut r, temp)));
    let mut fired = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while fired.len() < 6 && Instant::now() < deadline {
        // Cap 1: one timer per wait, the others stay pending in order.
        for (token, events) in S::wait(&mut r, 1, 1000).expect("wait") {
            fired.push((token, events, S::now_ms() - start));
        }
    }
    log.push(format!(
        "order {:?}",
        fired.iter().map(|&(t, e, _)| (t, e)).collect::<Vec<_>>()
    ));
    let on_time = fired.iter().all(|&(token, _, at)| {
        let delay = match token {
            10 | 15 => 40,
            11 | 13 => 15,
            17 => 20,
            _ => 0,
        };
        at >= delay
    });
    log.push(format!("not early {on_time}"));
    log.push(format!("cancel fired {}", S::cancel(&mut r, early_a)));
    log.push(format!(
        "cancel fired rearmed {}",
        S::cancel(&mut r, rearmed)
    ));
    log.push(format!("nothing left {:?}", S::wait(&mut r, 8, 0)));
    log
}

/// In one round, fd events come before the timers that expired.
fn fds_before_timers<S: Side>() -> Vec<String> {
    let mut log = Vec::new();
    let mut r = S::new();
    let (a, mut b) = pair();
    S::add(&mut r, a.as_raw_fd(), 1).unwrap();
    wait_for::<S>(&mut r, 1, WRITE);
    S::timer(&mut r, 2, 0);
    b.write_all(b"x").unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while seen.iter().all(|&(t, _)| t != 2) && Instant::now() < deadline {
        seen.extend(S::wait(&mut r, 8, 1000).unwrap());
    }
    log.push(format!("round {seen:?}"));
    log
}

/// Wakes coalesce before a wait; a wake from another thread ends a wait
/// that has no other limit.
fn wake<S: Side>() -> Vec<String> {
    let mut log = Vec::new();
    let mut r = S::new();
    let w = S::waker(&r);
    S::wake(&w);
    S::wake(&w);
    S::wake(&w);
    log.push(format!("coalesced {:?}", S::wait(&mut r, 8, 1000)));
    log.push(format!("then quiet {:?}", S::wait(&mut r, 8, 20)));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let remote = w.clone();
    let thread = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        S::wake(&remote);
    });
    go_tx.send(()).unwrap();
    let start = Instant::now();
    log.push(format!("cross-thread {:?}", S::wait(&mut r, 8, -1)));
    log.push(format!("promptly {}", start.elapsed() < DEADLINE));
    thread.join().unwrap();
    // A waker may outlive the reactor handle it came from.
    drop(r);
    S::wake(&w);
    log
}

/// Many fds, small caps: every readable socket is reported exactly once.
fn many_fds<S: Side>() -> Vec<String> {
    const N: u64 = 300;
    let mut r = S::new();
    let pairs: Vec<_> = (0..N).map(|_| pair()).collect();
    for (i, (a, _)) in pairs.iter().enumerate() {
        S::add(&mut r, a.as_raw_fd(), 1000 + i as u64).unwrap();
    }
    let mut writable = Vec::new();
    while writable.len() < N as usize {
        let events = S::wait(&mut r, 16, 1000).unwrap();
        assert!(!events.is_empty(), "missing initial writable events");
        writable.extend(events.iter().map(|&(t, _)| t));
    }
    writable.sort_unstable();
    for (i, (_, b)) in pairs.iter().enumerate() {
        if i % 3 == 0 {
            (&*b).write_all(&[i as u8]).unwrap();
        }
    }
    let mut readable = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while readable.len() < N.div_ceil(3) as usize && Instant::now() < deadline {
        for (token, events) in S::wait(&mut r, 7, 1000).unwrap() {
            assert!(events & READ != 0, "token {token}: {events:#x}");
            readable.push(token);
        }
    }
    readable.sort_unstable();
    let extra = S::wait(&mut r, 16, 20).unwrap();
    vec![
        format!("writable {writable:?}"),
        format!("readable {readable:?}"),
        format!("extra {extra:?}"),
    ]
}

/// Many timers in three delay buckets, a pseudo-random third cancelled
/// (some twice): the rest fire ordered by (delay, arming order). Arming
/// takes far less than the 20 ms between buckets, so the order is exact.
fn timer_heap<S: Side>(seed: u64) -> Vec<String> {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut r = S::new();
    let mut armed = Vec::new();
    for token in 0..400u64 {
        let delay = (next() % 3) * 20;
        armed.push((token, delay, S::timer(&mut r, token, delay)));
    }
    let mut cancel_results = Vec::new();
    let mut live = Vec::new();
    for &(token, delay, id) in &armed {
        if next() % 3 == 0 {
            cancel_results.push(S::cancel(&mut r, id));
            if next() % 2 == 0 {
                cancel_results.push(S::cancel(&mut r, id));
            }
        } else {
            live.push((delay, token));
        }
    }
    live.sort_unstable();
    let expected: Vec<u64> = live.iter().map(|&(_, t)| t).collect();
    let mut fired = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while fired.len() < expected.len() && Instant::now() < deadline {
        for (token, events) in S::wait(&mut r, 13, 1000).unwrap() {
            assert_eq!(events, TIMER);
            fired.push(token);
        }
    }
    vec![
        format!("cancels {cancel_results:?}"),
        format!("in order {}", fired == expected),
        format!("fired {fired:?}"),
        format!("after {:?}", S::wait(&mut r, 8, 0)),
    ]
}

/// One step of a generated reactor script over a few socketpairs (index
/// `i % pairs`) and zero-delay timers: everything in it is decided by the
/// calls made, not by the clock, so both reactors must log the same.
#[derive(Debug, Clone)]
enum Op {
    Add(usize),
    Remove(usize),
    /// The peer writes this many bytes.
    Write(usize, usize),
    Drain(usize),
    /// The peer goes away (the socket sees EOF).
    Hangup(usize),
    Timer(u64),
    /// Cancels the n-th timer armed so far (or an id never handed out).
    Cancel(usize),
    Wake,
    /// Collects what is ready, at most this many events per call.
    Wait(usize),
}

fn script<S: Side>(pairs: usize, ops: &[Op]) -> Vec<String> {
    let mut r = S::new();
    let w = S::waker(&r);
    let mut socks: Vec<(UnixStream, Option<UnixStream>)> = (0..pairs)
        .map(|_| {
            let (a, b) = pair();
            (a, Some(b))
        })
        .collect();
    let mut timers = Vec::new();
    let mut log = Vec::new();
    for op in ops {
        let line = match *op {
            Op::Add(i) => {
                let fd = socks[i % pairs].0.as_raw_fd();
                format!("add {i} {:?}", S::add(&mut r, fd, i as u64 + 1))
            }
            Op::Remove(i) => {
                let fd = socks[i % pairs].0.as_raw_fd();
                format!("remove {i} {:?}", S::remove(&mut r, fd))
            }
            Op::Write(i, n) => match &mut socks[i % pairs].1 {
                Some(peer) => format!("write {i} {:?}", peer.write(&vec![7u8; n]).ok()),
                None => continue,
            },
            Op::Drain(i) => format!("drain {i} {}", drain(&mut socks[i % pairs].0)),
            Op::Hangup(i) => format!("hangup {i} {}", socks[i % pairs].1.take().is_some()),
            Op::Timer(token) => {
                timers.push(S::timer(&mut r, 1000 + token, 0));
                format!("timer {token}")
            }
            Op::Cancel(n) => {
                let id = timers.get(n).copied().unwrap_or(u64::MAX);
                format!("cancel {n} {}", S::cancel(&mut r, id))
            }
            Op::Wake => {
                S::wake(&w);
                "wake".to_string()
            }
            Op::Wait(cap) => format!("wait {cap} {:?}", S::wait(&mut r, cap, 0)),
        };
        log.push(line);
    }
    // Whatever is still pending, in one go.
    log.push(format!("rest {:?}", S::wait(&mut r, 1024, 0)));
    log
}

fn op(pairs: usize) -> impl Strategy<Value = Op> {
    let i = 0..pairs;
    prop_oneof![
        2 => i.clone().prop_map(Op::Add),
        1 => i.clone().prop_map(Op::Remove),
        // 0 bytes (no event), a few, a socket buffer's worth and more.
        2 => (i.clone(), parity_tests::boundary_len(&[1, 4096], 300_000)).prop_map(|(i, n)| Op::Write(i, n)),
        1 => i.clone().prop_map(Op::Drain),
        1 => i.prop_map(Op::Hangup),
        1 => (0..4u64).prop_map(Op::Timer),
        1 => (0..6usize).prop_map(Op::Cancel),
        1 => Just(Op::Wake),
        3 => parity_tests::boundary_len(&[1, 2], 16).prop_map(|cap| Op::Wait(cap.max(1))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: parity_tests::config().cases.min(128), ..parity_tests::config() })]

    #[test]
    fn random_scripts_match(
        (pairs, ops) in (1..5usize).prop_flat_map(|n| (Just(n), proptest::collection::vec(op(n), 0..40))),
    ) {
        prop_assert_eq!(script::<C>(pairs, &ops), script::<Rust>(pairs, &ops));
    }
}

/// A bad call: zero capacity.
fn bad_wait<S: Side>() -> Vec<String> {
    let mut r = S::new();
    vec![format!("cap 0 {:?}", S::wait(&mut r, 0, 0))]
}

fn contains(log: &[String], line: &str) -> bool {
    log.iter().any(|l| l == line)
}

#[test]
fn c_readiness() {
    let log = readiness::<C>();
    assert_eq!(log[0], "add Ok(())");
    assert_eq!(log[1], format!("add again Err({ERR_SYS})"));
    assert_eq!(log[2], format!("add -1 Err({ERR_ARG})"));
    assert_eq!(log[3], format!("initial [(7, {WRITE})]"));
    assert!(contains(&log, "quiet Ok([])"), "{log:?}");
    assert!(
        contains(&log, &format!("readable [(7, {})]", READ | WRITE)),
        "{log:?}"
    );
    assert!(contains(&log, "drained 5"), "{log:?}");
    assert!(contains(&log, "quiet again Ok([])"), "{log:?}");
    let hangup = log.iter().find(|l| l.starts_with("hangup")).unwrap();
    assert!(hangup.contains("(7, "), "{hangup}");
    assert!(contains(&log, "remove Ok(())"), "{log:?}");
    assert!(
        contains(&log, &format!("remove again Err({ERR_SYS})")),
        "{log:?}"
    );
    assert!(
        contains(&log, &format!("remove -1 Err({ERR_ARG})")),
        "{log:?}"
    );
    assert!(contains(&log, "after remove Ok([])"), "{log:?}");
}

#[test]
fn c_timers() {
    let log = timers::<C>();
    let t = TIMER;
    let expected = vec![
        "ids nonzero true".to_string(),
        "ids distinct true".to_string(),
        "cancel true".to_string(),
        "cancel again false".to_string(),
        "cancel 0 false".to_string(),
        "cancel unknown false".to_string(),
        "cancel temp true".to_string(),
        "old id after rearm false".to_string(),
        format!("order [(14, {t}), (11, {t}), (13, {t}), (17, {t}), (10, {t}), (15, {t})]"),
        "not early true".to_string(),
        "cancel fired false".to_string(),
        "cancel fired rearmed false".to_string(),
        "nothing left Ok([])".to_string(),
    ];
    assert_eq!(log, expected);
}

#[test]
fn c_fds_before_timers() {
    let log = fds_before_timers::<C>();
    assert_eq!(
        log,
        vec![format!("round [(1, {}), (2, {TIMER})]", READ | WRITE)]
    );
}

#[test]
fn c_wake() {
    let log = wake::<C>();
    assert_eq!(
        log,
        vec![
            format!("coalesced Ok([(0, {WAKE})])"),
            "then quiet Ok([])".to_string(),
            format!("cross-thread Ok([(0, {WAKE})])"),
            "promptly true".to_string(),
        ]
    );
}

#[test]
fn c_many_fds() {
    let log = many_fds::<C>();
    let writable: Vec<u64> = (1000..1300).collect();
    let readable: Vec<u64> = (0..300).filter(|i| i % 3 == 0).map(|i| 1000 + i).collect();
    assert_eq!(log[0], format!("writable {writable:?}"));
    assert_eq!(log[1], format!("readable {readable:?}"));
    assert_eq!(log[2], "extra []");
}

#[test]
fn c_timer_heap() {
    for seed in [1, 0x9e37_79b9, 0xdead_beef_cafe] {
        let log = timer_heap::<C>(seed);
        assert_eq!(log[1], "in order true", "seed {seed}: {log:?}");
        assert_eq!(log[3], "after Ok([])");
        let first_cancels_true = log[0]
            .trim_start_matches("cancels [")
            .trim_end_matches(']')
            .split(", ")
            .filter(|s| *s == "true")
            .count();
        assert!(first_cancels_true > 50, "{}", log[0]);
    }
}

#[test]
fn c_bad_wait() {
    assert_eq!(bad_wait::<C>(), vec![format!("cap 0 Err({ERR_ARG})")]);
}

#[test]
fn c_now_is_monotonic() {
    let a = C::now_ms();
    let b = C::now_ms();
    assert!(a > 0 && b >= a);
}

#[test]
fn parity_readiness() {
    assert_eq!(readiness::<C>(), readiness::<Rust>());
}

#[test]
fn parity_timers() {
    assert_eq!(timers::<C>(), timers::<Rust>());
}

#[test]
fn parity_fds_before_timers() {
    assert_eq!(fds_before_timers::<C>(), fds_before_timers::<Rust>());
}

#[test]
fn parity_wake() {
    assert_eq!(wake::<C>(), wake::<Rust>());
}

#[test]
fn parity_many_fds() {
    assert_eq!(many_fds::<C>(), many_fds::<Rust>());
}

#[test]
fn parity_timer_heap() {
    assert_eq!(timer_heap::<C>(7), timer_heap::<Rust>(7));
}

#[test]
fn parity_bad_wait() {
    assert_eq!(bad_wait::<C>(), bad_wait::<Rust>());
}

#[test]
fn parity_same_clock() {
    // Both read CLOCK_MONOTONIC: readings interleave in order.
    let a = C::now_ms();
    let b = Rust::now_ms();
    let c = C::now_ms();
    assert!(a <= b && b <= c, "{a} {b} {c}");
}
