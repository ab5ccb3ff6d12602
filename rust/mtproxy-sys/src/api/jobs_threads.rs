// Safe wrappers for the jobs-threads contract (worker threads).

/// Running workers; dropping joins them.
pub struct Jobs {
    handle: Option<core::ptr::NonNull<ffi::mtp_jobs>>,
    // The workers' `ctx`; freed only after every worker returned (join).
    body: *mut Box<dyn Fn(u32) + Send + Sync>,
}

// SAFETY: joining may happen on any thread; `body` is only freed after the
// workers that use it have returned.
unsafe impl Send for Jobs {}

unsafe extern "C" fn run_body(ctx: *mut core::ffi::c_void, index: u32) {
    // SAFETY: `ctx` is the `Box<Box<dyn Fn>>` made by `start`, alive until
    // `join` returned; the closure is Sync, so shared calls are fine.
    let body = unsafe { &*(ctx as *const Box<dyn Fn(u32) + Send + Sync>) };
    body(index);
}

/// Starts `workers` threads running `body(index)`. `None` if the contract
/// refused (0 workers, thread creation failed). A panic in `body` aborts
/// the process (it cannot unwind through the contract).
pub fn start(workers: u32, body: impl Fn(u32) + Send + Sync + 'static) -> Option<Jobs> {
    let boxed: Box<Box<dyn Fn(u32) + Send + Sync>> = Box::new(Box::new(body));
    let ctx = Box::into_raw(boxed);
    // SAFETY: `run_body` matches `mtp_job_entry`; `ctx` stays valid until
    // join (or is freed below if nothing started).
    let raw = unsafe { ffi::mtp_jobs_start(workers, Some(run_body), ctx.cast()) };
    match core::ptr::NonNull::new(raw) {
        Some(handle) => Some(Jobs {
            handle: Some(handle),
            body: ctx,
        }),
        None => {
            // SAFETY: no worker is running (the contract joined any started
            // ones), so the closure can be freed.
            drop(unsafe { Box::from_raw(ctx) });
            None
        }
    }
}

impl Jobs {
    /// Waits for every worker to return.
    pub fn join(mut self) {
        self.join_inner();
    }

    fn join_inner(&mut self) {
        if let Some(handle) = self.handle.take() {
            // SAFETY: a live handle from `mtp_jobs_start`, joined once.
            unsafe { ffi::mtp_jobs_join(handle.as_ptr()) };
            // SAFETY: every worker returned; `body` came from Box::into_raw.
            drop(unsafe { Box::from_raw(self.body) });
        }
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.join_inner();
    }
}

/// CPUs this process may run on (at least 1).
#[inline]
pub fn cpu_count() -> u32 {
    // SAFETY: no arguments.
    unsafe { ffi::mtp_jobs_cpu_count() }
}
