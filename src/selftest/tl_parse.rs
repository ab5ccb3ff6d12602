use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::tl_parse::{TlError, TlReader, TlWriter};

pub const CHECKS: &[Check] = &[
    ("write then read", || {
        let mut buf = [0u8; 32];
        let mut w = TlWriter::new(&mut buf);
        w.store_int(0x1234_5678)
            .map_err(|e| format!("store_int: {e:?}"))?;
        w.store_string(b"hello")
            .map_err(|e| format!("store_string: {e:?}"))?;
        w.store_long(-2).map_err(|e| format!("store_long: {e:?}"))?;
        expect_eq(
            "store overflow",
            w.store_raw(&[0; 13]),
            Err(TlError::OVERFLOW),
        )?;
        expect_eq("string bytes", &w.written()[4..12], b"\x05hello\0\0")?;
        let mut r = TlReader::new(w.written());
        expect_eq("remaining", r.remaining(), 20)?;
        expect_eq("int", r.fetch_int(), Ok(0x1234_5678))?;
        expect_eq("string", r.fetch_string(), Ok(5..10))?;
        expect_eq("long", r.fetch_long(), Ok(-2))?;
        expect_eq("end", r.fetch_end(), Ok(()))
    }),
    ("long strings and bad prefixes", || {
        let mut r = TlReader::new(b"\xfe\x02\x00\x00xy\x00\x00\xff\x00\x00\x00");
        expect_eq("long form", r.fetch_string(), Ok(4..6))?;
        expect_eq("0xff", r.fetch_string(), Err(TlError::BAD_STRING))?;
        expect_eq("sticky", r.skip(0), Err(TlError::BAD_STRING))?;
        expect_eq("state", (r.position(), r.error_code()), (8, -2))
    }),
    ("huge lengths and null arguments", || {
        let data = [1u8, 2, 3, 4];
        let mut r = TlReader::new(&data);
        expect_eq("skip usize::MAX", r.skip(usize::MAX), Err(TlError::SHORT))?;
        let mut state = raw::mtp_tl_in {
            data: data.as_ptr(),
            len: 4,
            pos: 1,
            error: 0,
        };
        let mut out = [0u8; 1];
        // SAFETY: the bounds check must refuse the length before `out` (one
        // byte) is written; null outputs are refused by contract.
        let codes = unsafe {
            [
                raw::mtp_tl_fetch_raw(&mut state, out.as_mut_ptr(), usize::MAX),
                raw::mtp_tl_fetch_int(std::ptr::null_mut(), std::ptr::null_mut()),
            ]
        };
        expect_eq("codes", codes, [-1, -6])?;
        expect_eq("state", (state.pos, state.error, out[0]), (1, -1, 0))?;
        state.error = 0;
        // SAFETY: a null output is refused by contract.
        let code = unsafe { raw::mtp_tl_fetch_string(&mut state, &mut 0, std::ptr::null_mut()) };
        expect_eq("null output", (code, state.error), (-6, -6))
    }),
];
