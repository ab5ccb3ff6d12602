//! Differential: the same untrusted hello bytes through the C and the Rust
//! ClientHello check (results and replay-cache state), detector and
//! ServerHello parser. Input framing as in `tls_client_hello`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::fake_tls as ct, rust::net::fake_tls as rt};

const SECRET: [u8; 16] = *b"0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let record = if mode & 1 == 1 {
        let mut body = rest.to_vec();
        body.resize(body.len().clamp(0x200, 0xffff), 0);
        let mut record = vec![0x16, 0x03, 0x01];
        record.extend_from_slice(&(body.len() as u16).to_be_bytes());
        record.extend_from_slice(&body);
        record
    } else {
        rest.to_vec()
    };
    assert_eq!(
        ct::detect_client_hello(&record),
        rt::detect_client_hello(&record)
    );
    let domains: [&[u8]; 2] = [b"example.com", b""];
    let secrets = [[0; 16], SECRET];
    let buffered = record.len() + usize::from(mode >> 7);
    let now = NOW + i64::from(mode >> 1 & 0x3f) * 100 - 3200;
    let mut c_cache = ct::ReplayCache::new(4).unwrap();
    let mut r_cache = rt::ReplayCache::new(4).unwrap();
    for _ in 0..2 {
        let c = ct::check_client_hello(&record, buffered, &secrets, &domains, &mut c_cache, now);
        let r = rt::check_client_hello(&record, buffered, &secrets, &domains, &mut r_cache, now);
        assert_eq!(c, r);
        assert_eq!(
            (c_cache.len(), c_cache.oldest_time()),
            (r_cache.len(), r_cache.oldest_time())
        );
    }
    let c = ct::parse_server_hello(rest, &[0; 32], &[0; 32], &SECRET);
    let r = rt::parse_server_hello(rest, &[0; 32], &[0; 32], &SECRET);
    assert_eq!(c, r);
});
