//! Differential: the same stream in the same chunks to the C and the Rust
//! client-framing decoders; every feed and packet result, the packet bytes
//! and the buffered counts must agree. Input as for `frame_decode` (any mode
//! and sender values, so invalid ones are compared too).
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::ext_framing as cf, rust::net::ext_framing as rf};

fuzz_target!(|data: &[u8]| {
    let [flags, count, rest @ ..] = data else {
        return;
    };
    let cuts = usize::from(count % 16).min(rest.len());
    let (cuts, mut stream) = rest.split_at(cuts);
    let mode = i32::from(flags % 5);
    let sender = i32::from(flags >> 3 & 3) - 1;
    let (c, r) = (
        cf::FrameDecoder::new(mode, sender),
        rf::FrameDecoder::new(mode, sender),
    );
    let (mut c, mut r) = match (c, r) {
        (Ok(c), Ok(r)) => (c, r),
        (c, r) => return assert_eq!(c.map(|_| ()), r.map(|_| ())),
    };
    let cap = usize::from(flags >> 5) * 40;
    let (mut c_out, mut r_out) = (vec![0u8; cap], vec![0u8; cap]);
    for &cut in cuts
        .iter()
        .chain(std::iter::repeat(&255).take(stream.len()))
    {
        if stream.is_empty() {
            break;
        }
        let chunk = &stream[..usize::from(cut).min(stream.len())];
        let fed = c.feed(chunk);
        assert_eq!(fed, r.feed(chunk));
        assert_eq!(c.buffered(), r.buffered());
        let Ok(taken) = fed else { return };
        stream = &stream[taken..];
        loop {
            let c_got = c
                .next_packet(&mut c_out)
                .map(|p| p.map(|p| (p.quick_ack, p.confirm, p.length, p.wire_length)));
            let r_got = r
                .next_packet(&mut r_out)
                .map(|p| p.map(|p| (p.quick_ack, p.confirm, p.length, p.wire_length)));
            assert_eq!(c_got, r_got);
            assert_eq!(
                (c.buffered(), c.error_code()),
                (r.buffered(), r.error_code())
            );
            match c_got {
                Ok(Some((_, _, len, _))) => assert_eq!(c_out[..len], r_out[..len]),
                _ => break,
            }
        }
    }
});
