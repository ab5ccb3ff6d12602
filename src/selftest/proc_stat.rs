use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::proc_stat;

pub const CHECKS: &[Check] = &[
    ("stat line", || {
        let line =
            b"42 (a) b)) S 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 3 0 99 4096 5 18446744073709551615\n";
        let stat = proc_stat::parse_proc_stat(line).map(|s| {
            (
                s.pid,
                s.state,
                s.ppid,
                s.num_threads,
                s.utime_ticks,
                s.stime_ticks,
                s.start_ticks,
                s.vsize_bytes,
                s.rss_pages,
            )
        });
        expect_eq(
            "fields",
            stat,
            Ok((42, i32::from(b'S'), 1, 3, 7, 8, 99, 4096, 5)),
        )?;
        let cut = proc_stat::parse_proc_stat(&line[..40]).map(|s| s.pid);
        expect_eq("truncated", cut, Err(proc_stat::ERR_SYNTAX))
    }),
    ("status values", || {
        let text = b"Name:\tx\nVmRSS:\t    1952 kB\n";
        expect_eq(
            "VmRSS",
            proc_stat::parse_status_kb(text, b"VmRSS"),
            Ok(1952 * 1024),
        )?;
        expect_eq(
            "VmSize",
            proc_stat::parse_status_kb(text, b"VmSize"),
            Err(proc_stat::ERR_NOT_FOUND),
        )
    }),
    ("this process", || {
        let me = proc_stat::read_proc_self().map_err(|e| format!("read_proc_self: error {e}"))?;
        expect_eq("pid", me.stat.pid, std::process::id() as i32)?;
        expect_eq(
            "sizes positive",
            me.vm_rss_bytes > 0 && me.vm_size_bytes > 0,
            true,
        )
    }),
    ("null pointers", || {
        // SAFETY: the contract allows NULL outputs (it reports ERR_ARG).
        let rc = unsafe {
            raw::mtp_read_proc_self(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        expect_eq("read_proc_self(NULL)", rc, raw::MTP_PROC_ERR_ARG)
    }),
];
