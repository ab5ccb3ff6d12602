//! fake-tls, the domain-mimicry parts: X25519 key shares (RFC 7748 known
//! answers and random keys), the probe hello, the parser of a domain's first
//! flight (valid flights with record lengths at their edges, truncations and
//! mutations) and the profile rule, C against Rust.
use super::{ct, rt, unhex};
use parity_tests::config;
use proptest::prelude::*;

#[test]
fn x25519_known_answers_on_both_sides() {
    for (private, public) in [
        (
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        ),
        (
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        ),
    ] {
        let key: [u8; 32] = unhex(private).try_into().unwrap();
        assert_eq!(ct::x25519_public_key(&key).unwrap().to_vec(), unhex(public));
        assert_eq!(rt::x25519_public_key(&key).unwrap().to_vec(), unhex(public));
    }
}

/// A TLS 1.3 server flight: ServerHello echoing `session`, optional CCS,
/// `17 03 03` records of the given lengths.
fn flight(session: &[u8; 32], swapped: bool, ccs: bool, records: &[usize], suite: u8) -> Vec<u8> {
    let key_share = [
        &[0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20][..],
        &[5; 32],
    ]
    .concat();
    let versions = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
    let exts = if swapped {
        [&versions[..], &key_share].concat()
    } else {
        [&key_share[..], &versions].concat()
    };
    let mut body = vec![0x02, 0x00, 0x00, 0x76, 0x03, 0x03];
    body.extend_from_slice(&[9; 32]);
    body.push(0x20);
    body.extend_from_slice(session);
    body.extend_from_slice(&[0x13, suite, 0x00, 0x00, 0x2e]);
    body.extend_from_slice(&exts);
    let mut out = vec![0x16, 0x03, 0x03, 0x00, body.len() as u8];
    out.extend_from_slice(&body);
    if ccs {
        out.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    }
    for &len in records {
        out.extend_from_slice(&[0x17, 0x03, 0x03]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.resize(out.len() + len, 0xab);
    }
    out
}

/// A record length with weight on its edges: 0, 1, the fake-record limit
/// and one either side, and small values.
fn record_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1usize),
        Just(16_639usize),
        Just(16_640usize),
        Just(16_641usize),
        0usize..64,
        0usize..20_000,
    ]
}

fn parse_both(data: &[u8], session: &[u8; 32]) -> Result<rt::ProbeReply, i32> {
    let c_side = ct::parse_probe_reply(&data.to_vec().into_boxed_slice(), session);
    let r_side = rt::parse_probe_reply(data, session);
    assert_eq!(c_side, r_side);
    r_side
}

#[test]
fn probe_reply_known_shapes_on_both_sides() {
    let session = [3u8; 32];
    let two = flight(&session, true, true, &[1008, 1615], 1);
    let reply = parse_both(&two, &session).unwrap();
    assert_eq!(
        (
            reply.extensions_swapped,
            reply.record_count,
            reply.flight_len
        ),
        (1, 2, 1008 + 5 + 1615)
    );
    let no_ccs = flight(&session, false, false, &[3000], 2);
    assert_eq!(parse_both(&no_ccs, &session).unwrap().cipher_suite, 2);
    let nine = flight(&session, false, true, &[10; 9], 1);
    assert_eq!(parse_both(&nine, &session).unwrap().record_count, 8);
    let big = flight(&session, false, true, &[16_000, 16_000], 1);
    assert_eq!(parse_both(&big, &session).unwrap().flight_len, 16_640);
    assert_eq!(parse_both(&two[..100], &session), Err(rt::ERR_NEED_MORE));
    assert_eq!(parse_both(&two, &[4; 32]), Err(rt::ERR_BAD_SERVER_HELLO));
}

/// Every single-byte change of the ServerHello record of a domain's
/// flight gets the same answer on both sides, and each fixed field of it
/// (record header, handshake header, version, session id length, session
/// id, suite's first byte, compression) is refused on its own; so is the
/// HelloRetryRequest random.
#[test]
fn every_single_byte_change_of_a_probe_server_hello_agrees() {
    let session = [3u8; 32];
    let good = flight(&session, false, true, &[100], 1);
    let fixed: Vec<usize> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 43, 76, 78]
        .into_iter()
        .chain(44..76)
        .collect();
    for at in 0..127 {
        for flip in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[at] ^= flip;
            let got = parse_both(&bad, &session);
            if fixed.contains(&at) {
                assert!(got.is_err(), "byte {at} ^ {flip:#x} accepted");
            }
        }
    }
    let hrr = unhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
    let mut retry = good.clone();
    retry[11..43].copy_from_slice(&hrr);
    assert_eq!(parse_both(&retry, &session), Err(rt::ERR_BAD_SERVER_HELLO));
}

/// A partial record header after the ServerHello and CCS: `17` waits for
/// more, any other first byte is refused; after a complete record, a
/// partial `17 03` ends the flight.
#[test]
fn probe_reply_partial_record_headers_on_both_sides() {
    let session = [3u8; 32];
    let base = flight(&session, false, true, &[], 1);
    let cases: [(&[u8], Result<usize, i32>); 3] = [
        (&[0x17], Err(rt::ERR_NEED_MORE)),
        (&[0x16], Err(rt::ERR_BAD_SERVER_HELLO)),
        (&[0x17, 0x03, 0x03, 0x00], Err(rt::ERR_NEED_MORE)),
    ];
    for (tail, want) in cases {
        let data = [&base[..], tail].concat();
        assert_eq!(
            parse_both(&data, &session).map(|r| r.record_count),
            want,
            "{tail:02x?}"
        );
    }
    let one = [&flight(&session, false, true, &[10], 1)[..], &[0x17, 0x03]].concat();
    assert_eq!(parse_both(&one, &session).map(|r| r.record_count), Ok(1));
    // Without a CCS, fewer than its 6 bytes after the ServerHello: a CCS
    // (`14`) or a data record (`17`) may be starting, anything else is not.
    let bare = flight(&session, false, false, &[], 1);
    let cases: [(&[u8], Result<usize, i32>); 5] = [
        (&[], Err(rt::ERR_NEED_MORE)),
        (&[0x17], Err(rt::ERR_NEED_MORE)),
        (&[0x14, 0x03], Err(rt::ERR_NEED_MORE)),
        (&[0x15], Err(rt::ERR_BAD_SERVER_HELLO)),
        (&[0x16, 0x03, 0x03], Err(rt::ERR_BAD_SERVER_HELLO)),
    ];
    for (tail, want) in cases {
        let data = [&bare[..], tail].concat();
        let got = parse_both(&data, &session).map(|r| r.record_count);
        assert_eq!(got, want, "no CCS, then {tail:02x?}");
    }
    // A record header alone: judged as soon as its 5 bytes are in.
    for (header, want) in [
        ([0x16, 0x03, 0x03, 0x00, 0x7a], rt::ERR_NEED_MORE),
        ([0x15, 0x03, 0x03, 0x00, 0x02], rt::ERR_BAD_SERVER_HELLO),
        ([0x16, 0x03, 0x01, 0x00, 0x7a], rt::ERR_BAD_SERVER_HELLO),
    ] {
        let got = parse_both(&header, &session).map(|r| r.record_count);
        assert_eq!(got, Err(want), "{header:02x?}");
        let got = parse_both(&header[..4], &session).map(|r| r.record_count);
        assert_eq!(got, Err(rt::ERR_NEED_MORE), "{:02x?}", &header[..4]);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn x25519_agrees(private in any::<[u8; 32]>()) {
        prop_assert_eq!(ct::x25519_public_key(&private), rt::x25519_public_key(&private));
    }

    #[test]
    fn probe_hello_agrees(
        domain in proptest::collection::vec(any::<u8>(), 0..=257),
        random in proptest::collection::vec(any::<u8>(), 100),
        cap in prop_oneof![Just(516usize), Just(517usize), 517usize..700],
    ) {
        let random: [u8; 100] = random.try_into().unwrap();
        let (mut c_out, mut r_out) = (vec![0u8; cap], vec![0u8; cap]);
        let c_side = ct::build_probe_hello(&domain.clone().into_boxed_slice(), &random, &mut c_out);
        let r_side = rt::build_probe_hello(&domain, &random, &mut r_out);
        prop_assert_eq!(c_side, r_side);
        prop_assert_eq!(c_out, r_out);
    }

    #[test]
    fn probe_reply_agrees(
        swapped in any::<bool>(),
        ccs in any::<bool>(),
        suite in 0u8..5,
        records in proptest::collection::vec(record_len(), 0..10),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        same_session in any::<bool>(),
    ) {
        let session = [7u8; 32];
        let mut data = flight(&session, swapped, ccs, &records, suite);
        for (at, byte) in &flips {
            let at = at.index(data.len().min(200));
            data[at] ^= byte;
        }
        if truncate {
            data.truncate(cut.index(data.len() + 1));
        }
        let asked = if same_session { session } else { [8u8; 32] };
        let _ = parse_both(&data, &asked);
    }

    #[test]
    fn profile_agrees(
        lens in prop_oneof![
            // Spreads around the rule's edges (0, 3, 4) over one base.
            (0usize..20_000, proptest::collection::vec(0usize..=4, 1..24))
                .prop_map(|(base, offsets)| offsets.iter().map(|o| base + o).collect::<Vec<_>>()),
            proptest::collection::vec(
                prop_oneof![Just(0usize), Just(1usize), Just(16_640usize), 0usize..20_000],
                0..24,
            ),
        ],
        now in any::<i64>(),
        swapped in 0i32..2,
        r in any::<u32>(),
    ) {
        let replies: Vec<rt::ProbeReply> = lens
            .iter()
            .map(|&flight_len| rt::ProbeReply {
                extensions_swapped: swapped,
                flight_len,
                record_count: 1,
                ..rt::ProbeReply::default()
            })
            .collect();
        let c_side = ct::profile_from_replies(&replies, now);
        let r_side = rt::profile_from_replies(&replies, now);
        prop_assert_eq!(c_side, r_side);
        let profile = r_side.unwrap_or_default();
        prop_assert_eq!(
            ct::profile_app_data_len(&profile, r),
            rt::profile_app_data_len(&profile, r)
        );
    }

    #[test]
    fn app_data_len_agrees(
        learned in 0i32..2,
        randomize in 0i32..2,
        n in prop_oneof![Just(0usize), Just(1usize), Just(16_640usize), Just(16_641usize), Just(usize::MAX), any::<usize>()],
        r in any::<u32>(),
    ) {
        let profile = rt::TlsProfile { learned, randomize, app_data_len: n, ..rt::TlsProfile::default() };
        prop_assert_eq!(
            ct::profile_app_data_len(&profile, r),
            rt::profile_app_data_len(&profile, r)
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn profile_stats_agree(
        domain in proptest::collection::vec(any::<u8>(), 0..300),
        learned in 0i32..2,
        swapped in 0i32..2,
        randomize in 0i32..2,
        app_data_len in any::<usize>(),
        record_count in 0usize..10,
        learned_at in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>(), 0i64..2_000_000_000],
        now in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>(), 0i64..2_000_000_000],
        prometheus in any::<bool>(),
        cap in prop_oneof![Just(0usize), 0usize..400],
    ) {
        let profile = rt::TlsProfile { learned, extensions_swapped: swapped, app_data_len, randomize, record_count, learned_at };
        let (mut c_out, mut r_out) = (vec![0u8; cap], vec![0u8; cap]);
        let c_len = ct::render_profile_stats(&domain.clone().into_boxed_slice(), &profile, now, prometheus, &mut c_out);
        let r_len = rt::render_profile_stats(&domain, &profile, now, prometheus, &mut r_out);
        prop_assert_eq!(c_len, r_len);
        prop_assert_eq!(c_out, r_out);
    }
}
