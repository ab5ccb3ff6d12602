//! kprintf: C vs Rust log lines (pid, UTC time, escaped message) on random
//! input and truncation, plus verbosity parsing.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::kprintf as ck;
use rust::common::kprintf as rk;

/// The full line one side formats (with a buffer large enough for it).
macro_rules! full_line {
    ($m:ident, $pid:expr, $usec:expr, $msg:expr) => {{
        let mut buf = vec![0u8; 4 * $msg.len() + 80];
        let n = $m::format_log_line(&mut buf, $pid, $usec, $msg);
        assert_eq!(buf[n], 0, "NUL after the line");
        buf.truncate(n);
        buf
    }};
}

#[test]
fn known_answers_both_sides() {
    let cases: &[(i32, i64, &[u8], &str)] = &[
        (1, 0, b"start", "[1][1970-01-01 00:00:00.000000 UTC] start\n"),
        (
            4242,
            951_782_400_000_000,
            b"leap day",
            "[4242][2000-02-29 00:00:00.000000 UTC] leap day\n",
        ),
        (
            -17,
            253_402_300_799_999_999,
            b"end\n",
            "[-17][9999-12-31 23:59:59.999999 UTC] end\n",
        ),
        (
            i32::MIN,
            i64::MAX,
            b"",
            "[-2147483648][9999-12-31 23:59:59.999999 UTC] \n",
        ),
        (7, -1, b"x", "[7][1970-01-01 00:00:00.000000 UTC] x\n"),
        (
            7,
            1_700_000_000_123_456,
            b"two\nlines\r\n\tok\x1b\x7f\xc3\xa9\n\n",
            "[7][2023-11-14 22:13:20.123456 UTC] two\\x0alines\\x0d\\x0a\tok\\x1b\\x7f\u{e9}\\x0a\n",
        ),
        (0, 68_169_600_000_000, b"", "[0][1972-02-29 00:00:00.000000 UTC] \n"),
        (0, 4_107_542_400_000_000, b"", "[0][2100-03-01 00:00:00.000000 UTC] \n"),
    ];
    for &(pid, usec, msg, want) in cases {
        assert_eq!(full_line!(ck, pid, usec, msg), want.as_bytes(), "C {want}");
        assert_eq!(
            full_line!(rk, pid, usec, msg),
            want.as_bytes(),
            "Rust {want}"
        );
    }
}

#[test]
fn calendar_days_match() {
    // Every day of 1970..2517 (leap years, the 2100/2200/2300 and 2400
    // century rules), then every 61st day up to 9999-12-31, at a varying
    // time of day: the two date algorithms (cycle walk in C, closed form in
    // Rust) must agree, and dates must increase.
    const LAST_DAY: i64 = 2_932_896; // 9999-12-31
    let days = (0..200_000i64)
        .chain((200_000..LAST_DAY).step_by(61))
        .chain([LAST_DAY]);
    let mut previous = String::new();
    let mut c_buf = [0u8; 64];
    let mut r_buf = [0u8; 64];
    for day in days {
        let usec = (day * 86_400 + day % 86_400) * 1_000_000;
        let n = ck::format_log_line(&mut c_buf, 0, usec, b"");
        assert_eq!(rk::format_log_line(&mut r_buf, 0, usec, b""), n);
        assert_eq!(c_buf[..n], r_buf[..n], "day {day}");
        let date = String::from_utf8(c_buf[4..14].to_vec()).unwrap();
        assert!(date > previous, "day {day}: {date} after {previous}");
        previous = date;
    }
    assert_eq!(previous, "9999-12-31");
}

#[test]
fn verbosity_both_sides() {
    for (s, want) in [
        (&b"0"[..], Ok(0)),
        (b"9", Ok(9)),
        (b"10", Err(-1)),
        (b"", Err(-1)),
        (b"-1", Err(-1)),
        (b"+1", Err(-1)),
        (b" 3", Err(-1)),
        (b"3\n", Err(-1)),
        (b"x", Err(-1)),
    ] {
        assert_eq!(
            ck::parse_verbosity(s).map_err(|e| e.code()),
            want,
            "C {s:?}"
        );
        assert_eq!(
            rk::parse_verbosity(s).map_err(|e| e.code()),
            want,
            "Rust {s:?}"
        );
    }
    for (v, l) in [(0, 0), (0, 1), (9, 3), (-1, -2), (i32::MIN, i32::MAX)] {
        assert_eq!(ck::log_level_enabled(v, l), l <= v);
        assert_eq!(rk::log_level_enabled(v, l), l <= v);
    }
}

#[test]
fn null_arguments_on_the_c_side() {
    use mtproxy_sys::bindings_cref as raw;
    use std::ptr::{null, null_mut};
    let mut level = 7;
    // SAFETY: null pointers are part of the contract (empty message, no
    // output, or MTP_LOG_ERR_ARG); nothing is dereferenced.
    let (needed, codes) = unsafe {
        (
            raw::mtp_log_format_line(null_mut(), 100, 1, 0, null(), 5),
            [
                raw::mtp_log_parse_verbosity(null(), 1, &mut level),
                raw::mtp_log_parse_verbosity(b"1".as_ptr(), 1, null_mut()),
            ],
        )
    };
    assert_eq!(needed, "[1][1970-01-01 00:00:00.000000 UTC] \n".len());
    assert_eq!((codes, level), ([-2, -2], 7));
}

/// Timestamps: anything, and plenty inside (and around) the valid range.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => any::<i64>(),
        3 => -1_000_000i64..=rk::MAX_UNIX_USEC + 1_000_000,
        1 => (0i64..=1_000_000).prop_map(|d| rk::MAX_UNIX_USEC - d),
    ]
}

/// Messages with plenty of control bytes and newlines.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => any::<u8>(),
        2 => 0u8..0x20,
        1 => Just(b'\n'),
        1 => Just(0x7f),
    ];
    proptest::collection::vec(byte, 0..120)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn lines_match(
        pid in any::<i32>(),
        usec in timestamp(),
        msg in message(),
        cap in 0usize..=200,
    ) {
        let mut c_buf = vec![0xa5u8; cap];
        let mut r_buf = vec![0xa5u8; cap];
        let c_len = ck::format_log_line(&mut c_buf, pid, usec, &msg);
        let r_len = rk::format_log_line(&mut r_buf, pid, usec, &msg);
        prop_assert_eq!(c_len, r_len);
        prop_assert_eq!(&c_buf, &r_buf);
        // The truncated output is a prefix of the full line, NUL-terminated,
        // and the full line has exactly one newline, at its end.
        let full = full_line!(rk, pid, usec, &msg);
        prop_assert_eq!(full.len(), c_len);
        prop_assert_eq!(full.iter().filter(|&&b| b == b'\n').count(), 1);
        prop_assert!(full.ends_with(b"\n"));
        if cap > 0 {
            let kept = c_len.min(cap - 1);
            prop_assert_eq!(&c_buf[..kept], &full[..kept]);
            prop_assert_eq!(c_buf[kept], 0);
            prop_assert!(c_buf[kept + 1..].iter().all(|&b| b == 0xa5));
        }
    }

    #[test]
    fn verbosity_matches(s in parity_tests::bytes(3), v in any::<i32>(), l in any::<i32>()) {
        prop_assert_eq!(
            ck::parse_verbosity(&s).map_err(|e| e.code()),
            rk::parse_verbosity(&s).map_err(|e| e.code())
        );
        prop_assert_eq!(ck::log_level_enabled(v, l), rk::log_level_enabled(v, l));
    }
}
