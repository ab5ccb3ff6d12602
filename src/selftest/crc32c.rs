use super::{expect_eq, Check};
use mtproxy_sys::bindings;
use mtproxy_sys::c::crc32c;

/// Long enough for every interleaving tier of the C hardware path.
fn long_input() -> Vec<u8> {
    (0..20_000u32)
        .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
        .collect()
}

pub const CHECKS: &[Check] = &[
    ("check value", || {
        expect_eq(
            "crc32c(123456789)",
            crc32c::compute_crc32c(b"123456789"),
            0xe306_9283,
        )
    }),
    ("portable check value", || {
        expect_eq(
            "portable",
            !crc32c::crc32c_partial_portable(b"123456789", !0),
            0xe306_9283,
        )
    }),
    ("streaming", || {
        let state = crc32c::crc32c_partial(b"12345", !0);
        expect_eq(
            "partial",
            !crc32c::crc32c_partial(b"6789", state),
            0xe306_9283,
        )
    }),
    ("fast path equals portable path", || {
        let data = long_input();
        expect_eq(
            "long input",
            crc32c::crc32c_partial(&data, 7),
            crc32c::crc32c_partial_portable(&data, 7),
        )
    }),
    ("null empty input", || {
        // SAFETY: a null pointer with length 0 is allowed by the contract.
        let got = unsafe {
            (
                bindings::mtp_crc32c_partial(std::ptr::null(), 0, 5),
                bindings::mtp_crc32c_partial_portable(std::ptr::null(), 0, 5),
                bindings::mtp_compute_crc32c(std::ptr::null(), 0),
            )
        };
        expect_eq("null input", got, (5, 5, 0))
    }),
];
