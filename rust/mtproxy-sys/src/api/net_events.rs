// Safe wrappers for the net-events contract (the reactor).

pub use crate::bindings::mtp_event as Event;

/// The handle, freed when the reactor and all its wakers are gone.
struct Handle(core::ptr::NonNull<ffi::mtp_reactor>);

// SAFETY: the handle may be released from any thread, and the only call
// made through a shared `Handle` from other threads is `mtp_reactor_wake`,
// which the contract allows concurrently with the owner's calls.
unsafe impl Send for Handle {}
// SAFETY: as above; all other calls need `&mut Reactor`.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the last owner of a live handle releases it once.
        unsafe { ffi::mtp_reactor_free(self.0.as_ptr()) }
    }
}

/// A reactor, used by one thread at a time (it may move between threads).
pub struct Reactor {
    handle: std::sync::Arc<Handle>,
}

/// Wakes a reactor from any thread; keeps the reactor's handle alive.
#[derive(Clone)]
pub struct Waker {
    handle: std::sync::Arc<Handle>,
}

impl Reactor {
    /// `None` if the system refused (epoll / eventfd creation failed).
    #[inline]
    pub fn new() -> Option<Reactor> {
        // SAFETY: no arguments; an owned handle or NULL comes back.
        let raw = unsafe { ffi::mtp_reactor_new() };
        core::ptr::NonNull::new(raw).map(|h| Reactor {
            handle: std::sync::Arc::new(Handle(h)),
        })
    }

    /// Watches `fd` edge-triggered for read, write and close; `Err` holds
    /// the contract's error code.
    #[inline]
    pub fn add(&mut self, fd: std::os::fd::RawFd, token: u64) -> Result<(), i32> {
        // SAFETY: live handle, exclusive use through `&mut self`.
        match unsafe { ffi::mtp_reactor_add(self.handle.0.as_ptr(), fd, token) } {
            0 => Ok(()),
            e => Err(e),
        }
    }

    #[inline]
    pub fn remove(&mut self, fd: std::os::fd::RawFd) -> Result<(), i32> {
        // SAFETY: live handle, exclusive use through `&mut self`.
        match unsafe { ffi::mtp_reactor_remove(self.handle.0.as_ptr(), fd) } {
            0 => Ok(()),
            e => Err(e),
        }
    }

    /// Arms a one-shot timer; returns its id (nonzero).
    #[inline]
    pub fn timer(&mut self, token: u64, delay_ms: u64) -> u64 {
        // SAFETY: live handle, exclusive use through `&mut self`.
        unsafe { ffi::mtp_reactor_timer(self.handle.0.as_ptr(), token, delay_ms) }
    }

    /// True if the timer was pending and is now cancelled.
    #[inline]
    pub fn cancel(&mut self, timer_id: u64) -> bool {
        // SAFETY: live handle, exclusive use through `&mut self`.
        unsafe { ffi::mtp_reactor_cancel(self.handle.0.as_ptr(), timer_id) == 1 }
    }

    /// Waits for events (see `mtp_reactor_wait`); fills `out` from the
    /// start and returns how many were written.
    #[inline]
    pub fn wait(&mut self, out: &mut [Event], timeout_ms: i32) -> Result<usize, i32> {
        // SAFETY: live handle, exclusive use; `out` is `out.len()` writable
        // events.
        let n = unsafe {
            ffi::mtp_reactor_wait(
                self.handle.0.as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                timeout_ms,
            )
        };
        usize::try_from(n).map_err(|_| n)
    }

    /// A handle other threads can wake this reactor with.
    #[inline]
    pub fn waker(&self) -> Waker {
        Waker {
            handle: self.handle.clone(),
        }
    }
}

impl Waker {
    #[inline]
    pub fn wake(&self) {
        // SAFETY: the handle is live while any Arc holder exists; wake is
        // allowed from any thread.
        unsafe { ffi::mtp_reactor_wake(self.handle.0.as_ptr()) }
    }
}

/// The reactor's monotonic clock in milliseconds.
#[inline]
pub fn now_ms() -> u64 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_reactor_now_ms() }
}
