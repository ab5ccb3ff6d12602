use super::{expect_eq, Check};
use mtproxy_sys::c::precise_time;

pub const CHECKS: &[Check] = &[
    ("32.32 conversion", || {
        expect_eq(
            "1.5 s",
            precise_time::precise_time_from_parts(1, 500_000_000),
            3 << 31,
        )?;
        expect_eq(
            "floor of -1 ns",
            precise_time::precise_time_from_parts(0, -1),
            -5,
        )
    }),
    ("clocks agree", || {
        let (now, double, precise) = (
            precise_time::now(),
            precise_time::get_double_time(),
            precise_time::get_precise_time(),
        );
        let apart = (double - f64::from(now))
            .abs()
            .max(((precise >> 32) - i64::from(now)).abs() as f64);
        expect_eq("realtime readings within 2 s", apart < 2.0, true)
    }),
    ("monotonic", || {
        let first = precise_time::get_utime_monotonic();
        let second = precise_time::get_utime_monotonic();
        expect_eq(
            "positive and not going back",
            first > 0.0 && second >= first,
            true,
        )
    }),
];
