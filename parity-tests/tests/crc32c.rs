//! crc32c: C (SSE4.2 and table paths) vs Rust on random data, states and
//! stream splits, with lengths around the C side's interleaving thresholds.
use mtproxy_sys::bindings_cref as raw;
use parity_tests::{c, chunked, chunked_bytes, config, rust};
use proptest::prelude::*;

use c::crc32c as cc;
use rust::common::crc32c as rc;

/// Every implementation's partial CRC of `data` from `state`, all checked
/// equal: C hardware, C tables, Rust crate, Rust tables.
fn all_partials_agree(data: &[u8], state: u32) -> u32 {
    let want = rc::crc32c_partial(data, state);
    assert_eq!(
        cc::crc32c_partial(data, state),
        want,
        "C, len {}",
        data.len()
    );
    assert_eq!(
        cc::crc32c_partial_portable(data, state),
        want,
        "C tables, len {}",
        data.len()
    );
    assert_eq!(
        rc::crc32c_partial_portable(data, state),
        want,
        "Rust tables, len {}",
        data.len()
    );
    want
}

#[test]
fn known_answers_both_sides() {
    // CRC-32C check value and the iSCSI vectors of RFC 3720 B.4.
    let ascending: Vec<u8> = (0..32).collect();
    for (input, want) in [
        (&b"123456789"[..], 0xe306_9283u32),
        (&[0u8; 32][..], 0x8a91_36aa),
        (&[0xffu8; 32][..], 0x62a8_ab43),
        (&ascending[..], 0x46dd_794e),
        (b"", 0),
    ] {
        assert_eq!(cc::compute_crc32c(input), want, "C {input:?}");
        assert_eq!(rc::compute_crc32c(input), want, "Rust {input:?}");
        assert_eq!(
            !cc::crc32c_partial_portable(input, !0),
            want,
            "C tables {input:?}"
        );
        assert_eq!(
            !rc::crc32c_partial_portable(input, !0),
            want,
            "Rust tables {input:?}"
        );
    }
}

#[test]
fn null_empty_input_keeps_the_state() {
    for state in [0, !0, 0x1234_5678] {
        // SAFETY: a null pointer with length 0 is allowed by the contract.
        let (fast, portable, whole) = unsafe {
            (
                raw::mtp_crc32c_partial(std::ptr::null(), 0, state),
                raw::mtp_crc32c_partial_portable(std::ptr::null(), 0, state),
                raw::mtp_compute_crc32c(std::ptr::null(), 0),
            )
        };
        assert_eq!((fast, portable, whole), (state, state, 0));
        assert_eq!(rc::crc32c_partial(&[], state), state);
        assert_eq!(rc::crc32c_partial_portable(&[], state), state);
    }
}

#[test]
fn lengths_and_offsets_around_the_interleaving_thresholds() {
    // The C hardware path switches at 3 x 2048 and 3 x 256 bytes, then runs
    // 8-byte words and single bytes; unaligned starts take the same paths.
    let data = spread_bytes(3 * 3 * 2048 + 64);
    let mut lengths = vec![0, 1, 7, 8, 9, 15, 16, 17];
    for base in [3 * 256, 2 * 3 * 256, 3 * 2048, 2 * 3 * 2048 + 3 * 256] {
        lengths.extend((base - 9)..=(base + 9));
    }
    for offset in 0..8 {
        for &len in &lengths {
            all_partials_agree(&data[offset..offset + len], 0x9e37_79b9);
        }
    }
}

fn spread_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_shot_matches(data in parity_tests::bytes(20_000)) {
        prop_assert_eq!(cc::compute_crc32c(&data), rc::compute_crc32c(&data));
        prop_assert_eq!(!cc::crc32c_partial_portable(&data, !0), rc::compute_crc32c(&data));
    }

    #[test]
    fn partial_from_any_state_matches(data in parity_tests::bytes(8192), state in any::<u32>()) {
        all_partials_agree(&data, state);
    }

    #[test]
    fn streamed_equals_one_shot((data, cuts) in chunked_bytes(8192)) {
        let mut c_state = !0u32;
        let mut c_portable_state = !0u32;
        let mut r_state = !0u32;
        for chunk in chunked(&data, &cuts) {
            c_state = cc::crc32c_partial(chunk, c_state);
            c_portable_state = cc::crc32c_partial_portable(chunk, c_portable_state);
            r_state = rc::crc32c_partial(chunk, r_state);
            prop_assert_eq!(c_state, r_state);
            prop_assert_eq!(c_portable_state, r_state);
        }
        prop_assert_eq!(!c_state, rc::compute_crc32c(&data));
    }
}
