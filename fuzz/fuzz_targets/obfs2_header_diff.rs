//! Differential: the same header and secret list to the C and the Rust
//! init-header parse; results (keys included) and errors must agree. Input as
//! for `obfs2_header`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::obfs2 as c_obfs2, rust::net::obfs2 as rust_obfs2};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (header, secrets) = rest.split_at(rest.len().min(64));
    let secrets = &secrets[..secrets.len().min(16 * 16)];
    let padded_only = flags & 1 != 0;
    let c = c_obfs2::parse_header(header, secrets, padded_only);
    let r = rust_obfs2::parse_header(header, secrets, padded_only);
    assert_eq!(c, r);
});
