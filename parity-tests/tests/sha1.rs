//! sha1: C (OpenSSL) vs Rust (sha1 crate) on FIPS 180 vectors and random input.
use mtproxy_sys::bindings_cref as raw;
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::sha1 as cc;
use rust::common::sha1 as rc;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn known_answers_both_sides() {
    // FIPS 180 example messages (NIST SHA examples / RFC 3174).
    let million_a = vec![b'a'; 1_000_000];
    for (input, want) in [
        (&b"abc"[..], "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
        ),
        (&million_a[..], "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
    ] {
        assert_eq!(hex(&cc::sha1(input)), want, "C, {} bytes", input.len());
        assert_eq!(hex(&rc::sha1(input)), want, "Rust, {} bytes", input.len());
    }
}

#[test]
fn null_input_and_null_out() {
    let mut out = [0x55u8; 20];
    // SAFETY: null input with length 0 and a 20-byte output, as the contract allows.
    unsafe { raw::mtp_sha1(std::ptr::null(), 0, out.as_mut_ptr()) };
    assert_eq!(out, rc::sha1(&[]));
    // SAFETY: a null `out` is allowed (nothing is written); the input is live.
    unsafe { raw::mtp_sha1(b"abc".as_ptr(), 3, std::ptr::null_mut()) };
}

#[test]
fn digest_in_place() {
    // `out` may overlap the input: the digest is written after the input is read.
    let mut buf = *b"a twenty-byte input!";
    let want = rc::sha1(&buf);
    // SAFETY: `buf` is 20 readable and writable bytes.
    unsafe { raw::mtp_sha1(buf.as_ptr(), buf.len(), buf.as_mut_ptr()) };
    assert_eq!(buf, want);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_shot_matches(data in parity_tests::bytes(4096)) {
        prop_assert_eq!(cc::sha1(&data), rc::sha1(&data));
    }
}
