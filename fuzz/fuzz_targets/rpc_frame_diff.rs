//! Differential: the same stream in the same chunks to the C and the Rust
//! frame decoders; every push result, frame and state must agree. Input as
//! for `rpc_frame`: options byte, chunking seed, stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::rpc_frame as cf, rust::net::rpc_frame as rf};

fuzz_target!(|data: &[u8]| {
    let [options, seed, stream @ ..] = data else {
        return;
    };
    let first = i32::from(options >> 2 & 3) - 2;
    let (ck, rk) = if options & 1 == 0 {
        (cf::CrcKind::Crc32, rf::CrcKind::Crc32)
    } else {
        (cf::CrcKind::Crc32c, rf::CrcKind::Crc32c)
    };
    let mut c = cf::FrameDecoder::new(first, ck);
    let mut r = rf::FrameDecoder::new(first, rk);
    let mut rest = stream;
    let mut cut = u32::from(*seed) | 1;
    let mut frames = 0usize;
    while !rest.is_empty() {
        cut = cut.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let (mut chunk, tail) = rest.split_at((cut >> 16) as usize % 70 % (rest.len() + 1));
        rest = tail;
        loop {
            let c_got = c
                .push(chunk)
                .map(|p| (p.consumed, p.frame.map(|f| (f.seq, f.payload.to_vec()))));
            let r_got = r
                .push(chunk)
                .map(|p| (p.consumed, p.frame.map(|f| (f.seq, f.payload.to_vec()))));
            assert_eq!(c_got, r_got);
            assert_eq!(
                (c.expected_seq(), c.buffered(), c.error_code()),
                (r.expected_seq(), r.buffered(), r.error_code())
            );
            let Ok((consumed, Some(_))) = c_got else {
                break;
            };
            chunk = &chunk[consumed..];
            frames += 1;
            if frames == 1 && options & 2 != 0 {
                c.set_crc(cf::CrcKind::Crc32c);
                r.set_crc(rf::CrcKind::Crc32c);
            }
        }
    }
});
