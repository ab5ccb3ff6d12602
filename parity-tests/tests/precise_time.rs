//! precise-time: C vs Rust on the 32.32 conversion (exact) and on live clock
//! readings taken back to back (close, monotonic never decreasing).
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::precise_time as cc;
use rust::common::precise_time as rc;

/// Readings of one clock by the two sides, taken back to back, may differ by
/// this much (seconds).
const CLOSE: f64 = 0.05;

#[test]
fn known_answers_both_sides() {
    for (sec, nsec, want) in [
        (0i64, 0i64, 0i64),
        (1, 0, 1 << 32),
        (0, 500_000_000, 1 << 31),
        (0, 250_000_000, 1 << 30),
        (0, 1, 4), // floor(2^32 / 1e9) = 4
        (0, 999_999_999, 4_294_967_291),
        (1_700_000_000, 0, 1_700_000_000 << 32),
        (-1, 0, -(1 << 32)),
        (1, -500_000_000, 1 << 31),
        (0, -1, -5), // one second back, plus 4_294_967_291
        (0, 3_500_000_000, (3 << 32) + (1 << 31)),
        (1 << 31, 0, i64::MIN),
    ] {
        assert_eq!(
            cc::precise_time_from_parts(sec, nsec),
            want,
            "C ({sec}, {nsec})"
        );
        assert_eq!(
            rc::precise_time_from_parts(sec, nsec),
            want,
            "Rust ({sec}, {nsec})"
        );
    }
}

#[test]
fn extremes_wrap_the_same_way() {
    let values = [
        i64::MIN,
        i64::MIN + 1,
        -(1 << 32),
        -(1 << 31) - 1,
        -1_000_000_001,
        -1_000_000_000,
        -999_999_999,
        -1,
        0,
        1,
        999_999_999,
        1_000_000_000,
        1_000_000_001,
        (1 << 31) - 1,
        1 << 31,
        1 << 32,
        i64::MAX - 1,
        i64::MAX,
    ];
    for sec in values {
        for nsec in values {
            assert_eq!(
                cc::precise_time_from_parts(sec, nsec),
                rc::precise_time_from_parts(sec, nsec),
                "({sec}, {nsec})"
            );
        }
    }
}

#[test]
fn realtime_readings_are_close() {
    for _ in 0..100 {
        let (c_double, r_double) = (cc::get_double_time(), rc::get_double_time());
        assert!(
            (c_double - r_double).abs() < CLOSE,
            "{c_double} vs {r_double}"
        );
        let (c_precise, r_precise) = (cc::get_precise_time(), rc::get_precise_time());
        let apart = (c_precise.wrapping_sub(r_precise) as f64 / 2f64.powi(32)).abs();
        assert!(apart < CLOSE, "precise times {apart} s apart");
        assert!((c_precise as f64 / 2f64.powi(32) - c_double).abs() < CLOSE);
        // Whole seconds: equal unless a second boundary falls in between.
        let (c_now, r_now) = (cc::now(), rc::now());
        assert!(
            (r_now - c_now) == 0 || (r_now - c_now) == 1,
            "{c_now} then {r_now}"
        );
        assert!((f64::from(c_now) - c_double).abs() < 1.0 + CLOSE);
    }
}

#[test]
fn monotonic_readings_interleave_without_going_back() {
    let mut last = 0.0f64;
    for round in 0..200 {
        let readings = [
            cc::get_utime_monotonic(),
            rc::get_utime_monotonic(),
            cc::get_utime_monotonic(),
            rc::get_utime_monotonic(),
        ];
        for r in readings {
            assert!(r >= last, "round {round}: {r} after {last}");
            assert!(
                r - last < CLOSE || last == 0.0,
                "round {round}: jump {last} -> {r}"
            );
            last = r;
        }
    }
    assert!(last > 0.0);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn from_parts_matches_on_any_input(sec in any::<i64>(), nsec in any::<i64>()) {
        prop_assert_eq!(cc::precise_time_from_parts(sec, nsec), rc::precise_time_from_parts(sec, nsec));
    }

    #[test]
    fn from_parts_matches_near_real_times(sec in -(1i64 << 33)..(1i64 << 33), nsec in -3_000_000_000i64..3_000_000_000) {
        let c_out = cc::precise_time_from_parts(sec, nsec);
        prop_assert_eq!(c_out, rc::precise_time_from_parts(sec, nsec));
        // The model in exact arithmetic, then wrapped to 64 bits.
        let exact = i128::from(sec) * (1i128 << 32) + (i128::from(nsec) << 32).div_euclid(1_000_000_000);
        prop_assert_eq!(c_out, exact as i64);
    }
}
