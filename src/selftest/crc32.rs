use super::{expect_eq, Check};
use mtproxy_sys::c::crc32;

pub const CHECKS: &[Check] = &[
    ("check value", || {
        expect_eq(
            "crc32(123456789)",
            crc32::compute_crc32(b"123456789"),
            0xcbf4_3926,
        )
    }),
    ("streaming", || {
        let state = crc32::crc32_partial(b"12345", !0);
        expect_eq(
            "partial",
            !crc32::crc32_partial(b"6789", state),
            0xcbf4_3926,
        )
    }),
    ("combine", || {
        let (a, b) = (
            crc32::compute_crc32(b"1234"),
            crc32::compute_crc32(b"56789"),
        );
        expect_eq("combine", crc32::crc32_combine(a, b, 5), 0xcbf4_3926)
    }),
];
