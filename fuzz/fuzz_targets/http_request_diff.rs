//! Differential: the same untrusted bytes through the C and the Rust
//! stats-port request parser, whole and cut at every 97th byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::stats_http as c_http, rust::net::stats_http as rust_http};

fuzz_target!(|data: &[u8]| {
    for end in (0..data.len()).step_by(97).chain([data.len()]) {
        let c = c_http::parse_request(&data[..end]);
        let r = rust_http::parse_request(&data[..end]);
        assert_eq!(c, r);
    }
});
