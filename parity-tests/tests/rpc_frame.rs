//! rpc-frame: C vs Rust encoders and stream decoders on random payloads,
//! random chunkings, random operation sequences and hostile streams; frames
//! built by one language are decoded by the other.
use parity_tests::{c, chunked, chunked_bytes, config, rust};
use proptest::prelude::*;

use c::rpc_frame as cf;
use rust::net::rpc_frame as rf;

/// The nonce payload of docs/PROTOCOL.md §4.3 with key_select `de ad be ef`,
/// schema 1, ts 1700000000 and nonce bytes 0..16.
fn nonce_payload() -> Vec<u8> {
    let mut p = vec![0xaa, 0x87, 0xcb, 0x7a, 0xde, 0xad, 0xbe, 0xef];
    p.extend_from_slice(&1i32.to_le_bytes());
    p.extend_from_slice(&1_700_000_000i32.to_le_bytes());
    p.extend(0u8..16);
    p
}

fn kinds(crc32c: bool) -> (cf::CrcKind, rf::CrcKind) {
    if crc32c {
        (cf::CrcKind::Crc32c, rf::CrcKind::Crc32c)
    } else {
        (cf::CrcKind::Crc32, rf::CrcKind::Crc32)
    }
}

/// What one push did, comparable across sides: consumed bytes and the frame,
/// or the error; then the decoder's state.
type Step = (
    Result<(usize, Option<(i32, Vec<u8>)>), i32>,
    (i32, i32, usize, i32),
);

/// Pushes `data` into a decoder until it is consumed, an error occurs or (if
/// `switch_after` frames were delivered) the CRC kind switches; logs each
/// step.
macro_rules! drain {
    ($dec:expr, $data:expr, $log:expr, $switch:expr) => {{
        let (dec, log, switch): (_, &mut Vec<Step>, _) = (&mut $dec, $log, $switch);
        let mut rest: &[u8] = $data;
        loop {
            let got = dec.push(rest).map(|p| {
                let frame = p.frame.map(|f| (f.seq, f.payload.to_vec()));
                (p.consumed, frame)
            });
            let state = (
                dec.expected_seq(),
                dec.crc().code(),
                dec.buffered(),
                dec.error_code(),
            );
            let done = !matches!(got, Ok((_, Some(_))));
            if let Ok((consumed, _)) = &got {
                rest = &rest[*consumed..];
            }
            log.push((got, state));
            if let Some((after, kind)) = switch {
                if log
                    .iter()
                    .filter(|s| matches!(s.0, Ok((_, Some(_)))))
                    .count()
                    == after
                {
                    dec.set_crc(kind);
                }
            }
            if done {
                break;
            }
        }
    }};
}

/// Decodes `chunks` on both sides; returns the C log after checking that
/// both logs are equal.
fn decode_both(
    first_seq: i32,
    crc32c: bool,
    chunks: &[&[u8]],
    switch_after: Option<usize>,
) -> Vec<Step> {
    let (ck, rk) = kinds(crc32c);
    let mut c_dec = cf::FrameDecoder::new(first_seq, ck);
    let mut r_dec = rf::FrameDecoder::new(first_seq, rk);
    let (mut c_log, mut r_log) = (Vec::new(), Vec::new());
    for chunk in chunks {
        drain!(
            c_dec,
            chunk,
            &mut c_log,
            switch_after.map(|n| (n, cf::CrcKind::Crc32c))
        );
        drain!(
            r_dec,
            chunk,
            &mut r_log,
            switch_after.map(|n| (n, rf::CrcKind::Crc32c))
        );
    }
    assert_eq!(c_log, r_log);
    c_log
}

fn frames_of(log: &[Step]) -> Vec<(i32, Vec<u8>)> {
    log.iter()
        .filter_map(|(got, _)| got.clone().ok().and_then(|(_, f)| f))
        .collect()
}

fn last_error(log: &[Step]) -> Option<i32> {
    log.iter().find_map(|(got, _)| got.clone().err())
}

#[test]
fn known_answers_both_sides() {
    let payload = nonce_payload();
    for (crc32c, want_crc) in [(false, 0x2a7c_9fa5u32), (true, 0x3adb_db3f)] {
        let (ck, rk) = kinds(crc32c);
        let c_frame = cf::encode_frame(-2, &payload, ck).unwrap();
        let r_frame = rf::encode_frame(-2, &payload, rk).unwrap();
        assert_eq!(c_frame, r_frame);
        assert_eq!(c_frame.len(), 44);
        // docs/PROTOCOL.md §4.3: the 44-byte nonce frame starts like this.
        let prefix = [
            0x2c, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xaa, 0x87, 0xcb, 0x7a,
        ];
        assert_eq!(c_frame[..12], prefix);
        assert_eq!(c_frame[8..40], payload[..]);
        assert_eq!(c_frame[40..], want_crc.to_le_bytes(), "crc32c={crc32c}");
    }
    // The 44-byte handshake is followed by one padding word (§4.2).
    for total in [44u64, 1068] {
        let (mut co, mut ro) = ([0u8; 12], [0u8; 12]);
        assert_eq!(cf::write_padding(total, &mut co), Ok(4));
        assert_eq!(rf::write_padding(total, &mut ro), Ok(4));
        assert_eq!(co[..4], [4, 0, 0, 0]);
        assert_eq!(co, ro);
    }
    assert_eq!(cf::write_padding(40, &mut [0; 12]), Ok(8));
    assert_eq!(rf::write_padding(36, &mut [0; 12]), Ok(12));
    assert_eq!(cf::write_padding(32, &mut []), Ok(0));
    assert_eq!(rf::write_padding(32, &mut []), Ok(0));
}

#[test]
fn constants_agree() {
    assert_eq!(cf::ERR_BAD_LENGTH, rf::ERR_BAD_LENGTH);
    assert_eq!(cf::ERR_TOO_BIG, rf::ERR_TOO_BIG);
    assert_eq!(cf::ERR_BAD_CRC, rf::ERR_BAD_CRC);
    assert_eq!(cf::ERR_BAD_SEQ, rf::ERR_BAD_SEQ);
    assert_eq!(cf::ERR_OUT_SMALL, rf::ERR_OUT_SMALL);
    assert_eq!(cf::MAX_FRAME_LEN, rf::MAX_FRAME_LEN);
    assert_eq!(cf::FRAME_OVERHEAD, rf::FRAME_OVERHEAD);
    assert_eq!(cf::PADDING_WORD, rf::PADDING_WORD);
    for code in -2..3 {
        assert_eq!(
            cf::CrcKind::from_code(code).map(cf::CrcKind::code),
            rf::CrcKind::from_code(code).map(rf::CrcKind::code)
        );
    }
}

#[test]
fn encoder_rejects_bad_payloads_on_both_sides() {
    let big = vec![0u8; rf::MAX_FRAME_LEN - 8];
    let biggest = vec![0u8; rf::MAX_FRAME_LEN - 12];
    for (payload, want) in [
        (&[][..], Err(rf::ERR_BAD_LENGTH)),
        (&[1, 2, 3][..], Err(rf::ERR_BAD_LENGTH)),
        (&[1; 6][..], Err(rf::ERR_BAD_LENGTH)),
        (&big[..], Err(rf::ERR_TOO_BIG)),
        (&biggest[..], Ok(rf::MAX_FRAME_LEN)),
    ] {
        let c_got = cf::encode_frame(7, payload, cf::CrcKind::Crc32).map(|f| f.len());
        let r_got = rf::encode_frame(7, payload, rf::CrcKind::Crc32).map(|f| f.len());
        assert_eq!(c_got, want, "C, {} bytes", payload.len());
        assert_eq!(r_got, want, "Rust, {} bytes", payload.len());
    }
    let (mut co, mut ro) = ([0x5au8; 23], [0x5au8; 23]);
    let c_got = cf::encode_frame_into(0, &[1; 12], cf::CrcKind::Crc32, &mut co);
    let r_got = rf::encode_frame_into(0, &[1; 12], rf::CrcKind::Crc32, &mut ro);
    assert_eq!(
        (c_got, r_got),
        (Err(rf::ERR_OUT_SMALL), Err(rf::ERR_OUT_SMALL))
    );
    assert_eq!((co, ro), ([0x5a; 23], [0x5a; 23]));
    assert_eq!(cf::write_padding(6, &mut [0; 12]), Err(rf::ERR_BAD_LENGTH));
    assert_eq!(rf::write_padding(6, &mut [0; 12]), Err(rf::ERR_BAD_LENGTH));
    assert_eq!(cf::write_padding(4, &mut [0; 11]), Err(rf::ERR_OUT_SMALL));
    assert_eq!(rf::write_padding(4, &mut [0; 11]), Err(rf::ERR_OUT_SMALL));
}

#[test]
fn hostile_length_fields() {
    let mut cases: Vec<(i32, i32)> = (1..16)
        .filter(|&l| l != 4)
        .map(|l| (l, rf::ERR_BAD_LENGTH))
        .collect();
    cases.extend([
        (0, rf::ERR_BAD_LENGTH),
        (-4, rf::ERR_BAD_LENGTH),
        (i32::MIN, rf::ERR_BAD_LENGTH),
        (-1, rf::ERR_BAD_LENGTH),
        (0x7fff_fffc, rf::ERR_TOO_BIG),
        (0x7fff_ffff, rf::ERR_BAD_LENGTH),
        (0x4000_0000, rf::ERR_TOO_BIG),
        ((rf::MAX_FRAME_LEN + 4) as i32, rf::ERR_TOO_BIG),
        (18, rf::ERR_BAD_LENGTH),
    ]);
    for (field, want) in cases {
        let mut stream = rf::PADDING_WORD.to_vec();
        stream.extend_from_slice(&field.to_le_bytes());
        stream.extend_from_slice(&[0u8; 32]);
        let log = decode_both(0, false, &[&stream], None);
        assert_eq!(last_error(&log), Some(want), "length field {field:#x}");
        // Sticky: the next push fails the same way without consuming.
        let again = decode_both(0, false, &[&stream, &rf::PADDING_WORD], None);
        assert_eq!(again.last().unwrap().0, Err(want));
    }
}

#[test]
fn hostile_sequences_and_crcs() {
    let frame = |seq: i32| rf::encode_frame(seq, &[1, 2, 3, 4], rf::CrcKind::Crc32).unwrap();
    // A gap, a replay, a reordering, a wrong start.
    for (seqs, first, ok) in [
        (vec![-2, -1, 1], -2, 2),
        (vec![-2, -1, 0, 0], -2, 3),
        (vec![0, 2, 1], 0, 1),
        (vec![-1], -2, 0),
        (vec![i32::MAX, i32::MIN, i32::MIN + 1], i32::MAX, 3),
    ] {
        let stream: Vec<u8> = seqs.iter().flat_map(|&s| frame(s)).collect();
        let log = decode_both(first, false, &[&stream], None);
        assert_eq!(frames_of(&log).len(), ok, "{seqs:?}");
        let want = if ok == seqs.len() {
            None
        } else {
            Some(rf::ERR_BAD_SEQ)
        };
        assert_eq!(last_error(&log), want, "{seqs:?}");
    }
    // Every single-bit flip in the CRC or payload is a CRC error; in the
    // length field it is some defined error or an incomplete frame.
    let good = frame(0);
    for bit in 0..good.len() * 8 {
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let log = decode_both(0, false, &[&bad], None);
        assert!(frames_of(&log).is_empty(), "bit {bit}");
        if bit >= 32 {
            assert_eq!(last_error(&log), Some(rf::ERR_BAD_CRC), "bit {bit}");
        }
    }
    // A CRC-32 frame where CRC-32C is expected and the other way round.
    let log = decode_both(0, true, &[&good], None);
    assert_eq!(last_error(&log), Some(rf::ERR_BAD_CRC));
}

#[test]
fn truncated_streams_wait_for_more() {
    let frame = rf::encode_frame(-2, &nonce_payload(), rf::CrcKind::Crc32).unwrap();
    for cut in 0..frame.len() {
        let log = decode_both(-2, false, &[&frame[..cut]], None);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].0, Ok((cut, None)));
        assert_eq!(log[0].1, (-2, 0, cut, 0));
    }
}

/// Payloads (multiples of 4, at least one word) for round trips.
fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(
        proptest::collection::vec(any::<[u8; 4]>(), 1..40).prop_map(|words| words.concat()),
        0..6,
    )
}

/// Encodes `payloads` from seq -2 with `encode`, inserting `pads[i] % 4`
/// padding words before each frame; frames from `switch_after` on use
/// CRC-32C.
fn build_stream(
    payloads: &[Vec<u8>],
    pads: &[u8],
    switch_after: Option<usize>,
    encode: impl Fn(i32, &[u8], bool) -> Vec<u8>,
) -> Vec<u8> {
    let mut stream = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let words = pads.get(i).map_or(0, |p| p % 4);
        for _ in 0..words {
            stream.extend_from_slice(&rf::PADDING_WORD);
        }
        let crc32c = switch_after.is_some_and(|n| i >= n);
        stream.extend(encode(i as i32 - 2, payload, crc32c));
    }
    stream
}

fn c_encode(seq: i32, payload: &[u8], crc32c: bool) -> Vec<u8> {
    cf::encode_frame(seq, payload, kinds(crc32c).0).unwrap()
}

fn r_encode(seq: i32, payload: &[u8], crc32c: bool) -> Vec<u8> {
    rf::encode_frame(seq, payload, kinds(crc32c).1).unwrap()
}

/// A decoder operation for the random-sequence test.
#[derive(Clone, Debug)]
enum Op {
    Push(Vec<u8>),
    SetSeq(i32),
    SetCrc(bool),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let word_frame = (any::<i8>(), parity_tests::bytes(24), any::<bool>()).prop_map(
        |(seq, mut payload, crc32c)| {
            payload.resize(payload.len() / 4 * 4 + 4, 0);
            r_encode(i32::from(seq % 4), &payload, crc32c)
        },
    );
    let op = prop_oneof![
        4 => word_frame.prop_map(Op::Push),
        2 => parity_tests::bytes(20).prop_map(Op::Push),
        1 => Just(Op::Push(rf::PADDING_WORD.to_vec())),
        1 => (-3i32..4).prop_map(Op::SetSeq),
        1 => any::<bool>().prop_map(Op::SetCrc),
    ];
    proptest::collection::vec(op, 0..16)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encode_matches(seq in any::<i32>(), payload in parity_tests::bytes(80), crc32c in any::<bool>(), cap in 0usize..100) {
        let (ck, rk) = kinds(crc32c);
        let (mut co, mut ro) = (vec![0x5au8; cap], vec![0x5au8; cap]);
        let c_got = cf::encode_frame_into(seq, &payload, ck, &mut co);
        let r_got = rf::encode_frame_into(seq, &payload, rk, &mut ro);
        prop_assert_eq!(c_got, r_got);
        prop_assert_eq!(co, ro);
    }

    #[test]
    fn padding_matches(total in any::<u64>(), cap in 0usize..16) {
        let (mut co, mut ro) = (vec![0x5au8; cap], vec![0x5au8; cap]);
        let c_got = cf::write_padding(total, &mut co);
        prop_assert_eq!(c_got, rf::write_padding(total, &mut ro));
        prop_assert_eq!(&co, &ro);
        if let Ok(n) = c_got {
            prop_assert_eq!((total + n as u64) % 16, 0);
            prop_assert!(co[..n].chunks(4).all(|w| w == rf::PADDING_WORD));
        }
    }

    #[test]
    fn decoders_agree_on_random_bytes(
        (data, cuts) in chunked_bytes(96), first in -3i32..3, crc32c in any::<bool>()
    ) {
        decode_both(first, crc32c, &chunked(&data, &cuts), None);
    }

    #[test]
    fn decoders_agree_on_random_operation_sequences(ops in ops(), first in -3i32..3) {
        let mut c_dec = cf::FrameDecoder::new(first, cf::CrcKind::Crc32);
        let mut r_dec = rf::FrameDecoder::new(first, rf::CrcKind::Crc32);
        let (mut c_log, mut r_log) = (Vec::new(), Vec::new());
        for op in &ops {
            match op {
                Op::Push(bytes) => {
                    drain!(c_dec, bytes, &mut c_log, None::<(usize, cf::CrcKind)>);
                    drain!(r_dec, bytes, &mut r_log, None::<(usize, rf::CrcKind)>);
                }
                Op::SetSeq(seq) => {
                    c_dec.set_seq(*seq);
                    r_dec.set_seq(*seq);
                }
                Op::SetCrc(crc32c) => {
                    c_dec.set_crc(kinds(*crc32c).0);
                    r_dec.set_crc(kinds(*crc32c).1);
                }
            }
            prop_assert_eq!(&c_log, &r_log);
            prop_assert_eq!(c_dec.expected_seq(), r_dec.expected_seq());
            prop_assert_eq!(c_dec.buffered(), r_dec.buffered());
        }
    }

    /// C encodes, Rust decodes and the other way round, over random chunkings
    /// with random padding words, with and without a switch to CRC-32C.
    #[test]
    fn roundtrip_across_languages(
        payloads in payloads(),
        pads in proptest::collection::vec(any::<u8>(), 6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        switch in proptest::option::of(0usize..6),
    ) {
        let want: Vec<(i32, Vec<u8>)> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| (i as i32 - 2, p.clone()))
            .collect();
        let from_c = build_stream(&payloads, &pads, switch, c_encode);
        let from_rust = build_stream(&payloads, &pads, switch, r_encode);
        prop_assert_eq!(&from_c, &from_rust);
        let chunks = chunked(&from_c, &cuts);
        // The decoder starts on CRC-32; `switch` frames later it moves on.
        let log = decode_both(-2, switch == Some(0), &chunks, switch.filter(|&n| n > 0));
        prop_assert_eq!(frames_of(&log), want);
        prop_assert_eq!(last_error(&log), None);
    }

    #[test]
    fn corrupted_streams_fail_alike(
        payloads in payloads(),
        flip in any::<(usize, u8)>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = build_stream(&payloads, &[1, 0, 2, 3, 0, 1], None, r_encode);
        if !stream.is_empty() {
            let at = flip.0 % stream.len();
            stream[at] ^= flip.1.max(1);
        }
        let log = decode_both(-2, false, &chunked(&stream, &cuts), None);
        prop_assert!(frames_of(&log).len() <= payloads.len());
    }
}

mod args;
