//! md5: C (OpenSSL) vs Rust (md-5) on the RFC 1321 vectors and random input.
use mtproxy_sys::bindings_cref as raw;
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::md5 as cc;
use rust::common::md5 as rc;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn known_answers_both_sides() {
    // RFC 1321 appendix A.5.
    for (input, want) in [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ] {
        assert_eq!(hex(&cc::md5(input.as_bytes())), want, "C {input:?}");
        assert_eq!(hex(&rc::md5(input.as_bytes())), want, "Rust {input:?}");
    }
}

#[test]
fn null_input_and_null_out() {
    let mut out = [0x55u8; 16];
    // SAFETY: null input with length 0 and a 16-byte output, as the contract allows.
    unsafe { raw::mtp_md5(std::ptr::null(), 0, out.as_mut_ptr()) };
    assert_eq!(out, rc::md5(&[]));
    // SAFETY: a null `out` is allowed (nothing is written); the input is live.
    unsafe { raw::mtp_md5(b"abc".as_ptr(), 3, std::ptr::null_mut()) };
}

#[test]
fn digest_in_place() {
    // `out` may overlap the input: the digest is written after the input is read.
    let mut buf = *b"sixteen byte msg";
    let want = rc::md5(&buf);
    // SAFETY: `buf` is 16 readable and writable bytes.
    unsafe { raw::mtp_md5(buf.as_ptr(), buf.len(), buf.as_mut_ptr()) };
    assert_eq!(buf, want);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_shot_matches(data in parity_tests::bytes(4096)) {
        prop_assert_eq!(cc::md5(&data), rc::md5(&data));
    }
}
