//! The net-events reactor: one per thread, edge-triggered epoll, one-shot
//! timers and a coalescing cross-thread wake (contract:
//! ffi/include/mtp_net_events.h, behaviour: docs/RUNTIME.md).
//!
//! Poll style: [`Reactor::wait`] hands back `(token, events)` pairs and the
//! caller dispatches them, so no callback ever re-enters the caller.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The error of every fallible reactor call (the errno of the system call).
pub use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::time::{clock_gettime, ClockId};

/// The fd has bytes to read (or a pending connection, for a listener).
pub const EV_READ: u32 = 1;
/// The fd accepts writes again (or a connect finished).
pub const EV_WRITE: u32 = 2;
/// The peer hung up or the socket has an error.
pub const EV_CLOSED: u32 = 4;
/// A timer expired (its token is reported).
pub const EV_TIMER: u32 = 8;
/// [`Waker::wake`] was called (token 0).
pub const EV_WAKE: u32 = 16;

/// One readiness report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub token: u64,
    pub events: u32,
}

/// Milliseconds of CLOCK_MONOTONIC, the time base of the timers.
pub fn now_ms() -> u64 {
    now_ns() / 1_000_000
}

/// Nanoseconds of CLOCK_MONOTONIC. Timers keep nanosecond deadlines so that
/// "at least `delay_ms`" holds exactly, not only to the millisecond.
fn now_ns() -> u64 {
    // CLOCK_MONOTONIC cannot fail on Linux with a valid clock id; 0 would
    // only make timers fire early, never hang.
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
        let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
        let nanos = u64::try_from(t.tv_nsec()).unwrap_or(0);
        secs.saturating_mul(1_000_000_000).saturating_add(nanos)
    })
}

/// The part of a reactor other threads may touch: the wake-up eventfd and
/// whether a wake is already on its way (so repeated wakes coalesce into
/// one eventfd write).
struct WakeShared {
    fd: EventFd,
    pending: AtomicBool,
}

impl WakeShared {
    fn wake(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            // Only fails if the counter would overflow, which one pending
            // write at a time cannot reach.
            let _ = self.fd.write(1);
        }
    }

    /// Called by the owner when the eventfd fired. The counter is drained
    /// before `pending` is cleared: a wake racing in between is then covered
    /// by the WAKE event being reported now, and any later wake writes again.
    fn consume(&self) {
        let _ = self.fd.read();
        self.pending.store(false, Ordering::Release);
    }
}

/// Wakes a reactor from any thread; keeps the wake-up fd alive even after
/// the reactor is gone (a late wake then does nothing useful, harmlessly).
#[derive(Clone)]
pub struct Waker {
    shared: Arc<WakeShared>,
}

impl Waker {
    /// Makes the reactor's current or next wait report `(0, EV_WAKE)`.
    pub fn wake(&self) {
        self.shared.wake();
    }
}

/// A pending timer in the heap: ordered by deadline, then by id, which
/// grows with each arming, so equal deadlines fire in arming order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TimerEntry {
    deadline_ns: u64,
    id: u64,
    token: u64,
}

/// One-shot timers: a min-heap plus the set of ids still pending.
/// Cancelled entries stay in the heap until they reach the top or until
/// they make up half of it, when the heap is rebuilt without them, so the
/// memory stays proportional to the live timers.
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<TimerEntry>>,
    live: HashSet<u64>,
    last_id: u64,
}

/// Below this size a heap full of cancelled entries is not worth rebuilding.
const TIMER_COMPACT_MIN: usize = 64;

impl Timers {
    fn arm(&mut self, token: u64, delay_ms: u64, now_ns: u64) -> u64 {
        self.last_id += 1;
        let id = self.last_id;
        let deadline_ns = now_ns.saturating_add(delay_ms.saturating_mul(1_000_000));
        self.heap.push(Reverse(TimerEntry {
            deadline_ns,
            id,
            token,
        }));
        self.live.insert(id);
        id
    }

    fn cancel(&mut self, id: u64) -> bool {
        if !self.live.remove(&id) {
            return false;
        }
        let dead = self.heap.len() - self.live.len();
        if self.heap.len() >= TIMER_COMPACT_MIN && dead * 2 >= self.heap.len() {
            let live = &self.live;
            self.heap.retain(|Reverse(e)| live.contains(&e.id));
        }
        true
    }

    /// The earliest live timer, dropping cancelled ones from the top.
    fn peek(&mut self) -> Option<TimerEntry> {
        while let Some(Reverse(top)) = self.heap.peek().copied() {
            if self.live.contains(&top.id) {
                return Some(top);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the earliest live timer if it is due.
    fn pop_due(&mut self, now_ns: u64) -> Option<TimerEntry> {
        let top = self.peek().filter(|t| t.deadline_ns <= now_ns)?;
        self.heap.pop();
        self.live.remove(&top.id);
        Some(top)
    }
}

/// Milliseconds until `deadline_ns`, rounded up so a wake-up never comes
/// before the deadline, capped to what epoll accepts.
fn ms_until(deadline_ns: u64, now_ns: u64) -> u64 {
    deadline_ns.saturating_sub(now_ns).div_ceil(1_000_000)
}

/// An edge-triggered reactor owned by one thread.
pub struct Reactor {
    epoll: Epoll,
    wake: Arc<WakeShared>,
    /// Registered fds' tokens, indexed by fd. Epoll reports the fd (not the
    /// token) so that any u64 token is allowed and the wake-up fd can never
    /// be mistaken for a caller's fd.
    tokens: Vec<u64>,
    timers: Timers,
    /// Scratch space for epoll_wait, kept to avoid an allocation per wait.
    raw: Vec<EpollEvent>,
}

/// Most events taken from epoll in one wait.
const MAX_BATCH: usize = 1024;
/// Longest single epoll sleep; longer waits loop.
const MAX_SLEEP_MS: u64 = i32::MAX as u64;

fn fd_key(fd: RawFd) -> Result<usize, Errno> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

impl Reactor {
    /// A new reactor: epoll instance, wake-up eventfd, no timers.
    pub fn new() -> Result<Reactor, Errno> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let fd = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        let wake_key = u64::try_from(fd.as_raw_fd()).map_err(|_| Errno::EBADF)?;
        epoll.add(
            &fd,
            EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLET, wake_key),
        )?;
        Ok(Reactor {
            epoll,
            wake: Arc::new(WakeShared {
                fd,
                pending: AtomicBool::new(false),
            }),
            tokens: Vec::new(),
            timers: Timers::default(),
            raw: Vec::new(),
        })
    }

    /// A handle other threads can wake this reactor with.
    pub fn waker(&self) -> Waker {
        Waker {
            shared: Arc::clone(&self.wake),
        }
    }

    /// Watches `fd` edge-triggered for read, write and close, reporting
    /// `token`. Fails (EEXIST) if the fd is already watched.
    pub fn add(&mut self, fd: BorrowedFd<'_>, token: u64) -> Result<(), Errno> {
        let key = fd_key(fd.as_raw_fd())?;
        let flags = EpollFlags::EPOLLIN
            | EpollFlags::EPOLLOUT
            | EpollFlags::EPOLLRDHUP
            | EpollFlags::EPOLLET;
        // `key` fits in u64: it came from a non-negative i32.
        self.epoll.add(fd, EpollEvent::new(flags, key as u64))?;
        if self.tokens.len() <= key {
            self.tokens.resize(key + 1, 0);
        }
        self.tokens[key] = token;
        Ok(())
    }

    /// Stops watching `fd`.
    pub fn remove(&mut self, fd: BorrowedFd<'_>) -> Result<(), Errno> {
        fd_key(fd.as_raw_fd())?;
        self.epoll.delete(fd)
    }

    /// Arms a one-shot timer; returns its id (never 0).
    pub fn timer(&mut self, token: u64, delay_ms: u64) -> u64 {
        self.timers.arm(token, delay_ms, now_ns())
    }

    /// True if the timer was pending and is now cancelled.
    pub fn cancel(&mut self, timer_id: u64) -> bool {
        self.timers.cancel(timer_id)
    }

    /// Waits until an fd is ready, a timer expires, a wake arrives or
    /// `timeout_ms` passes (negative: no limit but the timers), then fills
    /// `out` from the start and returns how many events were written (0 on
    /// timeout or EINTR). Fd events come first, then expired timers; timers
    /// that do not fit stay pending for the next call.
    pub fn wait(&mut self, out: &mut [Event], timeout_ms: i32) -> Result<usize, Errno> {
        if out.is_empty() {
            return Err(Errno::EINVAL);
        }
        let start_ns = now_ns();
        let limit_ns = u64::try_from(timeout_ms)
            .ok()
            .map(|ms| start_ns.saturating_add(ms.saturating_mul(1_000_000)));
        let batch = out.len().min(MAX_BATCH);
        if self.raw.len() < batch {
            self.raw.resize(batch, EpollEvent::empty());
        }
        loop {
            let now = now_ns();
            let next_timer = self.timers.peek().map(|t| t.deadline_ns);
            let wake_at = match (next_timer, limit_ns) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let sleep_ms = wake_at.map_or(MAX_SLEEP_MS, |at| ms_until(at, now).min(MAX_SLEEP_MS));
            // sleep_ms <= i32::MAX, so the conversion cannot fail.
            let timeout = EpollTimeout::try_from(sleep_ms).unwrap_or(EpollTimeout::NONE);
            let n = match self.epoll.wait(&mut self.raw[..batch], timeout) {
                Ok(n) => n,
                Err(Errno::EINTR) => return Ok(0),
                Err(e) => return Err(e),
            };
            let mut written = 0;
            for raw in &self.raw[..n] {
                written += self.translate(raw, &mut out[written]);
            }
            let now = now_ns();
            while written < out.len() {
                let Some(timer) = self.timers.pop_due(now) else {
                    break;
                };
                out[written] = Event {
                    token: timer.token,
                    events: EV_TIMER,
                };
                written += 1;
            }
            let timed_out = limit_ns.is_some_and(|limit| now >= limit);
            if written > 0 || timed_out {
                return Ok(written);
            }
        }
    }

    /// Converts one epoll report into `slot`; returns 1 if it is an event
    /// for the caller, 0 if it was swallowed (nothing to report).
    fn translate(&self, raw: &EpollEvent, slot: &mut Event) -> usize {
        let key = raw.data();
        if key == self.wake.fd.as_raw_fd() as u64 {
            self.wake.consume();
            *slot = Event {
                token: 0,
                events: EV_WAKE,
            };
            return 1;
        }
        let flags = raw.events();
        let mut events = 0;
        if flags.contains(EpollFlags::EPOLLIN) {
            events |= EV_READ;
        }
        if flags.contains(EpollFlags::EPOLLOUT) {
            events |= EV_WRITE;
        }
        if flags.intersects(EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR) {
            events |= EV_CLOSED;
        }
        let token = usize::try_from(key)
            .ok()
            .and_then(|k| self.tokens.get(k).copied());
        match token {
            Some(token) if events != 0 => {
                *slot = Event { token, events };
                1
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
