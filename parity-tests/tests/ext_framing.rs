//! ext-framing: C vs Rust (and a whole-stream model) on framed streams in
//! random chunkings, encoders on random arguments, quick acks with random
//! bytes, the forward filter, and client/proxy round trips across languages.
use parity_tests::{bytes, c, chunked, config, rust};
use proptest::prelude::*;

use c::ext_framing as cf;
use rust::net::ext_framing as rf;

const MAX: usize = 1_044_480;
/// The proxy's answers may be longer: up to a middle-end frame (16 MiB).
const MAX_ANSWER: usize = 1 << 24;

/// One decoder call: `FEED` (result = bytes taken, in the length slot) or
/// `NEXT` (the packet info), the packet bytes, then `buffered()`.
type Step = (
    u8,
    Result<Option<(bool, u32, usize, usize)>, i32>,
    Vec<u8>,
    usize,
);
const FEED: u8 = 0;
const NEXT: u8 = 1;

/// Feeds `chunks` to one side's decoder, taking packets out after each feed;
/// records every feed and next result, the packet bytes and `buffered()`.
macro_rules! run_decoder {
    ($m:ident, $mode:expr, $sender:expr, $chunks:expr, $cap:expr) => {{
        let mut steps: Vec<Step> = Vec::new();
        let mut out = vec![0u8; $cap];
        match $m::FrameDecoder::new($mode, $sender) {
            Err(code) => steps.push((FEED, Err(code), vec![], 0)),
            Ok(mut dec) => {
                'chunks: for chunk in $chunks {
                    let mut rest: &[u8] = chunk;
                    loop {
                        let fed = dec.feed(rest);
                        let taken = fed.map(|n| Some((false, 0, n, 0)));
                        steps.push((FEED, taken, vec![], dec.buffered()));
                        let Ok(n) = fed else { break 'chunks };
                        rest = &rest[n..];
                        loop {
                            let got = dec.next_packet(&mut out);
                            let info = got.map(|p| {
                                p.map(|p| (p.quick_ack, p.confirm, p.length, p.wire_length))
                            });
                            let data = match info {
                                Ok(Some((_, _, len, _))) => out[..len].to_vec(),
                                _ => vec![],
                            };
                            steps.push((NEXT, info, data, dec.buffered()));
                            match info {
                                Ok(Some(_)) => {}
                                Ok(None) => break,
                                Err(_) => break 'chunks,
                            }
                        }
                        if rest.is_empty() || n == 0 {
                            break;
                        }
                    }
                    assert_eq!(dec.error_code(), 0);
                }
            }
        }
        steps
    }};
}

/// The packets and final error a whole stream holds, read plainly.
fn model(mode: i32, sender: i32, s: &[u8]) -> (Vec<(bool, u32, Vec<u8>)>, i32) {
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let b = &s[pos..];
        let (head, len, ack) = if mode == 1 {
            if b[0] & 0x80 != 0 && sender == 1 {
                if b.len() < 4 {
                    break;
                }
                packets.push((true, u32::from_be_bytes(b[..4].try_into().unwrap()), vec![]));
                pos += 4;
                continue;
            }
            if b[0] & 0x7f < 0x7f {
                (1, (b[0] & 0x7f) as usize * 4, b[0] & 0x80 != 0)
            } else {
                if b.len() < 4 {
                    break;
                }
                let q = b[1] as usize | (b[2] as usize) << 8 | (b[3] as usize) << 16;
                if q < 0x7f {
                    return (packets, -4);
                }
                (4, q * 4, b[0] & 0x80 != 0)
            }
        } else {
            if b.len() < 4 {
                break;
            }
            let w = u32::from_le_bytes(b[..4].try_into().unwrap());
            if w >> 31 == 1 && sender == 1 {
                packets.push((true, w, vec![]));
                pos += 4;
                continue;
            }
            (4, (w & 0x7fff_ffff) as usize, w >> 31 == 1)
        };
        if len == 0 {
            return (packets, -2);
        }
        if len > if sender == 1 { MAX_ANSWER } else { MAX } {
            return (packets, -3);
        }
        if mode == 2 && len % 4 != 0 {
            return (packets, -5);
        }
        if b.len() < head + len {
            break;
        }
        let keep = if mode == 3 { len & !3 } else { len };
        packets.push((ack, 0, b[head..head + keep].to_vec()));
        pos += head + len;
    }
    (packets, 0)
}

/// The packets and last error in a run's steps.
fn summary(steps: &[Step]) -> (Vec<(bool, u32, Vec<u8>)>, i32) {
    let mut packets = Vec::new();
    let mut error = 0;
    for (kind, got, data, _) in steps {
        match got {
            Ok(Some((ack, confirm, _, _))) if *kind == NEXT => {
                packets.push((*ack, *confirm, data.clone()))
            }
            Err(code) => error = *code,
            _ => {}
        }
    }
    (packets, error)
}

#[test]
fn known_answers_both_sides() {
    macro_rules! check {
        ($m:ident) => {{
            let mut out = [0u8; 1200];
            let p8 = [0x11u8; 8];
            let enc = |s, m, q, p: &[u8], pad: &[u8], out: &mut [u8]| {
                $m::encode_packet(s, m, q, p, pad, out).map(|n| out[..n].to_vec())
            };
            assert_eq!(enc(0, 1, false, &p8, &[], &mut out).unwrap()[..1], [0x02]);
            assert_eq!(enc(0, 1, true, &p8, &[], &mut out).unwrap()[..1], [0x82]);
            assert_eq!(
                enc(0, 1, true, &[0; 0x7f * 4], &[], &mut out).unwrap()[..4],
                [0xff, 0x7f, 0, 0]
            );
            assert_eq!(
                enc(1, 1, false, &[0; 0x7e * 4], &[], &mut out).unwrap()[..1],
                [0x7e]
            );
            assert_eq!(
                enc(0, 2, true, &p8, &[], &mut out).unwrap()[..4],
                [8, 0, 0, 0x80]
            );
            assert_eq!(
                enc(1, 2, false, &p8, &[], &mut out).unwrap()[..4],
                [8, 0, 0, 0]
            );
            let padded = enc(0, 3, false, &p8, &[9; 15], &mut out).unwrap();
            assert_eq!(padded[..4], [23, 0, 0, 0]);
            assert_eq!(padded[4..], [[0x11u8; 8].as_slice(), &[9; 15]].concat());
            assert_eq!(enc(1, 3, false, &p8, &[9; 4], &mut out), Err($m::ERR_ARG));
            assert_eq!(enc(1, 2, true, &p8, &[], &mut out), Err($m::ERR_ARG));
            assert_eq!(enc(0, 2, false, &p8, &[1], &mut out), Err($m::ERR_ARG));
            assert_eq!(
                enc(0, 2, false, &[], &[], &mut out),
                Err($m::ERR_ZERO_LENGTH)
            );
            assert_eq!(
                enc(0, 2, false, &[0; 6], &[], &mut out),
                Err($m::ERR_UNALIGNED)
            );
            assert_eq!(
                enc(0, 2, false, &p8, &[], &mut out[..11]),
                Err($m::ERR_OUT_SPACE)
            );
            let mut big = vec![0u8; MAX + 8];
            let over = vec![0u8; MAX + 4];
            assert_eq!(
                $m::encode_packet(0, 2, false, &over, &[], &mut big),
                Err($m::ERR_TOO_LONG)
            );
            assert_eq!(
                $m::encode_packet(0, 3, false, &over[..MAX], &[1], &mut big),
                Err($m::ERR_TOO_LONG)
            );
            // The proxy's answers go up to 16 MiB in every mode.
            assert_eq!($m::MAX_ANSWER_LEN, MAX_ANSWER);
            let answer = vec![0u8; MAX_ANSWER + 4];
            let mut room = vec![0u8; MAX_ANSWER + 8];
            for mode in 1..=3 {
                assert_eq!(
                    $m::encode_packet(1, mode, false, &over, &[], &mut big),
                    Ok(4 + MAX + 4)
                );
                assert_eq!(
                    $m::encode_packet(1, mode, false, &answer[..MAX_ANSWER], &[], &mut room),
                    Ok(4 + MAX_ANSWER)
                );
                assert_eq!(
                    $m::encode_packet(1, mode, false, &answer, &[], &mut room),
                    Err($m::ERR_TOO_LONG)
                );
            }
            assert_eq!(
                $m::encode_packet(1, 3, false, &answer[..MAX_ANSWER], &[1], &mut room),
                Err($m::ERR_TOO_LONG)
            );
            // §3.2 quick-ack answers.
            let confirm = 0x8a0b_0c0d;
            let mut ack = [0u8; 34];
            let n = $m::encode_quick_ack(1, confirm, &[], &mut ack).unwrap();
            assert_eq!(ack[..n], [0x8a, 0x0b, 0x0c, 0x0d]);
            let n = $m::encode_quick_ack(2, confirm, &[], &mut ack).unwrap();
            assert_eq!(ack[..n], [0x0d, 0x0c, 0x0b, 0x8a]);
            let mut random: Vec<u8> = (100..117).collect();
            random[0] = 0;
            let n = $m::encode_quick_ack(3, confirm, &random, &mut ack).unwrap();
            assert_eq!(ack[..n], [0x0d, 0x0c, 0x0b, 0x8a]);
            random[..3].copy_from_slice(&[1, 0b011, 0b101]);
            let n = $m::encode_quick_ack(3, confirm, &random, &mut ack).unwrap();
            let want = [
                &[
                    13, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0d, 0x0c, 0x0b, 0x8a, 103, 104, 105,
                    106, 107,
                ][..],
                &[10, 0, 0, 0, 0, 0, 0, 0, 110, 111, 112, 113, 114, 115][..],
            ]
            .concat();
            assert_eq!(ack[..n], want[..]);
            assert_eq!(
                $m::encode_quick_ack(3, confirm, &random[..16], &mut ack),
                Err($m::ERR_ARG)
            );
            assert_eq!(
                $m::encode_quick_ack(3, confirm, &random, &mut ack[..26]),
                Err($m::ERR_OUT_SPACE)
            );
            assert_eq!(
                $m::encode_quick_ack(4, confirm, &random, &mut ack),
                Err($m::ERR_ARG)
            );
            assert_eq!($m::mode_from_tag(0xefef_efef), Ok(1));
            assert_eq!($m::mode_from_tag(0xeeee_eeee), Ok(2));
            assert_eq!($m::mode_from_tag(0xdddd_dddd), Ok(3));
            assert_eq!($m::mode_from_tag(0xdddd_ddde), Err($m::ERR_ARG));
            // §3.1 filter.
            let mut ping = vec![0xdf, 0xa2, 0x30, 0x57];
            ping.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
            let v = $m::classify_packet(&ping);
            assert_eq!((v.action, v.reason), ($m::PING, 0));
            assert_eq!(v.pong, [0xa7, 0xea, 0x30, 0x84, 1, 2, 3, 4, 5, 6, 7, 8]);
            let mut plain = [0u8; 40];
            plain[16] = 20;
            plain[20..24].copy_from_slice(&[0xbe, 0xe4, 0x12, 0xd7]);
            let v = $m::classify_packet(&plain);
            assert_eq!((v.action, v.unencrypted), ($m::FORWARD, true));
            assert_eq!($m::classify_packet(&[5; 56]).unencrypted, false);
            assert_eq!(
                $m::classify_packet(&[5; 52]).reason,
                $m::DROP_ENCRYPTED_SHORT
            );
            assert_eq!($m::classify_packet(&[]).reason, $m::DROP_SHORT);
        }};
    }
    check!(cf);
    check!(rf);
}

/// Abridged 3-byte lengths whose second and third bytes are not zero (1 KiB
/// up to the limit), each with its whole body: every length byte must land
/// at its own place (a body of up to 600 random bytes never completes them).
#[test]
fn abridged_long_lengths_use_every_byte_on_both_sides() {
    for quarters in [0x80usize, 0xff, 0x100, 0x1ff, 0x1234, 0x1_0000, MAX / 4] {
        let mut stream = vec![0x7f];
        stream.extend_from_slice(&(quarters as u32).to_le_bytes()[..3]);
        stream.extend((0..quarters * 4).map(|i| i as u8));
        let c = run_decoder!(cf, 1, 0, [&stream[..]], MAX);
        let r = run_decoder!(rf, 1, 0, [&stream[..]], MAX);
        assert_eq!(c, r, "{quarters:#x}");
        let (packets, error) = summary(&r);
        assert_eq!((packets.len(), error), (1, 0), "{quarters:#x}");
        assert_eq!(packets[0].2, stream[4..], "{quarters:#x}");
    }
}

#[test]
fn hostile_lengths_both_sides() {
    let cases: [(i32, &[u8], i32); 10] = [
        (2, &[0xff, 0xff, 0xff, 0x7f], -3),
        (2, &[0xff, 0xff, 0xff, 0xff], -3),
        (3, &[0x01, 0xf0, 0x0f, 0x00], -3),
        (2, &[0x00, 0x00, 0x00, 0x80], -2),
        (3, &[0x00, 0x00, 0x00, 0x00], -2),
        (2, &[0x06, 0x00, 0x00, 0x00], -5),
        (1, &[0xff, 0xff, 0xff, 0xff], -3),
        (1, &[0x7f, 0x7e, 0x00, 0x00], -4),
        (1, &[0x7f, 0x00, 0x00, 0x00], -4),
        (1, &[0x80], -2),
    ];
    for (mode, stream, want) in cases {
        let c = run_decoder!(cf, mode, 0, [stream], 16);
        let r = run_decoder!(rf, mode, 0, [stream], 16);
        assert_eq!(c, r);
        assert_eq!(summary(&r).1, want, "{stream:?}");
    }
    // Exactly the limit passes; memory stays at one frame however much is fed.
    let mut stream = (MAX as u32 | 0x8000_0000).to_le_bytes().to_vec();
    stream.resize(4 + MAX + 4 + MAX + 2, 0);
    stream[4 + MAX..8 + MAX].copy_from_slice(&(MAX as u32).to_le_bytes());
    for side in 0..2 {
        let steps = if side == 0 {
            run_decoder!(cf, 2, 0, [&stream[..]], MAX)
        } else {
            run_decoder!(rf, 2, 0, [&stream[..]], MAX)
        };
        assert!(steps.iter().all(|s| s.3 <= 4 + MAX));
        assert_eq!(steps.last().unwrap().3, 2);
        assert_eq!(steps[0].1, Ok(Some((false, 0, 4 + MAX, 0))));
        assert_eq!(steps[1].1, Ok(Some((true, 0, MAX, MAX))));
        let (packets, error) = summary(&steps);
        assert_eq!((packets.len(), error), (2, 0));
    }
    // Output space: not sticky.
    for side in 0..2 {
        let got = if side == 0 {
            let mut d = cf::FrameDecoder::new(3, 0).unwrap();
            d.feed(&[9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
            let small = d.next_packet(&mut [0; 7]);
            (
                small,
                d.next_packet(&mut [0; 8]),
                d.buffered(),
                d.error_code(),
            )
        } else {
            let mut d = rf::FrameDecoder::new(3, 0).unwrap();
            d.feed(&[9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
            let small = d
                .next_packet(&mut [0; 7])
                .map(|p| p.map(|p| (p.length, p.wire_length)));
            let big = d
                .next_packet(&mut [0; 8])
                .map(|p| p.map(|p| (p.length, p.wire_length)));
            return assert_eq!(
                (small, big, d.buffered(), d.error_code()),
                (Err(-6), Ok(Some((8, 9))), 0, 0)
            );
        };
        let (small, big, buffered, error) = got;
        assert_eq!(small.map(|_| ()), Err(-6));
        assert_eq!(
            big.map(|p| p.map(|p| (p.length, p.wire_length))),
            Ok(Some((8, 9)))
        );
        assert_eq!((buffered, error), (0, 0));
    }
    assert_eq!(cf::FrameDecoder::new(0, 0).map(|_| ()).unwrap_err(), -1);
    assert_eq!(rf::FrameDecoder::new(1, 2).map(|_| ()).unwrap_err(), -1);
}

/// A plausible framed stream for `mode` from `sender`: a few valid frames,
/// sometimes followed by garbage.
fn any_stream() -> impl Strategy<Value = (i32, i32, Vec<u8>, Vec<usize>)> {
    let frame = (bytes(40), any::<bool>(), bytes(15), any::<u32>());
    (
        1..=3i32,
        0..=1i32,
        proptest::collection::vec(frame, 0..6),
        bytes(12),
        proptest::collection::vec(any::<usize>(), 0..12),
    )
        .prop_map(|(mode, sender, frames, tail, cuts)| {
            let mut s = Vec::new();
            for (mut payload, ack, mut pad, confirm) in frames {
                payload.truncate(payload.len() & !3);
                payload.push(1);
                payload.resize(payload.len().next_multiple_of(4), 0);
                let ack = ack && sender == 0;
                pad.truncate(if mode != 3 {
                    0
                } else if sender == 0 {
                    15
                } else {
                    3
                });
                let mut out = vec![0u8; 100];
                let n = rf::encode_packet(sender, mode, ack, &payload, &pad, &mut out).unwrap();
                s.extend_from_slice(&out[..n]);
                if sender == 1 && confirm & 1 == 1 {
                    let n = rf::encode_quick_ack(mode, confirm | 0x8000_0000, &[0; 17], &mut out)
                        .unwrap();
                    s.extend_from_slice(&out[..n]);
                }
            }
            s.extend_from_slice(&tail);
            (mode, sender, s, cuts)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decoders_agree_with_each_other_and_the_model((mode, sender, stream, cuts) in any_stream()) {
        let chunks = chunked(&stream, &cuts);
        let c = run_decoder!(cf, mode, sender, chunks.iter().copied(), MAX);
        let r = run_decoder!(rf, mode, sender, chunks.iter().copied(), MAX);
        prop_assert_eq!(&c, &r);
        let whole = run_decoder!(rf, mode, sender, [&stream[..]], MAX);
        prop_assert_eq!(summary(&whole), model(mode, sender, &stream));
        prop_assert_eq!(summary(&r), model(mode, sender, &stream));
    }

    #[test]
    fn length_headers_at_their_edges_agree_with_the_model(
        mode in prop_oneof![Just(1i32), 1..=3i32],
        sender in 0..=1i32,
        ack in any::<bool>(),
        long_form in any::<bool>(),
        short in parity_tests::boundary_len(&[0x7e, 0x7f], 0x7f),
        quarters in prop_oneof![
            3 => parity_tests::boundary_len(&[0x7e, 0x7f], 0x80),
            1 => parity_tests::boundary_len(&[MAX / 4], 0xff_ffff),
        ],
        word in parity_tests::boundary_len(&[4, 0x7e * 4, 0x7f * 4, MAX], 0x7fff_ffff),
        body in parity_tests::boundary_bytes(&[0x7e * 4, 0x7f * 4], 600),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        // One header at a length edge: abridged one-byte (0..=0x7e, or 0x7f
        // announcing the 3-byte form) and 3-byte lengths (below 0x7f is
        // overlong), 4-byte lengths around 0, the abridged switch and the
        // 1,044,480-byte limit; then up to 600 bytes of body.
        let ack_bit = if ack { 0x80u8 } else { 0 };
        let short = if long_form { 0x7f } else { short };
        let mut stream = if mode == 1 {
            let mut h = vec![short as u8 | ack_bit];
            if short == 0x7f {
                h.extend_from_slice(&(quarters as u32).to_le_bytes()[..3]);
            }
            h
        } else {
            (word as u32 | if ack { 0x8000_0000 } else { 0 }).to_le_bytes().to_vec()
        };
        stream.extend_from_slice(&body);
        let chunks = chunked(&stream, &cuts);
        let c = run_decoder!(cf, mode, sender, chunks.iter().copied(), MAX);
        let r = run_decoder!(rf, mode, sender, chunks.iter().copied(), MAX);
        prop_assert_eq!(&c, &r);
        prop_assert_eq!(summary(&r), model(mode, sender, &stream));
    }

    #[test]
    fn decoders_agree_on_garbage(mode in 0..=4i32, sender in -1..=2i32, (stream, cuts) in parity_tests::chunked_bytes(64), cap in 0..40usize) {
        let chunks = chunked(&stream, &cuts);
        let c = run_decoder!(cf, mode, sender, chunks.iter().copied(), cap);
        let r = run_decoder!(rf, mode, sender, chunks.iter().copied(), cap);
        prop_assert_eq!(c, r);
    }

    #[test]
    fn encoders_agree(
        sender in -1..=2i32,
        mode in 0..=4i32,
        ack in any::<bool>(),
        payload in parity_tests::boundary_bytes(&[4, 0x7e * 4, 0x7f * 4], 600),
        padding in parity_tests::boundary_bytes(&[3, 4, 15, 16], 17),
        cap in parity_tests::boundary_len(&[0x7e * 4 + 1, 0x7f * 4 + 4], 700),
    ) {
        let (mut co, mut ro) = (vec![0u8; cap], vec![0u8; cap]);
        let c = cf::encode_packet(sender, mode, ack, &payload, &padding, &mut co);
        let r = rf::encode_packet(sender, mode, ack, &payload, &padding, &mut ro);
        prop_assert_eq!(c, r);
        prop_assert_eq!(co, ro);
    }

    #[test]
    fn quick_acks_agree_and_decode(mode in 0..=4i32, confirm in any::<u32>(), random in bytes(20), cap in 0..40usize) {
        let (mut co, mut ro) = (vec![0u8; cap], vec![0u8; cap]);
        let c = cf::encode_quick_ack(mode, confirm | 0x8000_0000, &random, &mut co);
        let r = rf::encode_quick_ack(mode, confirm | 0x8000_0000, &random, &mut ro);
        prop_assert_eq!(c, r);
        prop_assert_eq!(&co, &ro);
        if let Ok(n) = r {
            // A client sees either the raw answer or two ordinary packets.
            let (packets, error) = model(mode, 1, &ro[..n]);
            prop_assert_eq!(error, 0);
            let raw = (true, confirm | 0x8000_0000, vec![]);
            prop_assert!(packets == vec![raw] || (packets.len() == 2 && packets[0].2[..4] == [0xff; 4][..]));
        }
    }

    #[test]
    fn filters_agree(packet in bytes(80), zero_id in any::<bool>(), len_word in any::<i32>(), function in 0..5usize, ping in any::<bool>()) {
        let mut p = packet;
        if zero_id && p.len() >= 24 {
            p[..8].fill(0);
            if len_word & 1 == 0 {
                p[16..20].copy_from_slice(&(len_word.rem_euclid(70)).to_le_bytes());
            }
            let functions = [0x6046_9778u32, 0xbe7e_8ef1, 0xd712_e4be, 0xf504_5f1f, 7];
            p[20..24].copy_from_slice(&functions[function].to_le_bytes());
        }
        if ping && p.len() >= 4 {
            p[..4].copy_from_slice(&0x5730_a2dfu32.to_le_bytes());
        }
        let c = cf::classify_packet(&p);
        let r = rf::classify_packet(&p);
        prop_assert_eq!((c.action, c.reason, c.unencrypted, c.pong), (r.action, r.reason, r.unencrypted, r.pong));
    }

    #[test]
    fn client_to_proxy_round_trip_across_languages(
        mode in 1..=3i32,
        packets in proptest::collection::vec((bytes(300), any::<bool>(), bytes(15)), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        c_encodes in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (payload, ack, pad) in &packets {
            let mut payload = payload.clone();
            payload.resize(payload.len().next_multiple_of(4).max(4), 0);
            let pad = if mode == 3 { &pad[..] } else { &[][..] };
            let mut out = vec![0u8; 400];
            let n = if c_encodes {
                cf::encode_packet(0, mode, *ack, &payload, pad, &mut out)
            } else {
                rf::encode_packet(0, mode, *ack, &payload, pad, &mut out)
            }.unwrap();
            stream.extend_from_slice(&out[..n]);
            // §3 quirk: whole 4-byte groups of the padding are forwarded.
            let mut forwarded = payload.clone();
            forwarded.extend_from_slice(&pad[..pad.len() & !3]);
            want.push((*ack, 0, forwarded));
        }
        let chunks = chunked(&stream, &cuts);
        let steps = if c_encodes {
            run_decoder!(rf, mode, 0, chunks.iter().copied(), MAX)
        } else {
            run_decoder!(cf, mode, 0, chunks.iter().copied(), MAX)
        };
        prop_assert_eq!(summary(&steps), (want, 0));
    }

    #[test]
    fn proxy_to_client_round_trip_across_languages(
        mode in 1..=3i32,
        packets in proptest::collection::vec((bytes(600), any::<u32>(), bytes(3), any::<[u8; 17]>()), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        c_encodes in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (payload, confirm, pad, random) in &packets {
            let mut payload = payload.clone();
            payload.resize(payload.len().next_multiple_of(4).max(4), 0);
            let pad = if mode == 3 { &pad[..] } else { &[][..] };
            let mut out = vec![0u8; 700];
            let n = if c_encodes {
                cf::encode_packet(1, mode, false, &payload, pad, &mut out)
            } else {
                rf::encode_packet(1, mode, false, &payload, pad, &mut out)
            }.unwrap();
            stream.extend_from_slice(&out[..n]);
            want.push((false, 0, payload));
            if confirm & 1 == 1 {
                let confirm = confirm | 0x8000_0000;
                let n = if c_encodes {
                    cf::encode_quick_ack(mode, confirm, random, &mut out)
                } else {
                    rf::encode_quick_ack(mode, confirm, random, &mut out)
                }.unwrap();
                stream.extend_from_slice(&out[..n]);
                if mode == 3 && random[0] & 1 == 1 {
                    let mut first = vec![0xff; 4];
                    first.extend_from_slice(&confirm.to_le_bytes());
                    if random[1] & 1 == 1 {
                        first.extend_from_slice(&random[3..7]);
                    }
                    want.push((false, 0, first));
                    let second = if random[2] & 1 == 1 { [&[0; 4][..], &random[10..14]].concat() } else { vec![0; 4] };
                    want.push((false, 0, second));
                } else {
                    want.push((true, confirm, vec![]));
                }
            }
        }
        let chunks = chunked(&stream, &cuts);
        let steps = if c_encodes {
            run_decoder!(rf, mode, 1, chunks.iter().copied(), MAX)
        } else {
            run_decoder!(cf, mode, 1, chunks.iter().copied(), MAX)
        };
        prop_assert_eq!(summary(&steps), (want, 0));
    }
}

mod args;
