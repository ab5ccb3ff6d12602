//! A bounded multi-producer multi-consumer FIFO queue of 64-bit values, the
//! hand-off point between the proxy's worker threads.
//!
//! The ring itself is `crossbeam_queue::ArrayQueue` (lock-free, per-slot
//! stamps); this module only fixes the contract's capacity rule: the asked
//! capacity is rounded up to a power of two, at least [`MIN_CAPACITY`], and
//! 0 or more than [`MAX_CAPACITY`] is refused.

use crossbeam_queue::ArrayQueue;

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

/// A bounded lock-free MPMC FIFO of `u64`; share it by reference (it is
/// `Sync`) and call [`push`](Self::push) / [`pop`](Self::pop) from any
/// number of threads.
#[derive(Debug)]
pub struct MpQueue {
    ring: ArrayQueue<u64>,
}

impl MpQueue {
    /// An empty queue holding up to `rounded_capacity(capacity)` values;
    /// `None` for a capacity of 0 or above [`MAX_CAPACITY`].
    pub fn new(capacity: usize) -> Option<MpQueue> {
        rounded_capacity(capacity).map(|slots| MpQueue {
            ring: ArrayQueue::new(slots),
        })
    }

    /// Appends `value`, or hands it back when the queue is full.
    pub fn push(&self, value: u64) -> Result<(), u64> {
        self.ring.push(value)
    }

    /// Removes the oldest value, or `None` when the queue is empty.
    pub fn pop(&self) -> Option<u64> {
        self.ring.pop()
    }

    /// How many values the queue can hold.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// How many values are queued: exact while no push or pop runs
    /// concurrently, a recent value (never above the capacity) otherwise.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no value is queued (same precision as [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
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
