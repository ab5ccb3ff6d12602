//! The MPMC queue: one push + pop on a single thread, and SPSC throughput
//! with a producer thread feeding the bench thread.
use criterion::{BenchmarkId, Criterion, Throughput};
use parity_tests::{c, rust};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Both sides' queues, so each case is written once.
trait Queue: Sync {
    fn push(&self, value: u64) -> Result<(), u64>;
    fn pop(&self) -> Option<u64>;
}

macro_rules! queue_impl {
    ($ty:ty) => {
        impl Queue for $ty {
            fn push(&self, value: u64) -> Result<(), u64> {
                <$ty>::push(self, value)
            }
            fn pop(&self) -> Option<u64> {
                <$ty>::pop(self)
            }
        }
    };
}
queue_impl!(c::mp_queue::MpQueue);
queue_impl!(rust::common::mp_queue::MpQueue);

const CAPACITY: usize = 1024;
const BATCH: u64 = 1024;
/// Failed attempts spun before yielding the core: the machine may have
/// fewer free cores than bench threads.
const SPINS_BEFORE_YIELD: u32 = 1000;

fn wait(spins: &mut u32) {
    *spins += 1;
    if *spins % SPINS_BEFORE_YIELD == 0 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn push_pop(q: &impl Queue) {
    let _ = black_box(q.push(black_box(42)));
    black_box(q.pop());
}

/// `iters` batches of [`BATCH`] values from a producer thread to this one;
/// the thread start is amortized over the whole run.
fn spsc(q: &impl Queue, iters: u64) -> Duration {
    let count = iters * BATCH;
    std::thread::scope(|s| {
        let start = Instant::now();
        s.spawn(|| {
            let mut spins = 0;
            for v in 0..count {
                while q.push(v).is_err() {
                    wait(&mut spins);
                }
            }
        });
        let mut spins = 0;
        let mut left = count;
        while left > 0 {
            match q.pop() {
                Some(v) => {
                    black_box(v);
                    left -= 1;
                }
                None => wait(&mut spins),
            }
        }
        start.elapsed()
    })
}

fn bench_side(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    side: &str,
    q: &impl Queue,
) {
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new(side, "push-pop"), |b| {
        b.iter(|| push_pop(q))
    });
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function(BenchmarkId::new(side, "spsc-1k"), |b| {
        b.iter_custom(|iters| spsc(q, iters))
    });
}

pub fn mp_queue(crit: &mut Criterion) {
    let c_queue = c::mp_queue::MpQueue::new(CAPACITY).expect("valid capacity");
    let rust_queue = rust::common::mp_queue::MpQueue::new(CAPACITY).expect("valid capacity");
    let mut g = crit.benchmark_group("mp-queue");
    bench_side(&mut g, "c", &c_queue);
    bench_side(&mut g, "rust", &rust_queue);
    g.finish();
}
