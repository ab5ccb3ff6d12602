//! jobs-threads: N workers record their index, their thread name and their
//! blocked signals (from /proc/thread-self) on the C side
//! (`mtproxy_sys::cref`) and on the Rust side (`mtproxy_sys::c`, exported by
//! mtproxy-ffi with `rust-jobs-threads`); the records must be equal.
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use mtproxy_sys::c::jobs_threads as rust_jobs;
use mtproxy_sys::cref::jobs_threads as c_jobs;

/// What one worker saw about itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct WorkerRecord {
    index: u32,
    name: String,
    /// Which of SIGHUP, SIGINT, SIGUSR1, SIGPIPE, SIGTERM are blocked.
    blocked: Vec<&'static str>,
}

const WATCHED: [(&str, u32); 5] = [
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGUSR1", 10),
    ("SIGPIPE", 13),
    ("SIGTERM", 15),
];

/// The calling thread's blocked-signal mask (`SigBlk` of
/// /proc/thread-self/status).
fn blocked_mask() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").expect("status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .expect("SigBlk line");
    u64::from_str_radix(line.trim(), 16).expect("hex mask")
}

fn blocked_watched(mask: u64) -> Vec<&'static str> {
    WATCHED
        .iter()
        .filter(|&&(_, signo)| mask & (1u64 << (signo - 1)) != 0)
        .map(|&(name, _)| name)
        .collect()
}

fn this_record(index: u32) -> WorkerRecord {
    let name = std::fs::read_to_string("/proc/thread-self/comm").expect("comm");
    WorkerRecord {
        index,
        name: name.trim_end().to_string(),
        blocked: blocked_watched(blocked_mask()),
    }
}

/// The API both sides share.
trait Side {
    type J;
    fn start(workers: u32, body: impl Fn(u32) + Send + Sync + 'static) -> Option<Self::J>;
    fn join(jobs: Self::J);
    fn cpu_count() -> u32;
}

macro_rules! side {
    ($name:ident, $module:ident) => {
        struct $name;
        impl Side for $name {
            type J = $module::Jobs;
            fn start(workers: u32, body: impl Fn(u32) + Send + Sync + 'static) -> Option<Self::J> {
                $module::start(workers, body)
            }
            fn join(jobs: Self::J) {
                jobs.join()
            }
            fn cpu_count() -> u32 {
                $module::cpu_count()
            }
        }
    };
}
side!(C, c_jobs);
side!(Rust, rust_jobs);

/// Starts `workers` threads that each record themselves, joins them, and
/// returns the records sorted by index, plus whether the starting thread's
/// own mask is unchanged.
fn run_workers<S: Side>(workers: u32) -> (Vec<WorkerRecord>, bool) {
    let before = blocked_mask();
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = records.clone();
    let jobs = S::start(workers, move |index| {
        let record = this_record(index);
        sink.lock().unwrap().push(record);
    })
    .expect("workers started");
    let unchanged = blocked_mask() == before;
    S::join(jobs);
    let mut out = records.lock().unwrap().clone();
    out.sort();
    (out, unchanged)
}

/// Refusals: no workers.
fn refusals<S: Side>() -> Vec<bool> {
    vec![S::start(0, |_| {}).is_none()]
}

/// Workers run concurrently: each waits until all have started, which
/// would hang if they ran one after another.
fn concurrent<S: Side>(workers: u32) -> u32 {
    let barrier = Arc::new(std::sync::Barrier::new(workers as usize));
    let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let (b, c) = (barrier.clone(), count.clone());
    let jobs = S::start(workers, move |_| {
        b.wait();
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .expect("workers started");
    S::join(jobs);
    count.load(std::sync::atomic::Ordering::SeqCst)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: parity_tests::config().cases.min(32), ..parity_tests::config() })]

    // Worker counts with weight on 0 (refused), 1, and where the index in
    // the thread name gains a digit (10, 100).
    #[test]
    fn random_worker_counts_match(workers in parity_tests::boundary_len(&[1, 10, 100], 128)) {
        let workers = workers as u32;
        if workers == 0 {
            prop_assert_eq!(refusals::<C>(), refusals::<Rust>());
        } else {
            prop_assert_eq!(run_workers::<C>(workers), run_workers::<Rust>(workers));
            prop_assert_eq!(concurrent::<C>(workers), concurrent::<Rust>(workers));
        }
    }
}

#[test]
fn c_workers_record_index_name_and_mask() {
    let (records, unchanged) = run_workers::<C>(12);
    assert!(unchanged, "the caller's signal mask changed");
    assert_eq!(records.len(), 12);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.index, i as u32);
        assert_eq!(r.name, format!("mtproxy-w{i}"));
        assert_eq!(
            r.blocked,
            ["SIGHUP", "SIGINT", "SIGUSR1", "SIGPIPE", "SIGTERM"]
        );
    }
}

#[test]
fn c_refusals() {
    assert_eq!(refusals::<C>(), vec![true]);
}

#[test]
fn c_concurrent() {
    assert_eq!(concurrent::<C>(6), 6);
}

#[test]
fn c_cpu_count() {
    let n = C::cpu_count();
    // std's count also applies cgroup quotas, so it may only be lower.
    let std_n = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    assert!(n >= 1 && n >= std_n, "{n} < {std_n}");
}

#[test]
fn parity_workers() {
    assert_eq!(run_workers::<C>(5), run_workers::<Rust>(5));
}

#[test]
fn parity_refusals() {
    assert_eq!(refusals::<C>(), refusals::<Rust>());
}

#[test]
fn parity_concurrent() {
    assert_eq!(concurrent::<C>(4), concurrent::<Rust>(4));
}

#[test]
fn parity_cpu_count() {
    assert_eq!(C::cpu_count(), Rust::cpu_count());
}
