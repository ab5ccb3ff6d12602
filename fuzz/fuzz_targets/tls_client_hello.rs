//! The fake-TLS ClientHello check, ServerHello parser and detector on
//! untrusted bytes (Rust core): must not panic. Byte 0 bit 0 set: the rest
//! gets a matching `16 03 01 LL LL` header (padded to 0x200 bytes) so the
//! deep checks run; clear: the rest is used as it is.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::fake_tls as tls;

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
    let _ = tls::detect_client_hello(&record);
    let mut cache = tls::ReplayCache::new(4).unwrap();
    let domains: [&[u8]; 2] = [b"example.com", b""];
    let buffered = record.len() + usize::from(mode >> 7);
    let _ = tls::check_client_hello(
        &record,
        buffered,
        &[[0; 16], SECRET],
        &domains,
        &mut cache,
        NOW,
    );
    let _ = tls::parse_server_hello(rest, &[0; 32], &[0; 32], &SECRET);
});
