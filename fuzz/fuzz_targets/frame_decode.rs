//! The client-framing decoder on untrusted streams must not panic, must keep
//! its memory bounded and its errors sticky. Input: byte 0 = mode (mod 3,
//! + 1) and sender (bit 2), byte 1 = number of chunk sizes k (mod 16), then k
//! chunk sizes, then the stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::ext_framing::{FrameDecoder, MAX_HEADER_LEN, MAX_PACKET_LEN};

fuzz_target!(|data: &[u8]| {
    let [flags, count, rest @ ..] = data else {
        return;
    };
    let cuts = usize::from(count % 16).min(rest.len());
    let (cuts, mut stream) = rest.split_at(cuts);
    let mode = i32::from(flags % 3) + 1;
    let sender = i32::from(flags >> 2 & 1);
    let mut dec = FrameDecoder::new(mode, sender).unwrap();
    let mut out = vec![0u8; 1 << 16];
    for &cut in cuts
        .iter()
        .chain(std::iter::repeat(&255).take(stream.len()))
    {
        if stream.is_empty() {
            break;
        }
        let chunk = &stream[..usize::from(cut).min(stream.len())];
        let Ok(taken) = dec.feed(chunk) else {
            assert_ne!(dec.error_code(), 0);
            return;
        };
        assert!(dec.buffered() <= MAX_HEADER_LEN + MAX_PACKET_LEN);
        stream = &stream[taken..];
        loop {
            match dec.next_packet(&mut out) {
                Ok(Some(p)) => {
                    assert!(p.length <= p.wire_length && p.wire_length <= MAX_PACKET_LEN);
                    assert!(mode != 3 || p.length % 4 == 0);
                }
                Ok(None) => break,
                Err(code) if dec.error_code() == 0 => {
                    // Output space only (not sticky): the packet waits.
                    assert_eq!(code, -6);
                    break;
                }
                Err(code) => {
                    assert_eq!(dec.feed(b"x"), Err(code));
                    return;
                }
            }
        }
    }
});
