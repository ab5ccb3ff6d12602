//! crc32: C vs Rust on random data, random stream splits and combines.
use parity_tests::{c, chunked, chunked_bytes, config, rust};
use proptest::prelude::*;

use c::crc32 as cc;
use rust::common::crc32 as rc;

#[test]
fn known_answers_both_sides() {
    // CRC-32/ISO-HDLC check value and a few fixed strings.
    for (input, want) in [
        (&b"123456789"[..], 0xcbf4_3926u32),
        (b"", 0),
        (b"a", 0xe8b7_be43),
        (b"The quick brown fox jumps over the lazy dog", 0x414f_a339),
    ] {
        assert_eq!(cc::compute_crc32(input), want, "C {input:?}");
        assert_eq!(rc::compute_crc32(input), want, "Rust {input:?}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_shot_matches(data in parity_tests::bytes(4096)) {
        prop_assert_eq!(cc::compute_crc32(&data), rc::compute_crc32(&data));
    }

    #[test]
    fn partial_from_any_state_matches(data in parity_tests::bytes(1024), state in any::<u32>()) {
        prop_assert_eq!(cc::crc32_partial(&data, state), rc::crc32_partial(&data, state));
    }

    #[test]
    fn streamed_equals_one_shot((data, cuts) in chunked_bytes(4096)) {
        let mut c_state = !0u32;
        let mut r_state = !0u32;
        for chunk in chunked(&data, &cuts) {
            c_state = cc::crc32_partial(chunk, c_state);
            r_state = rc::crc32_partial(chunk, r_state);
            prop_assert_eq!(c_state, r_state);
        }
        prop_assert_eq!(!c_state, rc::compute_crc32(&data));
    }

    #[test]
    fn combine_matches((data, cuts) in chunked_bytes(2048)) {
        let parts = chunked(&data, &cuts);
        let (a, b) = (parts[0], &data[parts[0].len()..]);
        let (ca, cb) = (rc::compute_crc32(a), rc::compute_crc32(b));
        let c_out = cc::crc32_combine(ca, cb, b.len() as u64);
        prop_assert_eq!(c_out, rc::crc32_combine(ca, cb, b.len() as u64));
        prop_assert_eq!(c_out, rc::compute_crc32(&data));
    }

    #[test]
    fn combine_huge_lengths_match(c1 in any::<u32>(), c2 in any::<u32>(), len in any::<u64>()) {
        prop_assert_eq!(cc::crc32_combine(c1, c2, len), rc::crc32_combine(c1, c2, len));
    }
}
