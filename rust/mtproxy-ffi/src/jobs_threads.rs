//! Contract of the jobs-threads module: the worker threads of the proxy
//! (upstream's job threads, reduced to what the proxy uses).
use std::ffi::c_void;
use std::sync::Arc;

use mtproxy_rt::jobs::Jobs;

/// The body of a worker: called once on its own thread with the `ctx`
/// given to `mtp_jobs_start` and the worker's index `0..workers`.
#[allow(non_camel_case_types)]
pub type mtp_job_entry = Option<unsafe extern "C" fn(ctx: *mut c_void, index: u32)>;

/// A set of running worker threads.
#[allow(non_camel_case_types)]
pub struct mtp_jobs(Jobs);

/// The caller's entry point and context, handed to every worker thread.
struct Entry {
    entry: unsafe extern "C" fn(ctx: *mut c_void, index: u32),
    ctx: *mut c_void,
}

// SAFETY: `mtp_jobs_start`'s contract makes `ctx` valid and safe to use from
// all the worker threads at once until `mtp_jobs_join` returned, and the
// workers are joined before that; `entry` is a plain function pointer.
unsafe impl Send for Entry {}
// SAFETY: as above (shared use of `ctx` is allowed by the contract).
unsafe impl Sync for Entry {}

impl Entry {
    fn call(&self, index: u32) {
        // SAFETY: `entry` and `ctx` as given to `mtp_jobs_start`, whose
        // contract allows this call from any worker thread.
        unsafe { (self.entry)(self.ctx, index) }
    }
}

/// Starts `workers` threads named `mtproxy-w<index>`, each calling
/// `entry(ctx, index)`. The threads block SIGINT, SIGTERM, SIGHUP, SIGUSR1
/// and SIGPIPE, so process signals reach the thread that started them.
/// Returns NULL if `workers` is 0, `entry` is NULL or a thread could not be
/// created (threads already started are joined first, so `entry` must
/// return on its own in that case).
///
/// # Safety
/// `ctx` must stay valid, and be safe to use from all the threads at once,
/// until `mtp_jobs_join` returns.
#[no_mangle]
pub unsafe extern "C" fn mtp_jobs_start(
    workers: u32,
    entry: mtp_job_entry,
    ctx: *mut c_void,
) -> *mut mtp_jobs {
    let Some(entry) = entry else {
        return std::ptr::null_mut();
    };
    let entry = Entry { entry, ctx };
    match mtproxy_rt::jobs::start(workers, Arc::new(move |index| entry.call(index))) {
        Ok(jobs) => Box::into_raw(Box::new(mtp_jobs(jobs))),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Waits until every worker's `entry` returned, then frees the set.
/// NULL does nothing.
///
/// # Safety
/// `jobs` must be NULL or a live handle from `mtp_jobs_start`, not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_jobs_join(jobs: *mut mtp_jobs) {
    if !jobs.is_null() {
        // SAFETY: a live handle from `mtp_jobs_start` (Box::into_raw),
        // joined once and not used afterwards, by the caller's contract.
        let jobs = unsafe { Box::from_raw(jobs) };
        jobs.0.join();
    }
}

/// The number of CPUs this process may run on (at least 1): the default
/// worker count.
#[no_mangle]
pub extern "C" fn mtp_jobs_cpu_count() -> u32 {
    mtproxy_rt::jobs::cpu_count()
}
