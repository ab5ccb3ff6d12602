// Safe wrappers for the mp-queue contract; same API as
// mtproxy_core::common::mp_queue.

/// Owns one `mtp_mpq` handle; shared by reference between threads.
pub struct MpQueue {
    handle: core::ptr::NonNull<ffi::mtp_mpq>,
}

// SAFETY: the contract allows a handle to be used and released from any
// thread.
unsafe impl Send for MpQueue {}
// SAFETY: push, pop, len and capacity are safe to call concurrently on one
// handle (the contract); nothing here needs `&mut`.
unsafe impl Sync for MpQueue {}

impl MpQueue {
    #[inline]
    pub fn new(capacity: usize) -> Option<MpQueue> {
        // SAFETY: plain value in, owned handle (or NULL) out.
        let raw = unsafe { ffi::mtp_mpq_new(capacity) };
        core::ptr::NonNull::new(raw).map(|handle| MpQueue { handle })
    }

    #[inline]
    pub fn push(&self, value: u64) -> Result<(), u64> {
        // SAFETY: `handle` is live until drop.
        match unsafe { ffi::mtp_mpq_push(self.handle.as_ptr(), value) } {
            0 => Ok(()),
            _ => Err(value),
        }
    }

    #[inline]
    pub fn pop(&self) -> Option<u64> {
        let mut value = 0u64;
        // SAFETY: `handle` is live until drop; `value` is a writable u64.
        match unsafe { ffi::mtp_mpq_pop(self.handle.as_ptr(), &mut value) } {
            0 => Some(value),
            _ => None,
        }
    }

    #[inline]
    pub fn capacity(&self) -> usize {
        // SAFETY: `handle` is live until drop.
        unsafe { ffi::mtp_mpq_capacity(self.handle.as_ptr()) }
    }

    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: `handle` is live until drop.
        unsafe { ffi::mtp_mpq_len(self.handle.as_ptr()) }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for MpQueue {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the handle came from mtp_mpq_new, `&mut self` means no
        // other thread uses it, and it is never used again.
        unsafe { ffi::mtp_mpq_free(self.handle.as_ptr()) }
    }
}
