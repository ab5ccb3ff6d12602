use super::*;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

fn wait_all(r: &mut Reactor, timeout_ms: i32) -> Vec<Event> {
    let mut out = [Event::default(); 16];
    let n = r.wait(&mut out, timeout_ms).unwrap();
    out[..n].to_vec()
}

#[test]
fn reports_read_write_once_per_edge() {
    let mut r = Reactor::new().unwrap();
    let (mut a, mut b) = pair();
    r.add(a.as_fd(), 77).unwrap();
    // A fresh socket is writable: one WRITE edge.
    assert_eq!(
        wait_all(&mut r, 1000),
        vec![Event {
            token: 77,
            events: EV_WRITE
        }]
    );
    assert!(wait_all(&mut r, 0).is_empty(), "edge-triggered: no repeat");
    b.write_all(b"hi").unwrap();
    let ev = wait_all(&mut r, 1000);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].token, 77);
    assert_ne!(ev[0].events & EV_READ, 0);
    // Not read yet, but no new edge either.
    assert!(wait_all(&mut r, 0).is_empty());
    let mut buf = [0u8; 8];
    assert_eq!(a.read(&mut buf).unwrap(), 2);
    drop(b);
    let ev = wait_all(&mut r, 1000);
    assert_eq!(ev.len(), 1);
    assert_ne!(ev[0].events & EV_CLOSED, 0);
}

#[test]
fn any_token_value_works_and_double_add_fails() {
    let mut r = Reactor::new().unwrap();
    let (a, _b) = pair();
    r.add(a.as_fd(), u64::MAX).unwrap();
    assert_eq!(r.add(a.as_fd(), 1), Err(Errno::EEXIST));
    assert_eq!(
        wait_all(&mut r, 1000),
        vec![Event {
            token: u64::MAX,
            events: EV_WRITE
        }]
    );
}

#[test]
fn removed_fd_is_silent() {
    let mut r = Reactor::new().unwrap();
    let (a, mut b) = pair();
    r.add(a.as_fd(), 5).unwrap();
    r.remove(a.as_fd()).unwrap();
    b.write_all(b"x").unwrap();
    assert!(wait_all(&mut r, 0).is_empty());
    assert_eq!(r.remove(a.as_fd()), Err(Errno::ENOENT));
}

#[test]
fn timeout_zero_and_positive() {
    let mut r = Reactor::new().unwrap();
    assert!(wait_all(&mut r, 0).is_empty());
    let t = Instant::now();
    assert!(wait_all(&mut r, 20).is_empty());
    assert!(t.elapsed() >= Duration::from_millis(20));
}

#[test]
fn timers_fire_after_their_delay_in_deadline_then_arming_order() {
    let mut r = Reactor::new().unwrap();
    let t = Instant::now();
    r.timer(3, 30);
    r.timer(1, 0);
    r.timer(2, 0);
    let id = r.timer(9, 0);
    assert!(r.cancel(id));
    assert!(!r.cancel(id), "cancel twice");
    assert!(!r.cancel(12345), "never existed");
    let ev = wait_all(&mut r, -1);
    assert_eq!(
        ev,
        vec![
            Event {
                token: 1,
                events: EV_TIMER
            },
            Event {
                token: 2,
                events: EV_TIMER
            }
        ]
    );
    let ev = wait_all(&mut r, -1);
    assert_eq!(
        ev,
        vec![Event {
            token: 3,
            events: EV_TIMER
        }]
    );
    assert!(t.elapsed() >= Duration::from_millis(30));
}

#[test]
fn timers_beyond_cap_stay_pending_and_fired_ones_cannot_be_cancelled() {
    let mut r = Reactor::new().unwrap();
    let ids: Vec<u64> = (0..5).map(|i| r.timer(i, 0)).collect();
    let mut out = [Event::default(); 2];
    assert_eq!(r.wait(&mut out, -1).unwrap(), 2);
    assert_eq!(out.map(|e| e.token), [0, 1]);
    assert!(!r.cancel(ids[0]));
    assert!(r.cancel(ids[2]));
    assert_eq!(r.wait(&mut out, 0).unwrap(), 2);
    assert_eq!(out.map(|e| e.token), [3, 4]);
    assert_eq!(r.wait(&mut out, 0).unwrap(), 0);
}

#[test]
fn fd_events_come_before_timers() {
    let mut r = Reactor::new().unwrap();
    let (a, _b) = pair();
    r.timer(100, 0);
    r.add(a.as_fd(), 7).unwrap();
    let ev = wait_all(&mut r, -1);
    assert_eq!(
        ev,
        vec![
            Event {
                token: 7,
                events: EV_WRITE
            },
            Event {
                token: 100,
                events: EV_TIMER
            }
        ]
    );
}

#[test]
fn cancelled_timers_do_not_pile_up() {
    let mut r = Reactor::new().unwrap();
    for i in 0..10_000 {
        let id = r.timer(i, 60_000);
        assert!(r.cancel(id));
    }
    assert!(r.timers.heap.len() < 2 * TIMER_COMPACT_MIN);
    assert!(r.timers.live.is_empty());
    // Only cancelled timers: the wait is a plain timeout, not a wake-up.
    assert!(wait_all(&mut r, 0).is_empty());
}

#[test]
fn wakes_from_other_threads_coalesce() {
    let mut r = Reactor::new().unwrap();
    let w = r.waker();
    w.wake();
    w.wake();
    assert_eq!(
        wait_all(&mut r, -1),
        vec![Event {
            token: 0,
            events: EV_WAKE
        }]
    );
    assert!(wait_all(&mut r, 0).is_empty());
    let thread = std::thread::spawn(move || {
        for _ in 0..100 {
            w.wake();
        }
    });
    assert_eq!(
        wait_all(&mut r, -1),
        vec![Event {
            token: 0,
            events: EV_WAKE
        }]
    );
    thread.join().unwrap();
    // Whatever raced with the first report is at most one more wake.
    assert!(wait_all(&mut r, 0).len() <= 1);
    let w = r.waker();
    w.wake();
    assert_eq!(
        wait_all(&mut r, 1000),
        vec![Event {
            token: 0,
            events: EV_WAKE
        }]
    );
}

#[test]
fn waker_outlives_reactor() {
    let r = Reactor::new().unwrap();
    let w = r.waker();
    drop(r);
    w.wake();
}

#[test]
fn empty_output_is_an_error() {
    let mut r = Reactor::new().unwrap();
    assert_eq!(r.wait(&mut [], 0), Err(Errno::EINVAL));
}

#[test]
fn clock_is_monotonic_ms() {
    let a = now_ms();
    let b = now_ms();
    assert!(b >= a && a > 0);
}
