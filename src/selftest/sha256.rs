use super::{expect_eq, Check};
use mtproxy_sys::bindings;
use mtproxy_sys::c::sha256;
use std::ptr::{null, null_mut};

const SHA256_ABC: [u8; 32] = [
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
];

const SHA256_EMPTY: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

pub const CHECKS: &[Check] = &[
    ("fips180 abc", || {
        expect_eq("sha256(abc)", sha256::sha256(b"abc"), SHA256_ABC)
    }),
    ("two chunks", || {
        expect_eq(
            "sha256(a, bc)",
            sha256::sha256_two_chunks(b"a", b"bc"),
            SHA256_ABC,
        )
    }),
    ("rfc4231 case 2", || {
        let want = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        expect_eq(
            "hmac(Jefe)",
            sha256::hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            want,
        )
    }),
    ("null inputs and null out", || {
        let mut plain = [0u8; 32];
        let mut split = [0u8; 32];
        // SAFETY: null inputs with length 0 and 32-byte outputs, then null
        // outputs (nothing is written), as the contract allows.
        unsafe {
            bindings::mtp_sha256(null(), 0, plain.as_mut_ptr());
            bindings::mtp_sha256_two_chunks(null(), 0, null(), 0, split.as_mut_ptr());
            bindings::mtp_sha256(b"abc".as_ptr(), 3, null_mut());
            bindings::mtp_sha256_two_chunks(b"a".as_ptr(), 1, b"bc".as_ptr(), 2, null_mut());
            bindings::mtp_hmac_sha256(b"k".as_ptr(), 1, b"m".as_ptr(), 1, null_mut());
        }
        expect_eq(
            "sha256(null, 0)",
            (plain, split),
            (SHA256_EMPTY, SHA256_EMPTY),
        )
    }),
    ("hmac with null key", || {
        let mut out = [0u8; 32];
        // SAFETY: null key and message with length 0, a 32-byte output.
        unsafe { bindings::mtp_hmac_sha256(null(), 0, null(), 0, out.as_mut_ptr()) };
        let want = [
            0xb6, 0x13, 0x67, 0x9a, 0x08, 0x14, 0xd9, 0xec, 0x77, 0x2f, 0x95, 0xd7, 0x78, 0xc3,
            0x5f, 0xc5, 0xff, 0x16, 0x97, 0xc4, 0x93, 0x71, 0x56, 0x53, 0xc6, 0xc7, 0x12, 0x14,
            0x42, 0x92, 0xc5, 0xad,
        ];
        expect_eq("hmac(null, null)", out, want)
    }),
];
