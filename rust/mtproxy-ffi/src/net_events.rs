//! Contract of the net-events module: a per-thread edge-triggered I/O
//! reactor with one-shot timers and a cross-thread wake-up.
//!
//! Poll style rather than callbacks: `mtp_reactor_wait` hands back
//! `(token, events)` pairs and the caller dispatches them. No function
//! pointer crosses the boundary, the caller is never re-entered while it
//! holds its own state, and each side dispatches in its own language.
//!
//! A reactor is used by one thread; only `mtp_reactor_wake` may be called
//! from other threads.
use std::os::fd::BorrowedFd;

use mtproxy_rt::reactor::{Errno, Event, Reactor, Waker};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::net_events::*;

/// A reactor handle.
#[allow(non_camel_case_types)]
pub struct mtp_reactor {
    owned: Owned,
    /// Read by `mtp_reactor_wake` from any thread, concurrently with the
    /// owner's calls (which only touch `owned`).
    waker: Waker,
}

/// Most events one wait hands back (bounds the scratch buffer; more stay
/// pending in the kernel or the timer heap for the next wait).
const MAX_EVENTS_PER_WAIT: usize = 1024;

/// What only the owner thread touches.
struct Owned {
    reactor: Reactor,
    /// Events of the last wait before conversion; kept to avoid an
    /// allocation per wait.
    scratch: Vec<Event>,
}

/// The owner's part of a handle.
///
/// # Safety
/// `reactor` must be NULL or a live handle not used elsewhere during `'a`
/// (a wake from another thread only reads `waker`).
unsafe fn owner<'a>(reactor: *mut mtp_reactor) -> Option<&'a mut Owned> {
    if reactor.is_null() {
        return None;
    }
    // SAFETY: live and exclusively ours by the caller's contract;
    // `addr_of_mut!` reaches `owned` without asserting exclusive access
    // to `waker`, which other threads may read concurrently.
    unsafe { std::ptr::addr_of_mut!((*reactor).owned).as_mut() }
}

/// The fd as a borrowed fd for the duration of a call, or None if negative.
///
/// # Safety
/// A non-negative `fd` is taken to be open during the call (the contract
/// asks callers to remove fds before closing them); epoll reports EBADF for
/// one that is not.
unsafe fn borrowed<'a>(fd: i32) -> Option<BorrowedFd<'a>> {
    // SAFETY: non-negative (checked) and open for this call as above.
    (fd >= 0).then(|| unsafe { BorrowedFd::borrow_raw(fd) })
}

fn status(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            // Later Rust code may have clobbered errno: set it for the caller.
            e.set();
            MTP_REACTOR_ERR_SYS
        }
    }
}

/// A new reactor (epoll instance, wake-up fd, empty timer set), or NULL if
/// the system refused. Release with `mtp_reactor_free`.
#[no_mangle]
pub extern "C" fn mtp_reactor_new() -> *mut mtp_reactor {
    match Reactor::new() {
        Ok(reactor) => {
            let waker = reactor.waker();
            let owned = Owned {
                reactor,
                scratch: Vec::new(),
            };
            Box::into_raw(Box::new(mtp_reactor { owned, waker }))
        }
        Err(e) => {
            e.set();
            std::ptr::null_mut()
        }
    }
}

/// Releases a reactor; registered fds are not closed. NULL does nothing.
///
/// # Safety
/// `reactor` must be NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_free(reactor: *mut mtp_reactor) {
    if !reactor.is_null() {
        // SAFETY: a live handle from `mtp_reactor_new` (Box::into_raw),
        // released once and not used afterwards, by the caller's contract.
        drop(unsafe { Box::from_raw(reactor) });
    }
}

/// Watches `fd` edge-triggered for read, write and close, reporting
/// `token`. Readiness is reported once per edge: the caller reads / writes
/// until EAGAIN before waiting again. Returns 0, `MTP_REACTOR_ERR_ARG` or
/// `MTP_REACTOR_ERR_SYS` (e.g. the fd is already watched).
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_add(reactor: *mut mtp_reactor, fd: i32, token: u64) -> i32 {
    // SAFETY: NULL or a live handle used by its owner thread only.
    let reactor = unsafe { owner(reactor) };
    // SAFETY: the caller passes an open fd (or gets EBADF).
    let fd = unsafe { borrowed(fd) };
    match (reactor, fd) {
        (Some(owned), Some(fd)) => status(owned.reactor.add(fd, token)),
        _ => MTP_REACTOR_ERR_ARG,
    }
}

/// Stops watching `fd` (call before closing it). Returns 0,
/// `MTP_REACTOR_ERR_ARG` or `MTP_REACTOR_ERR_SYS`.
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_remove(reactor: *mut mtp_reactor, fd: i32) -> i32 {
    // SAFETY: NULL or a live handle used by its owner thread only.
    let reactor = unsafe { owner(reactor) };
    // SAFETY: the caller removes fds before closing them (or gets EBADF).
    let fd = unsafe { borrowed(fd) };
    match (reactor, fd) {
        (Some(owned), Some(fd)) => status(owned.reactor.remove(fd)),
        _ => MTP_REACTOR_ERR_ARG,
    }
}

/// Arms a one-shot timer: after at least `delay_ms` milliseconds a wait
/// reports `(token, MTP_EV_TIMER)`. Returns a nonzero timer id for
/// `mtp_reactor_cancel`, or 0 for a NULL reactor. Timers with equal
/// deadlines fire in the order they were armed.
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_timer(
    reactor: *mut mtp_reactor,
    token: u64,
    delay_ms: u64,
) -> u64 {
    // SAFETY: NULL or a live handle used by its owner thread only.
    match unsafe { owner(reactor) } {
        Some(owned) => owned.reactor.timer(token, delay_ms),
        None => 0,
    }
}

/// Cancels a pending timer: 1 if it was pending, 0 if it already fired,
/// was cancelled or never existed (or the reactor is NULL).
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_cancel(reactor: *mut mtp_reactor, timer_id: u64) -> i32 {
    // SAFETY: NULL or a live handle used by its owner thread only.
    match unsafe { owner(reactor) } {
        Some(owned) => i32::from(owned.reactor.cancel(timer_id)),
        None => 0,
    }
}

/// Waits until at least one fd is ready, a timer expires, a wake arrives or
/// `timeout_ms` passes (-1: no limit but the timers), then writes up to
/// `cap` events to `out` and returns how many (0 on timeout or EINTR).
/// Expired timers are reported after the fd events of the same round; those
/// beyond `cap` stay pending for the next call. Never busy-polls: with
/// nothing armed it sleeps in the kernel. Returns `MTP_REACTOR_ERR_ARG` or
/// `MTP_REACTOR_ERR_SYS` on failure.
///
/// # Safety
/// `reactor` must be NULL or a live handle; `out` must point to `cap`
/// writable events.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_wait(
    reactor: *mut mtp_reactor,
    out: *mut mtp_event,
    cap: usize,
    timeout_ms: i32,
) -> i32 {
    // SAFETY: NULL or a live handle used by its owner thread only.
    let Some(owned) = (unsafe { owner(reactor) }) else {
        return MTP_REACTOR_ERR_ARG;
    };
    if out.is_null() || cap == 0 {
        return MTP_REACTOR_ERR_ARG;
    }
    let cap = cap.min(MAX_EVENTS_PER_WAIT);
    if owned.scratch.len() < cap {
        owned.scratch.resize(cap, Event::default());
    }
    let events = &mut owned.scratch[..cap];
    let n = match owned.reactor.wait(events, timeout_ms) {
        Ok(n) => n,
        Err(e) => {
            e.set();
            return MTP_REACTOR_ERR_SYS;
        }
    };
    // SAFETY: `out` points to `cap` writable events by the caller's
    // contract, and n <= events.len() <= cap.
    let out = unsafe { std::slice::from_raw_parts_mut(out, n) };
    for (slot, event) in out.iter_mut().zip(&events[..n]) {
        *slot = mtp_event {
            token: event.token,
            events: event.events,
        };
    }
    // n <= MAX_EVENTS_PER_WAIT, which fits i32.
    n as i32
}

/// Makes the reactor's current or next wait return with a
/// `(0, MTP_EV_WAKE)` event. Safe to call from any thread, also
/// concurrently with the owner's calls; wakes before a wait coalesce.
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_wake(reactor: *const mtp_reactor) {
    if reactor.is_null() {
        return;
    }
    // SAFETY: a live handle; only `waker` is read, which the owner never
    // mutates after creation, so sharing it with the owner's calls is fine.
    let waker = unsafe { &*std::ptr::addr_of!((*reactor).waker) };
    waker.wake();
}

/// Milliseconds of the monotonic clock (CLOCK_MONOTONIC), the time base of
/// the timers.
#[no_mangle]
pub extern "C" fn mtp_reactor_now_ms() -> u64 {
    mtproxy_rt::reactor::now_ms()
}
