//! Differential: the same untrusted byte stream through the C and the Rust
//! record reader, in the same chunks and output sizes; every result and
//! every payload byte must agree. Input: byte 0 bit 0 = proxy side (expects
//! the CCS), byte 1 = chunk size, byte 2 = output capacity, then the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::fake_tls as ct, rust::net::fake_tls as rt};

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, cap, stream @ ..] = data else {
        return;
    };
    let mut c = ct::RecordReader::new(flags & 1 == 1);
    let mut r = rt::RecordReader::new(flags & 1 == 1);
    let (chunk, cap) = (usize::from(*chunk).max(1), usize::from(*cap));
    for piece in stream.chunks(chunk) {
        let mut rest = piece;
        loop {
            let (mut c_out, mut r_out) = (vec![0u8; cap], vec![0u8; cap]);
            let c_got = c.feed(rest, &mut c_out);
            let r_got = r.feed(rest, &mut r_out);
            assert_eq!(c_got, r_got);
            let Ok((used, made)) = r_got else { return };
            assert_eq!(c_out[..made], r_out[..made]);
            rest = &rest[used..];
            if rest.is_empty() || (used == 0 && made == 0) {
                break;
            }
        }
    }
    let payload = &stream[stream.len().min(9)..];
    let mut c_wire = vec![0u8; ct::wrapped_len(payload.len())];
    let mut r_wire = vec![0u8; rt::wrapped_len(payload.len())];
    assert_eq!(
        ct::wrap_records(payload, &mut c_wire),
        rt::wrap_records(payload, &mut r_wire)
    );
    assert_eq!(c_wire, r_wire);
});
