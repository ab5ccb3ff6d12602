use super::{expect_eq, Check};
use mtproxy_sys::c::jobs_threads;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub const CHECKS: &[Check] = &[
    ("every worker runs once with its index", || {
        let seen = Arc::new(AtomicU32::new(0));
        let record = Arc::clone(&seen);
        let jobs = jobs_threads::start(3, move |i| {
            record.fetch_or(1 << i, Ordering::SeqCst);
        })
        .ok_or("mtp_jobs_start returned NULL")?;
        jobs.join();
        expect_eq("indexes seen", seen.load(Ordering::SeqCst), 0b111)
    }),
    ("zero workers are refused; cpu count", || {
        expect_eq("start(0)", jobs_threads::start(0, |_| {}).is_none(), true)?;
        expect_eq("cpu count >= 1", jobs_threads::cpu_count() >= 1, true)
    }),
];
