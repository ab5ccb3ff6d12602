use super::{expect_eq, Check};
use mtproxy_sys::bindings;
use mtproxy_sys::c::md5;

const MD5_EMPTY: [u8; 16] = [
    0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
];

pub const CHECKS: &[Check] = &[
    ("rfc1321 abc", || {
        let want = [
            0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1,
            0x7f, 0x72,
        ];
        expect_eq("md5(abc)", md5::md5(b"abc"), want)
    }),
    ("null input and null out", || {
        let mut out = [0u8; 16];
        // SAFETY: null input with length 0, a 16-byte output, then a null
        // output (nothing is written), as the contract allows.
        unsafe {
            bindings::mtp_md5(std::ptr::null(), 0, out.as_mut_ptr());
            bindings::mtp_md5(b"abc".as_ptr(), 3, std::ptr::null_mut());
        }
        expect_eq("md5(null, 0)", out, MD5_EMPTY)
    }),
];
