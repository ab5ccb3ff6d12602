use super::{expect_eq, Check};
use mtproxy_sys::bindings;
use mtproxy_sys::c::sha1;

const SHA1_EMPTY: [u8; 20] = [
    0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90,
    0xaf, 0xd8, 0x07, 0x09,
];

pub const CHECKS: &[Check] = &[
    ("fips180 abc", || {
        let want = [
            0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
            0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d,
        ];
        expect_eq("sha1(abc)", sha1::sha1(b"abc"), want)
    }),
    ("null input and null out", || {
        let mut out = [0u8; 20];
        // SAFETY: null input with length 0, a 20-byte output, then a null
        // output (nothing is written), as the contract allows.
        unsafe {
            bindings::mtp_sha1(std::ptr::null(), 0, out.as_mut_ptr());
            bindings::mtp_sha1(b"abc".as_ptr(), 3, std::ptr::null_mut());
        }
        expect_eq("sha1(null, 0)", out, SHA1_EMPTY)
    }),
];
