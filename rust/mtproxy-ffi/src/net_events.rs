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
use std::ffi::c_void;

/// The fd has bytes to read (or a pending connection, for a listener).
pub const MTP_EV_READ: u32 = 1;
/// The fd accepts writes again (or a connect finished).
pub const MTP_EV_WRITE: u32 = 2;
/// The peer hung up or the socket has an error; reads will return 0 / fail.
pub const MTP_EV_CLOSED: u32 = 4;
/// A timer set with `mtp_reactor_timer` expired (its token is reported).
pub const MTP_EV_TIMER: u32 = 8;
/// `mtp_reactor_wake` was called (token 0).
pub const MTP_EV_WAKE: u32 = 16;

/// A null handle or pointer, a negative fd, `cap` 0.
pub const MTP_REACTOR_ERR_ARG: i32 = -1;
/// The system call failed; `errno` tells why.
pub const MTP_REACTOR_ERR_SYS: i32 = -2;

/// One readiness report.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct mtp_event {
    /// The token given to `mtp_reactor_add` / `mtp_reactor_timer`; 0 for a wake.
    pub token: u64,
    /// `MTP_EV_*` bits.
    pub events: u32,
}

/// A reactor handle.
#[allow(non_camel_case_types)]
pub struct mtp_reactor(c_void);

/// A new reactor (epoll instance, wake-up fd, empty timer set), or NULL if
/// the system refused. Release with `mtp_reactor_free`.
#[no_mangle]
pub extern "C" fn mtp_reactor_new() -> *mut mtp_reactor {
    unimplemented!()
}

/// Releases a reactor; registered fds are not closed. NULL does nothing.
///
/// # Safety
/// `reactor` must be NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_free(reactor: *mut mtp_reactor) {
    let _ = reactor;
    unimplemented!()
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
    let _ = (reactor, fd, token);
    unimplemented!()
}

/// Stops watching `fd` (call before closing it). Returns 0,
/// `MTP_REACTOR_ERR_ARG` or `MTP_REACTOR_ERR_SYS`.
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_remove(reactor: *mut mtp_reactor, fd: i32) -> i32 {
    let _ = (reactor, fd);
    unimplemented!()
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
    let _ = (reactor, token, delay_ms);
    unimplemented!()
}

/// Cancels a pending timer: 1 if it was pending, 0 if it already fired,
/// was cancelled or never existed (or the reactor is NULL).
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_cancel(reactor: *mut mtp_reactor, timer_id: u64) -> i32 {
    let _ = (reactor, timer_id);
    unimplemented!()
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
    let _ = (reactor, out, cap, timeout_ms);
    unimplemented!()
}

/// Makes the reactor's current or next wait return with a
/// `(0, MTP_EV_WAKE)` event. Safe to call from any thread, also
/// concurrently with the owner's calls; wakes before a wait coalesce.
///
/// # Safety
/// `reactor` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_reactor_wake(reactor: *const mtp_reactor) {
    let _ = reactor;
    unimplemented!()
}

/// Milliseconds of the monotonic clock (CLOCK_MONOTONIC), the time base of
/// the timers.
#[no_mangle]
pub extern "C" fn mtp_reactor_now_ms() -> u64 {
    unimplemented!()
}
