//! A bounded multi-producer multi-consumer FIFO queue of 64-bit values, the
//! hand-off point between the proxy's worker threads.
//!
//! A lock-free ring of cells, each carrying a sequence number that says whose
//! turn it is (the per-slot-sequence design described by Dmitry Vyukov).
//! Positions only grow (wrapping is harmless: only differences are looked
//! at). Cell `pos % capacity` is
//! - free for the producer of position `pos` when its sequence is `pos`,
//! - filled for the consumer of position `pos` when its sequence is `pos + 1`;
//!
//! the consumer then hands it to the producer of the next lap by setting the
//! sequence to `pos + capacity`. A thread claims a position by advancing the
//! shared tail (producers) or head (consumers) with a compare-and-swap.
//!
//! Values live in `AtomicU64`s, so the whole queue is safe code; the value
//! accesses are relaxed because the sequence's release/acquire pair already
//! orders them. This measured faster than wrapping
//! `crossbeam_queue::ArrayQueue` (see the mp-queue benches).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The largest capacity a queue may be created with (2^24 slots).
pub const MAX_CAPACITY: usize = 1 << 24;

/// The smallest capacity a queue gets, whatever smaller size was asked.
pub const MIN_CAPACITY: usize = 2;

/// The capacity a queue asked for with `requested` slots really gets, or
/// `None` if that request is refused.
pub fn rounded_capacity(requested: usize) -> Option<usize> {
    if requested == 0 || requested > MAX_CAPACITY {
        return None;
    }
    // Cannot overflow: requested <= 2^24.
    Some(requested.max(MIN_CAPACITY).next_power_of_two())
}

/// Keeps its content on a cache line of its own, so producers moving the
/// tail and consumers moving the head do not invalidate each other's line.
#[repr(align(64))]
struct CacheLine<T>(T);

struct Cell {
    sequence: AtomicUsize,
    value: AtomicU64,
}

/// A bounded lock-free MPMC FIFO of `u64`; share it by reference (it is
/// `Sync`) and call [`push`](Self::push) / [`pop`](Self::pop) from any
/// number of threads.
pub struct MpQueue {
    tail: CacheLine<AtomicUsize>,
    head: CacheLine<AtomicUsize>,
    cells: Box<[Cell]>,
    /// capacity - 1; `pos & mask` is always a valid index into `cells`.
    mask: usize,
}

/// How far a cell's sequence is from the one that would let us use it:
/// 0 = our turn, negative = the cell is a lap behind, positive = another
/// thread already took this position.
fn lag(sequence: usize, expected: usize) -> isize {
    sequence.wrapping_sub(expected) as isize
}

impl MpQueue {
    /// An empty queue holding up to `rounded_capacity(capacity)` values;
    /// `None` for a capacity of 0 or above [`MAX_CAPACITY`].
    pub fn new(capacity: usize) -> Option<MpQueue> {
        let slots = rounded_capacity(capacity)?;
        let cells = (0..slots)
            .map(|pos| Cell {
                sequence: AtomicUsize::new(pos),
                value: AtomicU64::new(0),
            })
            .collect();
        Some(MpQueue {
            tail: CacheLine(AtomicUsize::new(0)),
            head: CacheLine(AtomicUsize::new(0)),
            cells,
            mask: slots - 1,
        })
    }

    fn cell(&self, pos: usize) -> &Cell {
        &self.cells[pos & self.mask]
    }

    /// Appends `value`, or hands it back when the queue is full. With pops
    /// running concurrently, "full" may be reported while a pop is freeing
    /// a slot.
    pub fn push(&self, value: u64) -> Result<(), u64> {
        // Relaxed: the tail only says which cell to try; the cell's sequence
        // (acquired below) is what grants access.
        let mut pos = self.tail.0.load(Ordering::Relaxed);
        loop {
            let cell = self.cell(pos);
            // Acquire: pairs with the release of the consumer that emptied
            // this cell one lap ago, so its read of the old value comes
            // before our write.
            let lag = lag(cell.sequence.load(Ordering::Acquire), pos);
            if lag == 0 {
                // Relaxed: the CAS only picks the one producer owning `pos`.
                match self.tail.0.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        cell.value.store(value, Ordering::Relaxed);
                        // Release: publishes the value to the consumer that
                        // acquires pos + 1.
                        cell.sequence.store(pos.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => pos = current,
                }
            } else if lag < 0 {
                // The cell still holds the value from one lap ago.
                return Err(value);
            } else {
                pos = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Removes the oldest value, or `None` when the queue is empty.
    pub fn pop(&self) -> Option<u64> {
        // Relaxed: a hint, as for the tail in push.
        let mut pos = self.head.0.load(Ordering::Relaxed);
        loop {
            let cell = self.cell(pos);
            // Acquire: pairs with the producer's release of pos + 1, so its
            // write of the value comes before our read.
            let lag = lag(cell.sequence.load(Ordering::Acquire), pos.wrapping_add(1));
            if lag == 0 {
                // Relaxed: the CAS only picks the one consumer owning `pos`.
                match self.head.0.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let value = cell.value.load(Ordering::Relaxed);
                        // Release: our read comes before the next lap's
                        // producer (which acquires this) overwrites it.
                        let next_lap = pos.wrapping_add(self.mask).wrapping_add(1);
                        cell.sequence.store(next_lap, Ordering::Release);
                        return Some(value);
                    }
                    Err(current) => pos = current,
                }
            } else if lag < 0 {
                // Nothing has been written at `pos` yet.
                return None;
            } else {
                pos = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// How many values the queue can hold.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// How many values are queued: exact while no push or pop runs
    /// concurrently, a recent value (never above the capacity) otherwise.
    pub fn len(&self) -> usize {
        // Acquire: a caller synchronized with the last push/pop sees exact
        // positions. Concurrently the two loads are no snapshot, so the
        // difference is clamped into [0, capacity].
        let head = self.head.0.load(Ordering::Acquire);
        let tail = self.tail.0.load(Ordering::Acquire);
        let queued = lag(tail, head).max(0).unsigned_abs();
        queued.min(self.capacity())
    }

    /// Whether no value is queued (same precision as [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_rule() {
        for (asked, got) in [
            (0, None),
            (1, Some(2)),
            (2, Some(2)),
            (3, Some(4)),
            (64, Some(64)),
            (65, Some(128)),
            (MAX_CAPACITY / 2 + 1, Some(MAX_CAPACITY)),
            (MAX_CAPACITY, Some(MAX_CAPACITY)),
            (MAX_CAPACITY + 1, None),
            (usize::MAX, None),
        ] {
            assert_eq!(rounded_capacity(asked), got, "asked {asked}");
        }
        assert!(MpQueue::new(0).is_none());
        assert_eq!(MpQueue::new(5).map(|q| q.capacity()), Some(8));
    }

    #[test]
    fn fill_full_drain_empty() {
        let q = MpQueue::new(4).expect("valid capacity");
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        for v in 10..14 {
            assert_eq!(q.push(v), Ok(()));
        }
        assert_eq!(q.len(), 4);
        assert_eq!(q.push(99), Err(99));
        for v in 10..14 {
            assert_eq!(q.pop(), Some(v));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn wraps_around_many_laps() {
        let q = MpQueue::new(2).expect("valid capacity");
        for v in 0..1000u64 {
            assert_eq!(q.push(v), Ok(()));
            assert_eq!(q.push(!v), Ok(()));
            assert_eq!(q.pop(), Some(v));
            assert_eq!(q.pop(), Some(!v));
        }
        assert!(q.is_empty());
    }

    #[test]
    fn threads_share_one_queue() {
        let q = MpQueue::new(16).expect("valid capacity");
        let total: u64 = std::thread::scope(|s| {
            s.spawn(|| {
                for v in 1..=1000u64 {
                    while q.push(v).is_err() {
                        std::thread::yield_now();
                    }
                }
            });
            let mut sum = 0;
            let mut seen = 0;
            while seen < 1000 {
                match q.pop() {
                    Some(v) => {
                        sum += v;
                        seen += 1;
                    }
                    None => std::thread::yield_now(),
                }
            }
            sum
        });
        assert_eq!(total, 1000 * 1001 / 2);
    }
}
