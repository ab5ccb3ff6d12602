use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::kprintf::{format_log_line, log_level_enabled, parse_verbosity, LogError};

fn line(pid: i32, unix_usec: i64, msg: &[u8]) -> String {
    let mut buf = [0u8; 128];
    let n = format_log_line(&mut buf, pid, unix_usec, msg);
    String::from_utf8_lossy(buf.get(..n).unwrap_or(b"<too long>")).into_owned()
}

pub const CHECKS: &[Check] = &[
    ("timestamps", || {
        expect_eq(
            "epoch",
            line(1, 0, b"hi"),
            "[1][1970-01-01 00:00:00.000000 UTC] hi\n".into(),
        )?;
        expect_eq(
            "leap day",
            line(-5, 951_782_400_000_001, b""),
            "[-5][2000-02-29 00:00:00.000001 UTC] \n".into(),
        )?;
        expect_eq(
            "clamped",
            line(0, i64::MAX, b"x\n"),
            "[0][9999-12-31 23:59:59.999999 UTC] x\n".into(),
        )
    }),
    ("escaping and truncation", || {
        expect_eq(
            "escapes",
            line(1, 0, b"a\nb\x7f\n"),
            "[1][1970-01-01 00:00:00.000000 UTC] a\\x0ab\\x7f\n".into(),
        )?;
        let mut small = [0xffu8; 4];
        let n = format_log_line(&mut small, 1, 0, b"hi");
        expect_eq("truncated", (n, small), (39, *b"[1]\0"))?;
        // SAFETY: a null output with a nonzero cap counts as cap 0.
        let needed =
            unsafe { raw::mtp_log_format_line(std::ptr::null_mut(), 9, 1, 0, b"hi".as_ptr(), 2) };
        expect_eq("null output", needed, 39)
    }),
    ("levels", || {
        expect_eq(
            "enabled",
            (log_level_enabled(2, 2), log_level_enabled(2, 3)),
            (true, false),
        )?;
        expect_eq("parse", parse_verbosity(b"7"), Ok(7))?;
        expect_eq(
            "parse bad",
            parse_verbosity(b"10"),
            Err(LogError::BAD_LEVEL),
        )
    }),
];
