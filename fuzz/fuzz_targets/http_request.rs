//! The stats-port request parser (Rust core) on untrusted bytes: must not
//! panic, and every prefix's final verdict must survive more bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::stats_http as http;

fuzz_target!(|data: &[u8]| {
    let whole = http::parse_request(data);
    let half = http::parse_request(&data[..data.len() / 2]);
    if half.status != 0 {
        assert_eq!(half, whole);
    }
});
