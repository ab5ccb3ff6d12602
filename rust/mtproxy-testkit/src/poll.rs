//! Waiting in a test without sleeping a guessed time: a condition polled
//! against a deadline.
use std::time::{Duration, Instant};

/// Polls `done` every few milliseconds until it holds; panics naming
/// `what` once `wait` has passed.
pub fn wait_until(what: &str, wait: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + wait;
    while !done() {
        assert!(Instant::now() < deadline, "waited {wait:?} for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
