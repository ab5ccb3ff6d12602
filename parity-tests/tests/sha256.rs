//! sha256: C (OpenSSL) vs Rust (sha2, hmac) on FIPS 180 and RFC 4231 vectors,
//! random inputs, random two-chunk splits and random HMAC key lengths.
use mtproxy_sys::bindings_cref as raw;
use parity_tests::{c, config, rust};
use proptest::prelude::*;
use std::ptr::{null, null_mut};

use c::sha256 as cc;
use rust::common::sha256 as rc;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn known_answers_both_sides() {
    // FIPS 180 example messages.
    let million_a = vec![b'a'; 1_000_000];
    for (input, want) in [
        (
            &b"abc"[..],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            &million_a[..],
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
    ] {
        assert_eq!(hex(&cc::sha256(input)), want, "C, {} bytes", input.len());
        assert_eq!(hex(&rc::sha256(input)), want, "Rust, {} bytes", input.len());
        let (a, b) = input.split_at(input.len() / 3);
        assert_eq!(hex(&cc::sha256_two_chunks(a, b)), want, "C two chunks");
        assert_eq!(hex(&rc::sha256_two_chunks(a, b)), want, "Rust two chunks");
    }
}

#[test]
fn hmac_known_answers_both_sides() {
    // RFC 4231 section 4, test cases 1-4, 6 and 7 (case 5 below).
    let key4: Vec<u8> = (1..=25).collect();
    let cases: [(&[u8], &[u8], &str); 6] = [
        (
            &[0x0b; 20],
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            &[0xaa; 20],
            &[0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            &key4,
            &[0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        (
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            &[0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size data. \
              The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, msg, want)) in cases.into_iter().enumerate() {
        assert_eq!(hex(&cc::hmac_sha256(key, msg)), want, "C case {i}");
        assert_eq!(hex(&rc::hmac_sha256(key, msg)), want, "Rust case {i}");
    }
    // Case 5 checks only the first 128 bits of the output.
    let want = "a3b6167473100ee06e0c796c2955552b";
    assert_eq!(
        hex(&cc::hmac_sha256(&[0x0c; 20], b"Test With Truncation")[..16]),
        want
    );
    assert_eq!(
        hex(&rc::hmac_sha256(&[0x0c; 20], b"Test With Truncation")[..16]),
        want
    );
}

#[test]
fn null_inputs_are_empty() {
    let empty = rc::sha256(&[]);
    let mut out = [0x55u8; 32];
    // SAFETY: null inputs with length 0 and a 32-byte output, as the contract allows.
    unsafe { raw::mtp_sha256(null(), 0, out.as_mut_ptr()) };
    assert_eq!(out, empty);
    out = [0x55; 32];
    // SAFETY: as above.
    unsafe { raw::mtp_sha256_two_chunks(null(), 0, null(), 0, out.as_mut_ptr()) };
    assert_eq!(out, empty);
    out = [0x55; 32];
    // SAFETY: as above.
    unsafe { raw::mtp_hmac_sha256(null(), 0, null(), 0, out.as_mut_ptr()) };
    assert_eq!(out, rc::hmac_sha256(&[], &[]));
    // The empty-key HMAC is a fixed, well-known value.
    assert_eq!(
        hex(&out),
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
    );
}

#[test]
fn null_out_writes_nothing_and_does_not_crash() {
    // SAFETY: a null `out` is allowed (nothing is written); the inputs are live.
    unsafe {
        raw::mtp_sha256(b"abc".as_ptr(), 3, null_mut());
        raw::mtp_sha256_two_chunks(b"a".as_ptr(), 1, b"bc".as_ptr(), 2, null_mut());
        raw::mtp_hmac_sha256(b"k".as_ptr(), 1, b"m".as_ptr(), 1, null_mut());
    }
}

#[test]
fn digest_in_place() {
    // `out` may overlap an input: the digest is written after the inputs are read.
    let mut buf = [7u8; 32];
    let want = rc::hmac_sha256(&buf, &buf);
    // SAFETY: `buf` is 32 readable and writable bytes, used as key, message and output.
    unsafe { raw::mtp_hmac_sha256(buf.as_ptr(), 32, buf.as_ptr(), 32, buf.as_mut_ptr()) };
    assert_eq!(buf, want);
    let want = rc::sha256(&buf);
    // SAFETY: as above, as both chunks and the output.
    unsafe {
        raw::mtp_sha256_two_chunks(buf.as_ptr(), 10, buf[10..].as_ptr(), 22, buf.as_mut_ptr())
    };
    assert_eq!(buf, want);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_shot_matches(data in parity_tests::bytes(4096)) {
        prop_assert_eq!(cc::sha256(&data), rc::sha256(&data));
    }

    #[test]
    fn two_chunks_at_any_split_equal_one_shot(data in parity_tests::bytes(1024), split in any::<usize>()) {
        let (a, b) = data.split_at(split % (data.len() + 1));
        let whole = rc::sha256(&data);
        prop_assert_eq!(cc::sha256_two_chunks(a, b), whole);
        prop_assert_eq!(rc::sha256_two_chunks(a, b), whole);
    }

    #[test]
    fn hmac_matches(key in parity_tests::bytes(200), msg in parity_tests::bytes(1024)) {
        prop_assert_eq!(cc::hmac_sha256(&key, &msg), rc::hmac_sha256(&key, &msg));
    }
}
