//! mp-queue: C vs Rust vs a VecDeque model on random single-threaded
//! operation sequences, plus a multi-threaded stress run on each side.
use parity_tests::{c, config, rust};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use c::mp_queue as cq;
use rust::common::mp_queue as rq;

const MAX_CAPACITY: usize = 1 << 24;

/// The API both sides (and the model) share, so one test body drives each.
trait Queue: Sized {
    fn create(capacity: usize) -> Option<Self>;
    fn push(&self, value: u64) -> Result<(), u64>;
    fn pop(&self) -> Option<u64>;
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
}

macro_rules! queue_impl {
    ($ty:ty) => {
        impl Queue for $ty {
            fn create(capacity: usize) -> Option<Self> {
                <$ty>::new(capacity)
            }
            fn push(&self, value: u64) -> Result<(), u64> {
                <$ty>::push(self, value)
            }
            fn pop(&self) -> Option<u64> {
                <$ty>::pop(self)
            }
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            fn capacity(&self) -> usize {
                <$ty>::capacity(self)
            }
        }
    };
}
queue_impl!(cq::MpQueue);
queue_impl!(rq::MpQueue);

/// The contract written out naively.
struct Model {
    capacity: usize,
    items: RefCell<VecDeque<u64>>,
}

impl Queue for Model {
    fn create(capacity: usize) -> Option<Self> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return None;
        }
        let mut slots = 2;
        while slots < capacity {
            slots *= 2;
        }
        Some(Model {
            capacity: slots,
            items: RefCell::new(VecDeque::new()),
        })
    }
    fn push(&self, value: u64) -> Result<(), u64> {
        let mut items = self.items.borrow_mut();
        if items.len() == self.capacity {
            return Err(value);
        }
        items.push_back(value);
        Ok(())
    }
    fn pop(&self) -> Option<u64> {
        self.items.borrow_mut().pop_front()
    }
    fn len(&self) -> usize {
        self.items.borrow().len()
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
}

#[derive(Debug, Clone)]
enum Op {
    Push(u64),
    Pop,
    Len,
    Capacity,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Pushed(Result<(), u64>),
    Popped(Option<u64>),
    Len(usize),
    Capacity(usize),
}

fn apply(queue: &impl Queue, op: &Op) -> Outcome {
    match *op {
        Op::Push(v) => Outcome::Pushed(queue.push(v)),
        Op::Pop => Outcome::Popped(queue.pop()),
        Op::Len => Outcome::Len(queue.len()),
        Op::Capacity => Outcome::Capacity(queue.capacity()),
    }
}

/// Runs `ops` on fresh C, Rust and model queues of `requested` capacity and
/// fails at the first differing outcome or length.
fn three_way(requested: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let model = Model::create(requested);
    let c_queue = cq::MpQueue::new(requested);
    let r_queue = rq::MpQueue::new(requested);
    prop_assert_eq!(c_queue.is_some(), model.is_some(), "C new({})", requested);
    prop_assert_eq!(
        r_queue.is_some(),
        model.is_some(),
        "Rust new({})",
        requested
    );
    let (Some(model), Some(c_queue), Some(r_queue)) = (model, c_queue, r_queue) else {
        return Ok(());
    };
    for (step, op) in ops.iter().enumerate() {
        let want = apply(&model, op);
        prop_assert_eq!(&apply(&c_queue, op), &want, "C, step {} {:?}", step, op);
        prop_assert_eq!(&apply(&r_queue, op), &want, "Rust, step {} {:?}", step, op);
        prop_assert_eq!(c_queue.len(), model.len(), "C len after step {}", step);
        prop_assert_eq!(r_queue.len(), model.len(), "Rust len after step {}", step);
    }
    Ok(())
}

/// Operation sequences whose push/pop mix varies per case, so some runs
/// fill the queue and bounce off FULL while others keep draining to EMPTY.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    (1u32..8).prop_flat_map(|push_weight| {
        let op = prop_oneof![
            push_weight => any::<u64>().prop_map(Op::Push),
            8 - push_weight => Just(Op::Pop),
            1 => Just(Op::Len),
            1 => Just(Op::Capacity),
        ];
        proptest::collection::vec(op, 0..400)
    })
}

fn small_or_mid_capacity() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..70, 1 => 70usize..5000]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_operations_match_model(requested in small_or_mid_capacity(), ops in ops()) {
        three_way(requested, &ops)?;
    }
}

#[test]
fn large_and_invalid_capacities_match() {
    // A few fixed sequences on the big sizes: each 2^24 queue is 256 MiB, too
    // big to draw hundreds of times.
    let mut ops: Vec<Op> = (0..3000u64)
        .map(|v| Op::Push(v.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect();
    ops.extend([Op::Len, Op::Capacity]);
    ops.extend((0..3001).map(|_| Op::Pop));
    ops.extend([Op::Len, Op::Push(7), Op::Pop, Op::Pop]);
    for requested in [
        MAX_CAPACITY,
        MAX_CAPACITY + 1,
        MAX_CAPACITY / 2 + 1,
        usize::MAX,
        0,
        1,
        3,
    ] {
        three_way(requested, &ops).unwrap_or_else(|e| panic!("capacity {requested}: {e}"));
    }
    assert_eq!(
        mtproxy_sys::bindings_cref::MTP_MPQ_MAX_CAPACITY as usize,
        rq::MAX_CAPACITY
    );
}

fn fill_full_drain_empty<Q: Queue>(side: &str) {
    for (requested, slots) in [(1, 2), (2, 2), (5, 8), (1000, 1024)] {
        let q = Q::create(requested).unwrap_or_else(|| panic!("{side}: new({requested})"));
        assert_eq!(q.capacity(), slots, "{side}: capacity of new({requested})");
        assert_eq!(q.pop(), None, "{side}: fresh queue is empty");
        for v in 0..slots as u64 {
            assert_eq!(q.push(v * 3 + 1), Ok(()), "{side}: push {v}");
        }
        assert_eq!(q.len(), slots, "{side}: len when full");
        assert_eq!(q.push(u64::MAX), Err(u64::MAX), "{side}: push when full");
        for v in 0..slots as u64 {
            assert_eq!(q.pop(), Some(v * 3 + 1), "{side}: FIFO order");
        }
        assert_eq!(q.pop(), None, "{side}: drained");
        assert_eq!(q.len(), 0, "{side}: len when drained");
    }
}

#[test]
fn fill_full_drain_empty_both_sides() {
    fill_full_drain_empty::<cq::MpQueue>("C");
    fill_full_drain_empty::<rq::MpQueue>("Rust");
}

#[test]
fn c_side_rejects_null_arguments() {
    use mtproxy_sys::bindings_cref as ffi;
    let mut out = 0u64;
    // SAFETY: NULL handles, a NULL `out` and mtp_mpq_free(NULL) are allowed
    // by the contract; `q` is a live handle until the final free; `out` is a
    // writable u64.
    unsafe {
        assert_eq!(
            ffi::mtp_mpq_push(std::ptr::null_mut(), 1),
            ffi::MTP_MPQ_ERR_ARG
        );
        assert_eq!(
            ffi::mtp_mpq_pop(std::ptr::null_mut(), &mut out),
            ffi::MTP_MPQ_ERR_ARG
        );
        assert_eq!(ffi::mtp_mpq_capacity(std::ptr::null()), 0);
        assert_eq!(ffi::mtp_mpq_len(std::ptr::null()), 0);
        ffi::mtp_mpq_free(std::ptr::null_mut());
        let q = ffi::mtp_mpq_new(4);
        assert!(!q.is_null());
        assert_eq!(ffi::mtp_mpq_push(q, 5), 0);
        // A NULL `out` must not consume the queued value.
        assert_eq!(
            ffi::mtp_mpq_pop(q, std::ptr::null_mut()),
            ffi::MTP_MPQ_ERR_ARG
        );
        assert_eq!(ffi::mtp_mpq_len(q), 1);
        assert_eq!(out, 0, "out untouched");
        assert_eq!(ffi::mtp_mpq_pop(q, &mut out), 0);
        assert_eq!(out, 5);
        assert_eq!(ffi::mtp_mpq_pop(q, &mut out), ffi::MTP_MPQ_EMPTY);
        assert_eq!(out, 5, "out untouched when empty");
        ffi::mtp_mpq_free(q);
    }
}

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: u64 = 50_000;
const TOTAL: usize = (PRODUCERS * PER_PRODUCER) as usize;
/// Generous for a debug build on a loaded machine; a healthy run takes well
/// under a second.
const STRESS_DEADLINE: Duration = Duration::from_secs(30);

/// What the stress threads share besides the queue.
struct Progress {
    received: AtomicUsize,
    abort: AtomicBool,
    deadline: Instant,
}

impl Progress {
    fn give_up(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || Instant::now() > self.deadline
    }
}

fn producer<Q: Queue>(q: &Q, progress: &Progress, first: u64) {
    for v in first..first + PER_PRODUCER {
        while q.push(v).is_err() {
            if progress.give_up() {
                return;
            }
            std::hint::spin_loop();
            std::thread::yield_now();
        }
    }
}

/// Pops until all values arrived anywhere; returns this consumer's values
/// in pop order.
fn consumer<Q: Queue>(q: &Q, progress: &Progress) -> Result<Vec<u64>, String> {
    let mut got = Vec::new();
    while progress.received.load(Ordering::Relaxed) < TOTAL {
        if let Some(v) = q.pop() {
            got.push(v);
            progress.received.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let (len, capacity) = (q.len(), q.capacity());
        if len > capacity {
            return Err(format!("len {len} > capacity {capacity}"));
        }
        if progress.give_up() {
            let received = progress.received.load(Ordering::Relaxed);
            return Err(format!(
                "gave up with {received} of {TOTAL} values received"
            ));
        }
        std::hint::spin_loop();
        std::thread::yield_now();
    }
    Ok(got)
}

/// 4 producers push distinct ranges (retrying on FULL) while 4 consumers pop
/// until all values arrived; returns each consumer's values in pop order.
/// The threads are detached and the results come back over a channel with a
/// timeout, so even an operation that never returns fails the test instead
/// of hanging it.
fn run_stress<Q: Queue + Send + Sync + 'static>(q: Arc<Q>) -> Result<Vec<Vec<u64>>, String> {
    let progress = Arc::new(Progress {
        received: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        deadline: Instant::now() + STRESS_DEADLINE,
    });
    for p in 0..PRODUCERS {
        let (q, progress) = (Arc::clone(&q), Arc::clone(&progress));
        std::thread::spawn(move || producer(&*q, &progress, p * PER_PRODUCER));
    }
    let (results, finished) = mpsc::channel();
    for _ in 0..CONSUMERS {
        let (q, progress, results) = (Arc::clone(&q), Arc::clone(&progress), results.clone());
        std::thread::spawn(move || {
            let outcome = consumer(&*q, &progress);
            if outcome.is_err() {
                progress.abort.store(true, Ordering::Relaxed);
            }
            // The receiver is gone only if the test already failed.
            let _ = results.send(outcome);
        });
    }
    let mut per_consumer = Vec::new();
    for _ in 0..CONSUMERS {
        // A little past the deadline, for threads noticing it late.
        let wait =
            progress.deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(5);
        match finished.recv_timeout(wait) {
            Ok(outcome) => per_consumer.push(outcome?),
            Err(_) => {
                progress.abort.store(true, Ordering::Relaxed);
                return Err("a consumer is stuck inside the queue".into());
            }
        }
    }
    Ok(per_consumer)
}

/// Every value arrived exactly once, and each consumer saw each producer's
/// values in the order they were pushed.
fn check_stress<Q: Queue + Send + Sync + 'static>(side: &str) {
    let q = Arc::new(Q::create(64).expect("valid capacity"));
    let per_consumer = run_stress(Arc::clone(&q)).unwrap_or_else(|e| panic!("{side}: {e}"));
    let mut seen = vec![false; TOTAL];
    for (consumer, values) in per_consumer.iter().enumerate() {
        let mut last_from = [None::<u64>; PRODUCERS as usize];
        for &v in values {
            let slot = seen
                .get_mut(v as usize)
                .unwrap_or_else(|| panic!("{side}: value {v} was never pushed"));
            assert!(!*slot, "{side}: value {v} arrived twice");
            *slot = true;
            let last = &mut last_from[(v / PER_PRODUCER) as usize];
            assert!(
                last.is_none_or(|l| l < v),
                "{side}: consumer {consumer} got {v} after {last:?}"
            );
            *last = Some(v);
        }
    }
    let lost = seen.iter().filter(|s| !**s).count();
    assert_eq!(lost, 0, "{side}: values lost");
    assert_eq!(q.len(), 0, "{side}: queue not empty at the end");
}

#[test]
fn stress_c_side() {
    check_stress::<cq::MpQueue>("C");
}

#[test]
fn stress_rust_side() {
    check_stress::<rq::MpQueue>("Rust");
}
