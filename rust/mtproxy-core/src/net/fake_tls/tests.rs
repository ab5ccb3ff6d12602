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
