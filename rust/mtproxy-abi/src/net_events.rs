//! Plain data of the net-events contract (ffi/include/mtp_net_events.h):
//! the `MTP_EV_*` readiness bits, the error codes and the event record.
//!
//! The reactor's own event type lives in mtproxy-rt, which depends on
//! mtproxy-sys and so on this crate: the conversion stays in the shim.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mtp_event {
    /// The token given to `mtp_reactor_add` / `mtp_reactor_timer`; 0 for a wake.
    pub token: u64,
    /// `MTP_EV_*` bits.
    pub events: u32,
}
