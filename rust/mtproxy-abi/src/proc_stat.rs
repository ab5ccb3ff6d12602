//! Plain data of the proc-stat contract (see the shim in mtproxy-ffi for
//! the functions): its error codes and the stat struct, with its conversion
//! from the core type.
use mtproxy_core::common::proc_stat::{self, ProcStat};

/// Malformed, truncated or out-of-range text.
pub const MTP_PROC_ERR_SYNTAX: i32 = -1;
/// The status key is absent.
pub const MTP_PROC_ERR_NOT_FOUND: i32 = -2;
/// A /proc file could not be read.
pub const MTP_PROC_ERR_IO: i32 = -3;
/// A required pointer was NULL.
pub const MTP_PROC_ERR_ARG: i32 = -4;

const _: () = assert!(
    MTP_PROC_ERR_SYNTAX == proc_stat::ERR_SYNTAX
        && MTP_PROC_ERR_NOT_FOUND == proc_stat::ERR_NOT_FOUND
        && MTP_PROC_ERR_IO == proc_stat::ERR_IO
);

/// Fields of `/proc/<pid>/stat` (proc(5) numbers: pid 1, state 3, ppid 4,
/// utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24).
/// `state` is the state letter's byte value; times are in clock ticks; `rss`
/// is in pages.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_proc_stat {
    pub pid: i32,
    pub state: i32,
    pub ppid: i32,
    pub num_threads: i32,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub start_ticks: u64,
    pub vsize_bytes: u64,
    pub rss_pages: i64,
}

impl From<ProcStat> for mtp_proc_stat {
    fn from(s: ProcStat) -> Self {
        mtp_proc_stat {
            pid: s.pid,
            state: s.state,
            ppid: s.ppid,
            num_threads: s.num_threads,
            utime_ticks: s.utime_ticks,
            stime_ticks: s.stime_ticks,
            start_ticks: s.start_ticks,
            vsize_bytes: s.vsize_bytes,
            rss_pages: s.rss_pages,
        }
    }
}
