use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::resolver;

pub const CHECKS: &[Check] = &[
    ("ipv4 literal", || {
        expect_eq(
            "127.0.0.1",
            resolver::parse_ipv4(b"127.0.0.1"),
            Ok(0x7f00_0001),
        )?;
        expect_eq(
            "leading zero",
            resolver::parse_ipv4(b"127.0.0.01"),
            Err(resolver::ERR_SYNTAX),
        )
    }),
    ("ipv6 literal", || {
        let want = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
        expect_eq(
            "::ffff:10.0.0.1",
            resolver::parse_ipv6(b"::ffff:10.0.0.1"),
            Ok(want),
        )?;
        expect_eq(
            "two ::",
            resolver::parse_ipv6(b"1::2::3"),
            Err(resolver::ERR_SYNTAX),
        )
    }),
    ("resolve", || {
        let local =
            resolver::resolve_host(b"localhost", resolver::FAMILY_V4).map(|a| (a.family, a.ipv4));
        expect_eq("localhost", local, Ok((4, 0x7f00_0001)))?;
        let bad = resolver::resolve_host(b"a_b", resolver::FAMILY_ANY).map(|a| a.family);
        expect_eq("bad name", bad, Err(resolver::ERR_BAD_NAME))?;
        let wrong_family = resolver::resolve_host(b"::1", resolver::FAMILY_V4).map(|a| a.family);
        expect_eq(
            "v6 literal as v4",
            wrong_family,
            Err(resolver::ERR_NOT_FOUND),
        )
    }),
    ("no output on failure", || {
        let mut out = 0xdead_beef_u32;
        // SAFETY: a live 1-byte input and a writable output.
        let rc = unsafe { raw::mtp_parse_ipv4(b"x".as_ptr(), 1, &mut out) };
        expect_eq("result", (rc, out), (resolver::ERR_SYNTAX, 0xdead_beef))?;
        // SAFETY: the contract allows a NULL output (it reports ERR_ARG).
        let rc = unsafe { raw::mtp_parse_ipv6(b"::".as_ptr(), 2, std::ptr::null_mut()) };
        expect_eq("NULL output", rc, resolver::ERR_ARG)
    }),
];
