// Safe wrappers for the proc-stat contract; same API as
// mtproxy_core::common::proc_stat.

/// The contract's struct is the core's `repr(C)` type itself.
pub use mtproxy_core::common::proc_stat::ProcStat;
pub use mtproxy_core::common::proc_stat::{ERR_IO, ERR_NOT_FOUND, ERR_SYNTAX};

/// `/proc/self` in one reading (the three outputs of mtp_read_proc_self).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSelf {
    pub stat: ProcStat,
    pub vm_rss_bytes: i64,
    pub vm_size_bytes: i64,
}

#[inline]
pub fn parse_proc_stat(text: &[u8]) -> Result<ProcStat, i32> {
    let text = input(text);
    let mut out = ProcStat::default();
    // SAFETY: the pointer and length come from one live slice; `out` is writable.
    match unsafe { ffi::mtp_parse_proc_stat(text.as_ptr(), text.len(), &mut out) } {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn parse_status_kb(text: &[u8], key: &[u8]) -> Result<i64, i32> {
    let text = input(text);
    let key = input(key);
    let mut out = 0;
    // SAFETY: both pointer/length pairs come from live slices; `out` is writable.
    match unsafe {
        ffi::mtp_parse_status_kb(text.as_ptr(), text.len(), key.as_ptr(), key.len(), &mut out)
    } {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn read_proc_self() -> Result<ProcSelf, i32> {
    let mut me = ProcSelf::default();
    // SAFETY: the three outputs are live, writable fields.
    match unsafe {
        ffi::mtp_read_proc_self(&mut me.stat, &mut me.vm_rss_bytes, &mut me.vm_size_bytes)
    } {
        0 => Ok(me),
        code => Err(code),
    }
}
