//! Contract of the mp-queue module: a bounded lock-free multi-producer
//! multi-consumer FIFO queue of 64-bit values.
use mtproxy_core::common::mp_queue::MpQueue;

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::mp_queue::*;

/// A queue handle. push, pop, len and capacity may be called on one handle
/// from any number of threads at once.
#[allow(non_camel_case_types)]
pub struct mtp_mpq(MpQueue);

/// A new empty queue for `capacity` values, rounded up to a power of two
/// (at least 2). NULL if `capacity` is 0 or above MTP_MPQ_MAX_CAPACITY.
/// Release it with `mtp_mpq_free`.
#[no_mangle]
pub extern "C" fn mtp_mpq_new(capacity: usize) -> *mut mtp_mpq {
    match MpQueue::new(capacity) {
        Some(queue) => Box::into_raw(Box::new(mtp_mpq(queue))),
        None => std::ptr::null_mut(),
    }
}

/// Appends `value`: 0, or MTP_MPQ_FULL (nothing stored), or MTP_MPQ_ERR_ARG
/// for a NULL queue. With pops running concurrently, FULL may be reported
/// while a pop is freeing a slot.
///
/// # Safety
/// `queue` must be NULL or a live handle from `mtp_mpq_new`.
#[no_mangle]
pub unsafe extern "C" fn mtp_mpq_push(queue: *mut mtp_mpq, value: u64) -> i32 {
    // SAFETY: null or live by the caller's contract; only shared access.
    let Some(queue) = (unsafe { queue.as_ref() }) else {
        return MTP_MPQ_ERR_ARG;
    };
    match queue.0.push(value) {
        Ok(()) => 0,
        Err(_) => MTP_MPQ_FULL,
    }
}

/// Removes the oldest value into `*out`: 0, or MTP_MPQ_EMPTY (`*out`
/// untouched), or MTP_MPQ_ERR_ARG if `queue` or `out` is NULL (nothing
/// removed).
///
/// # Safety
/// `queue` must be NULL or a live handle from `mtp_mpq_new`; `out` must be
/// NULL or point to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn mtp_mpq_pop(queue: *mut mtp_mpq, out: *mut u64) -> i32 {
    // SAFETY: null or valid by the caller's contract; only shared access to
    // the queue, exclusive access to `*out`.
    let (Some(queue), Some(out)) = (unsafe { queue.as_ref() }, unsafe { out.as_mut() }) else {
        return MTP_MPQ_ERR_ARG;
    };
    match queue.0.pop() {
        Some(value) => {
            *out = value;
            0
        }
        None => MTP_MPQ_EMPTY,
    }
}

/// How many values the queue holds at most (0 for NULL).
///
/// # Safety
/// `queue` must be NULL or a live handle from `mtp_mpq_new`.
#[no_mangle]
pub unsafe extern "C" fn mtp_mpq_capacity(queue: *const mtp_mpq) -> usize {
    // SAFETY: null or live by the caller's contract.
    unsafe { queue.as_ref() }.map_or(0, |q| q.0.capacity())
}

/// How many values are queued (0 for NULL): exact while no push or pop runs
/// concurrently, a recent value never above the capacity otherwise.
///
/// # Safety
/// `queue` must be NULL or a live handle from `mtp_mpq_new`.
#[no_mangle]
pub unsafe extern "C" fn mtp_mpq_len(queue: *const mtp_mpq) -> usize {
    // SAFETY: null or live by the caller's contract.
    unsafe { queue.as_ref() }.map_or(0, |q| q.0.len())
}

/// Releases a queue and any values still in it; NULL does nothing.
///
/// # Safety
/// `queue` must be NULL or a handle from `mtp_mpq_new` that no other thread
/// is using and that is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_mpq_free(queue: *mut mtp_mpq) {
    if !queue.is_null() {
        // SAFETY: the handle came from Box::into_raw in mtp_mpq_new and is
        // given back exactly once, unused elsewhere (caller's contract).
        drop(unsafe { Box::from_raw(queue) });
    }
}
