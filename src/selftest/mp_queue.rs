use super::{expect_eq, Check};
use mtproxy_sys::bindings as ffi;
use mtproxy_sys::c::mp_queue::MpQueue;

const VALUES: [u64; 8] = [0, 1, 2, 0xdead_beef, u64::MAX, 1 << 63, 77, 5];

/// A queue asked for 5 slots gets 8; filled with [`VALUES`].
fn full_queue() -> Result<MpQueue, String> {
    let q = MpQueue::new(5).ok_or("new(5) returned NULL")?;
    expect_eq("capacity of new(5)", q.capacity(), 8)?;
    for v in VALUES {
        expect_eq("push", q.push(v), Ok(()))?;
    }
    expect_eq("len when full", q.len(), 8)?;
    Ok(q)
}

pub const CHECKS: &[Check] = &[
    ("create", || {
        expect_eq("new(0)", MpQueue::new(0).is_none(), true)?;
        expect_eq("new(2^24 + 1)", MpQueue::new((1 << 24) + 1).is_none(), true)?;
        let q = MpQueue::new(1).ok_or("new(1) returned NULL")?;
        expect_eq("capacity of new(1)", q.capacity(), 2)?;
        expect_eq("len of a new queue", q.len(), 0)
    }),
    ("fill and full", || {
        let q = full_queue()?;
        expect_eq("push when full", q.push(9), Err(9))
    }),
    ("drain in order and empty", || {
        let q = full_queue()?;
        for v in VALUES {
            expect_eq("pop", q.pop(), Some(v))?;
        }
        expect_eq("pop when empty", q.pop(), None)?;
        expect_eq("len when drained", q.len(), 0)
    }),
    ("null arguments", || {
        let mut out = 3u64;
        // SAFETY: NULL handles, a NULL `out` and mtp_mpq_free(NULL) are
        // allowed by the contract; `q` is live until the final free; `out`
        // is a writable u64.
        let (codes, len_after) = unsafe {
            ffi::mtp_mpq_free(std::ptr::null_mut());
            let q = ffi::mtp_mpq_new(4);
            if q.is_null() {
                return Err("mtp_mpq_new(4) returned NULL".into());
            }
            let codes = [
                ffi::mtp_mpq_push(q, 5),
                ffi::mtp_mpq_push(std::ptr::null_mut(), 1),
                ffi::mtp_mpq_pop(std::ptr::null_mut(), &mut out),
                ffi::mtp_mpq_pop(q, std::ptr::null_mut()),
                ffi::mtp_mpq_capacity(std::ptr::null()) as i32,
                ffi::mtp_mpq_len(std::ptr::null()) as i32,
            ];
            let len_after = ffi::mtp_mpq_len(q);
            ffi::mtp_mpq_free(q);
            (codes, len_after)
        };
        let arg = ffi::MTP_MPQ_ERR_ARG;
        expect_eq("codes", codes, [0, arg, arg, arg, 0, 0])?;
        expect_eq("out untouched", out, 3)?;
        expect_eq("len after pop with NULL out", len_after, 1)
    }),
    ("free with values inside", || {
        // Dropping frees the handle with 8 values still queued.
        drop(full_queue()?);
        Ok(())
    }),
];
