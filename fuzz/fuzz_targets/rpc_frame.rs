//! The Rust frame decoder on arbitrary bytes in arbitrary chunks must never
//! panic and must keep its invariants. Input: byte 0 = options (bit 0 CRC
//! kind, bit 1 switch to CRC-32C after the first frame, bits 2-3 first seq
//! offset), byte 1 = chunking seed, then the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::rpc_frame::{CrcKind, FrameDecoder, MAX_FRAME_LEN};

fuzz_target!(|data: &[u8]| {
    let [options, seed, stream @ ..] = data else {
        return;
    };
    let crc = if options & 1 == 0 {
        CrcKind::Crc32
    } else {
        CrcKind::Crc32c
    };
    let mut dec = FrameDecoder::new(i32::from(options >> 2 & 3) - 2, crc);
    let mut rest = stream;
    let mut cut = u32::from(*seed) | 1;
    let mut frames = 0usize;
    while !rest.is_empty() {
        cut = cut.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let (mut chunk, tail) = rest.split_at((cut >> 16) as usize % 70 % (rest.len() + 1));
        rest = tail;
        loop {
            let Ok(pushed) = dec.push(chunk) else { return };
            assert!(pushed.consumed <= chunk.len());
            chunk = &chunk[pushed.consumed..];
            let Some(frame) = pushed.frame else {
                assert!(chunk.is_empty());
                break;
            };
            assert!(frame.payload.len() >= 4 && frame.payload.len() % 4 == 0);
            frames += 1;
            if frames == 1 && options & 2 != 0 {
                dec.set_crc(CrcKind::Crc32c);
            }
        }
        assert!(dec.buffered() <= MAX_FRAME_LEN);
    }
});
