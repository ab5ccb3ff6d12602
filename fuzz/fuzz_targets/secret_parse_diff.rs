//! Differential: the same secret text to the C and the Rust secret parser;
//! the parsed secret (or error) and its formatted link form must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::obfs2 as c_obfs2, rust::net::obfs2 as rust_obfs2};

fuzz_target!(|data: &[u8]| {
    let c = c_obfs2::parse_secret(data);
    let r = rust_obfs2::parse_secret(data);
    match (c, r) {
        (Ok(c), Ok(r)) => {
            assert_eq!((c.kind, c.key, c.domain_len), (r.kind, r.key, r.domain_len));
            assert_eq!(c.domain[..c.domain_len], r.domain[..r.domain_len]);
            let text = rust_obfs2::format_secret(&r);
            assert_eq!(c_obfs2::format_secret(&c), text);
            let again = rust_obfs2::parse_secret(text.unwrap().as_bytes()).unwrap();
            assert_eq!(
                (again.kind, again.key, again.domain_len),
                (r.kind, r.key, r.domain_len)
            );
        }
        (c, r) => assert_eq!(c.map(|_| ()), r.map(|_| ())),
    }
});
