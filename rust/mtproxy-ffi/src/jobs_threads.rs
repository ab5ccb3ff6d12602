//! Contract of the jobs-threads module: the worker threads of the proxy
//! (upstream's job threads, reduced to what the proxy uses).
use std::ffi::c_void;

/// The body of a worker: called once on its own thread with the `ctx`
/// given to `mtp_jobs_start` and the worker's index `0..workers`.
pub type mtp_job_entry = Option<unsafe extern "C" fn(ctx: *mut c_void, index: u32)>;

/// A set of running worker threads.
#[allow(non_camel_case_types)]
pub struct mtp_jobs(c_void);

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
    let _ = (workers, entry, ctx);
    unimplemented!()
}

/// Waits until every worker's `entry` returned, then frees the set.
/// NULL does nothing.
///
/// # Safety
/// `jobs` must be NULL or a live handle from `mtp_jobs_start`, not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_jobs_join(jobs: *mut mtp_jobs) {
    let _ = jobs;
    unimplemented!()
}

/// The number of CPUs this process may run on (at least 1): the default
/// worker count.
#[no_mangle]
pub extern "C" fn mtp_jobs_cpu_count() -> u32 {
    unimplemented!()
}
