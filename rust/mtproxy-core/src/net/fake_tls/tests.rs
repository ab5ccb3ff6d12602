use super::*;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn hello(domain: &[u8], time: u32, total: usize) -> Vec<u8> {
    let mut out = vec![0; total];
    let random: [u8; 64] = std::array::from_fn(|i| i as u8);
    assert_eq!(
        build_client_hello(&SECRET, domain, time, &random, total, &mut out),
        Ok(total)
    );
    out
}

fn check(record: &[u8], cache: &mut ReplayCache, now: i64) -> HelloCheck {
    let secrets = [[9u8; 16], SECRET];
    let domains: [&[u8]; 2] = [b"example.com", b"telegram.org"];
    check_client_hello(record, record.len(), &secrets, &domains, cache, now).unwrap()
}

#[test]
fn detection_follows_the_relaxed_rule() {
    assert_eq!(detect_client_hello(b""), Err(ERR_NEED_MORE));
    assert_eq!(detect_client_hello(b"\x16\x03\x01\x02"), Err(ERR_NEED_MORE));
    assert_eq!(detect_client_hello(b"\x16\x03\x01\x02\x00"), Ok(517));
    assert_eq!(detect_client_hello(b"\x16\x03\x01\x07\x10"), Ok(5 + 0x710));
    assert_eq!(
        detect_client_hello(b"\x16\x03\x01\x01\xff"),
        Err(ERR_NOT_TLS)
    );
    assert_eq!(detect_client_hello(b"\x16\x03\x03"), Err(ERR_NOT_TLS));
    assert_eq!(detect_client_hello(b"GET "), Err(ERR_NOT_TLS));
}

#[test]
fn a_built_hello_is_accepted_once() {
    let record = hello(b"telegram.org", NOW as u32, 517);
    let mut cache = ReplayCache::new(16).unwrap();
    let got = check(&record, &mut cache, NOW);
    assert_eq!((got.verdict, got.reason), (VERDICT_ACCEPT, REJECT_NONE));
    assert_eq!(
        (got.secret_index, got.domain_index, got.cipher_suite),
        (1, 1, 1)
    );
    assert_eq!(got.session_id[..], record[44..76]);
    let again = check(&record, &mut cache, NOW);
    assert_eq!(
        (again.verdict, again.reason),
        (VERDICT_RELAY_SNI, REJECT_REPLAY)
    );
}

#[test]
fn rejections_name_their_reason() {
    let mut cache = ReplayCache::new(16).unwrap();
    let unknown = hello(b"other.org", NOW as u32, 600);
    assert_eq!(check(&unknown, &mut cache, NOW).reason, REJECT_UNKNOWN_SNI);
    let future = hello(b"example.com", NOW as u32 + 4, 517);
    let got = check(&future, &mut ReplayCache::new(4).unwrap(), NOW);
    assert_eq!(
        (got.verdict, got.reason, got.domain_index),
        (VERDICT_RELAY_SNI, REJECT_BAD_TIME, 0)
    );
    let past = hello(b"example.com", NOW as u32 - 601, 517);
    assert_eq!(
        check(&past, &mut ReplayCache::new(4).unwrap(), NOW).reason,
        REJECT_BAD_TIME
    );
    let edge = hello(b"example.com", NOW as u32 + 3, 517);
    assert_eq!(
        check(&edge, &mut ReplayCache::new(4).unwrap(), NOW).reason,
        REJECT_NONE
    );
    let mut tampered = hello(b"example.com", NOW as u32, 517);
    tampered[500] ^= 1;
    assert_eq!(check(&tampered, &mut cache, NOW).reason, REJECT_BAD_HMAC);
    let mut cache = ReplayCache::new(4).unwrap();
    let big = hello(b"example.com", NOW as u32, 4096);
    let trailing = check_client_hello(&big, 4097, &[SECRET], &[b"example.com"], &mut cache, NOW);
    assert_eq!(trailing.map(|c| c.reason), Ok(REJECT_TRAILING_DATA));
}

#[test]
fn replay_cache_expires_and_evicts_oldest() {
    let mut cache = ReplayCache::new(2).unwrap();
    cache.insert(&[1; 16], 100);
    cache.insert(&[2; 16], 200);
    cache.insert(&[3; 16], 300);
    assert!(!cache.lookup(&[1; 16], 300));
    assert_eq!((cache.len(), cache.oldest_time()), (2, Some(200)));
    assert!(cache.lookup(&[2; 16], 200 + REPLAY_EXPIRY - 1));
    assert!(!cache.lookup(&[2; 16], 200 + REPLAY_EXPIRY));
    assert!(
        cache.lookup(&[3; 16], i64::MAX),
        "the last entry is always kept"
    );
    assert_eq!(ReplayCache::new(0).map(|_| ()), Err(ERR_ARG));
}

#[test]
fn server_hello_round_trip() {
    let (client_random, session) = ([7u8; 32], [8u8; 32]);
    let random: Vec<u8> = (0..32 + 100).map(|i| i as u8).collect();
    for swap in [false, true] {
        let mut out = vec![0; 238];
        let n = build_server_hello(
            &client_random,
            &session,
            2,
            &SECRET,
            100,
            swap,
            &random,
            &mut out,
        );
        assert_eq!(n, Ok(238));
        let info = parse_server_hello(&out, &client_random, &session, &SECRET).unwrap();
        assert_eq!(
            (
                info.cipher_suite,
                info.extensions_swapped,
                info.app_data_len
            ),
            (2, i32::from(swap), 100)
        );
        assert_eq!(
            parse_server_hello(&out[..237], &client_random, &session, &SECRET),
            Err(ERR_NEED_MORE)
        );
        out[200] ^= 1;
        assert_eq!(
            parse_server_hello(&out, &client_random, &session, &SECRET),
            Err(ERR_BAD_HMAC)
        );
    }
}

#[test]
fn records_round_trip_in_small_pieces() {
    let payload: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    let mut wire = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    let mut records = vec![0; wrapped_len(payload.len())];
    assert_eq!(wrap_records(&payload, &mut records), Ok(4015));
    assert_eq!(records[1430..1435], [0x17, 0x03, 0x03, 0x05, 0x91]);
    wire.extend_from_slice(&records);
    let mut reader = RecordReader::new(true);
    let mut got = Vec::new();
    for piece in wire.chunks(7) {
        let mut out = [0u8; 7];
        let (used, made) = reader.feed(piece, &mut out).unwrap();
        assert_eq!(used, piece.len());
        got.extend_from_slice(&out[..made]);
    }
    assert_eq!(got, payload);
    let mut bad = RecordReader::new(true);
    assert_eq!(bad.feed(b"\x14\x03\x03\x00\x01\x02", &mut []), Ok((5, 0)));
    assert_eq!(bad.feed(b"", &mut []), Err(ERR_BAD_CCS));
    let mut short = RecordReader::new(true);
    assert_eq!(
        short.feed(b"\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x3f", &mut []),
        Ok((10, 0))
    );
    assert_eq!(short.feed(b"\x3f", &mut []), Err(ERR_FIRST_RECORD_SHORT));
}

#[test]
fn feed_all_takes_whole_reads_and_keeps_the_payload_before_an_error() {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let mut wire = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    let mut records = vec![0; wrapped_len(payload.len())];
    wrap_records(&payload, &mut records).unwrap();
    wire.extend_from_slice(&records);
    let mut reader = RecordReader::new(true);
    let mut got = Vec::new();
    for piece in wire.chunks(1000) {
        let mut out = vec![0u8; piece.len()];
        let made = reader.feed_all(piece, &mut out).unwrap();
        got.extend_from_slice(&out[..made]);
    }
    assert_eq!(got, payload);
    // A good record, then a broken header: the good payload comes back
    // with the error.
    let mut broken = wire[..6 + 5 + 100].to_vec();
    broken[6 + 3..6 + 5].copy_from_slice(&95u16.to_be_bytes());
    let mut reader = RecordReader::new(true);
    let mut out = vec![0u8; broken.len()];
    assert_eq!(
        reader.feed_all(&broken, &mut out),
        Err((95, ERR_BAD_RECORD))
    );
    assert_eq!(out[..95], payload[..95]);
    // No room for payload.
    let mut reader = RecordReader::new(true);
    assert_eq!(
        reader.feed_all(&wire[..20], &mut [0u8; 4]),
        Err((4, ERR_SPACE))
    );
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn x25519_public_key_matches_rfc7748() {
    // RFC 7748 §6.1, Alice and Bob.
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
        assert_eq!(x25519_public_key(&key).unwrap().to_vec(), unhex(public));
    }
}

#[test]
fn server_hello_key_share_is_the_public_key_of_the_random_scalar() {
    let random: Vec<u8> = (0..32 + 10).map(|i| (i * 7) as u8).collect();
    let mut out = vec![0; 148];
    build_server_hello(&[1; 32], &[2; 32], 1, &SECRET, 10, false, &random, &mut out).unwrap();
    let private: [u8; 32] = random[..32].try_into().unwrap();
    assert_eq!(out[89..121], x25519_public_key(&private).unwrap());
}

fn probe_random() -> [u8; PROBE_RANDOM_LEN] {
    std::array::from_fn(|i| (i * 13 + 5) as u8)
}

#[test]
fn probe_hello_is_a_517_byte_tls13_hello_naming_the_domain() {
    let mut out = [0u8; 600];
    assert_eq!(
        build_probe_hello(b"example.com", &probe_random(), &mut out),
        Ok(PROBE_HELLO_LEN)
    );
    let hello = &out[..PROBE_HELLO_LEN];
    assert_eq!(detect_client_hello(hello), Ok(PROBE_HELLO_LEN));
    assert_eq!(
        find_sni_extension(hello).and_then(sni_name),
        Some(&b"example.com"[..])
    );
    assert_eq!(hello[44..76], probe_random()[32..64]);
    let private: [u8; 32] = probe_random()[64..96].try_into().unwrap();
    let public = x25519_public_key(&private).unwrap();
    assert!(hello.windows(32).any(|w| w == public));
    assert_eq!(
        build_probe_hello(b"", &probe_random(), &mut out),
        Err(ERR_ARG)
    );
    assert_eq!(
        build_probe_hello(b"a", &probe_random(), &mut out[..516]),
        Err(ERR_SPACE)
    );
}

/// A TLS 1.3 server flight: ServerHello with `session`, CCS, data records.
fn server_flight(session: &[u8; 32], swapped: bool, records: &[usize]) -> Vec<u8> {
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
    body.extend_from_slice(&[0x13, 0x01, 0x00, 0x00, 0x2e]);
    body.extend_from_slice(&exts);
    let mut flight = vec![0x16, 0x03, 0x03, 0x00, body.len() as u8];
    flight.extend_from_slice(&body);
    flight.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    for &len in records {
        flight.extend_from_slice(&[0x17, 0x03, 0x03]);
        flight.extend_from_slice(&(len as u16).to_be_bytes());
        flight.resize(flight.len() + len, 0xab);
    }
    flight
}

#[test]
fn probe_reply_learns_order_and_records() {
    let session = [3u8; 32];
    let flight = server_flight(&session, true, &[1008, 1615]);
    let reply = parse_probe_reply(&flight, &session).unwrap();
    assert_eq!(reply.extensions_swapped, 1);
    assert_eq!(reply.cipher_suite, 1);
    assert_eq!(reply.record_count, 2);
    assert_eq!(reply.record_lens[..2], [1008, 1615]);
    assert_eq!(reply.flight_len, 1008 + 5 + 1615);
    // A partial second record is not counted; no complete record: need more.
    let cut = flight.len() - 1;
    assert_eq!(
        parse_probe_reply(&flight[..cut], &session)
            .unwrap()
            .record_count,
        1
    );
    assert_eq!(
        parse_probe_reply(&flight[..138], &session),
        Err(ERR_NEED_MORE)
    );
    let one = server_flight(&session, false, &[2345]);
    let reply = parse_probe_reply(&one, &session).unwrap();
    assert_eq!((reply.extensions_swapped, reply.flight_len), (0, 2345));
    assert_eq!(parse_probe_reply(&one, &[4; 32]), Err(ERR_BAD_SERVER_HELLO));
    let mut alert = one.clone();
    alert[133] = 0x15;
    assert_eq!(
        parse_probe_reply(&alert, &session),
        Err(ERR_BAD_SERVER_HELLO)
    );
    let mut hrr = one;
    hrr[11..43].copy_from_slice(&probe::HRR_RANDOM);
    assert_eq!(parse_probe_reply(&hrr, &session), Err(ERR_BAD_SERVER_HELLO));
}

#[test]
fn profile_follows_upstreams_rule() {
    let reply = |n| ProbeReply {
        flight_len: n,
        record_count: 1,
        ..ProbeReply::default()
    };
    let fixed = profile_from_replies(&[reply(3000), reply(3000)], 7).unwrap();
    assert_eq!(
        (fixed.app_data_len, fixed.randomize, fixed.learned_at),
        (3000, 0, 7)
    );
    let close = profile_from_replies(&[reply(3000), reply(3003), reply(3001)], 7).unwrap();
    assert_eq!((close.app_data_len, close.randomize), (3002, 1));
    let wide = profile_from_replies(&[reply(3000), reply(3100)], 7).unwrap();
    assert_eq!((wide.app_data_len, wide.randomize), (3050, 1));
    assert_eq!(profile_from_replies(&[], 7), Err(ERR_ARG));
    let picks: Vec<usize> = (0..4).map(|r| profile_app_data_len(&close, r)).collect();
    assert_eq!(picks, [3001, 3002, 3002, 3003]);
    assert_eq!(profile_app_data_len(&fixed, 3), 3000);
    let fallback = TlsProfile::default();
    assert_eq!(
        profile_app_data_len(&fallback, 1121),
        FALLBACK_APP_DATA_BASE + 1
    );
}

#[test]
fn probe_hello_extensions_are_distinct_and_its_grease_group_is_offered() {
    for seed in 0..=255u8 {
        let mut random = probe_random();
        random[96..100].copy_from_slice(&[
            seed,
            seed.wrapping_mul(7),
            seed ^ 0x5a,
            seed.rotate_left(4),
        ]);
        let mut hello = [0u8; PROBE_HELLO_LEN];
        build_probe_hello(b"example.com", &random, &mut hello).unwrap();
        let (mut at, mut types, mut groups_grease, mut share_grease) = (114, Vec::new(), 0, 1);
        while at + 4 <= hello.len() {
            let kind = u16::from_be_bytes([hello[at], hello[at + 1]]);
            let len = usize::from(u16::from_be_bytes([hello[at + 2], hello[at + 3]]));
            let data = &hello[at + 4..at + 4 + len];
            match kind {
                0x000a => groups_grease = u16::from_be_bytes([data[2], data[3]]),
                0x0033 => share_grease = u16::from_be_bytes([data[2], data[3]]),
                _ => {}
            }
            types.push(kind);
            at += 4 + len;
        }
        assert_eq!(at, hello.len(), "the extensions fill the hello");
        let mut distinct = types.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), types.len(), "seed {seed}: {types:04x?}");
        assert_eq!(groups_grease, share_grease, "seed {seed}");
    }
}

#[test]
fn prepared_keys_give_the_same_verdict_whichever_secret_is_tried_first() {
    let secrets = [[9u8; 16], [7u8; 16], SECRET, [5u8; 16]];
    let keys = hello_keys(&secrets);
    let domains: [&[u8]; 1] = [b"telegram.org"];
    for time in [NOW as u32, 0] {
        let record = hello(b"telegram.org", time, 517);
        let mut cache = ReplayCache::new(16).unwrap();
        let plain = check_client_hello(&record, 517, &secrets, &domains, &mut cache, NOW).unwrap();
        for first_try in [None, Some(0), Some(2), Some(3), Some(99)] {
            let mut cache = ReplayCache::new(16).unwrap();
            let keyed =
                check_client_hello_keyed(&record, 517, &keys, first_try, &domains, &mut cache, NOW)
                    .unwrap();
            assert_eq!(keyed, plain, "first_try {first_try:?}");
        }
    }
    assert_eq!(keys.len(), 4);
}
