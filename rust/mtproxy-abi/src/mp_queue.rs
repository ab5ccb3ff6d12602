//! Plain data of the mp-queue contract (see the shim in mtproxy-ffi for the
//! functions): its codes and limits.
use mtproxy_core::common::mp_queue;

/// The queue was full; nothing was stored.
pub const MTP_MPQ_FULL: i32 = -1;
/// The queue was empty; nothing was written.
pub const MTP_MPQ_EMPTY: i32 = -2;
/// A required pointer argument was NULL.
pub const MTP_MPQ_ERR_ARG: i32 = -3;
/// The largest capacity `mtp_mpq_new` accepts (2^24).
pub const MTP_MPQ_MAX_CAPACITY: i32 = mp_queue::MAX_CAPACITY as i32;
