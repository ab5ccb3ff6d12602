//! fake-tls: C vs Rust on ClientHello checks, the replay cache, the
//! ServerHello flight and the record layer; known answers from a Python
//! hashlib/hmac oracle; hellos built by one language checked by the other.
use parity_tests::{c, chunked, config, rust};
use proptest::prelude::*;

use c::fake_tls as ct;
use rust::net::fake_tls as rt;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const NOW: i64 = 1_700_000_000;

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A valid hello from the given side's builder.
macro_rules! hello {
    ($side:ident, $domain:expr, $time:expr, $total:expr, $random:expr) => {{
        let mut out = vec![0u8; $total];
        let n = $side::build_client_hello(&SECRET, $domain, $time, $random, $total, &mut out);
        assert_eq!(n, Ok($total));
        out
    }};
}

/// The check on one side, with a fresh cache of 64 entries and two secrets
/// (the matching one second) and two domains.
macro_rules! check_fresh {
    ($side:ident, $record:expr, $buffered:expr, $now:expr) => {{
        let mut cache = $side::ReplayCache::new(64).unwrap();
        let secrets = [[0x55u8; 16], SECRET];
        let domains: [&[u8]; 2] = [b"example.com", b"telegram.org"];
        let got =
            $side::check_client_hello($record, $buffered, &secrets, &domains, &mut cache, $now);
        (got, cache.len(), cache.oldest_time())
    }};
}

/// verdict, reason, secret index, domain index, suite; or the error code.
type CheckSummary = Result<(i32, i32, i32, i32, u8), i32>;

/// The check result (and cache state) on both sides; asserts they agree.
fn check_both(record: &[u8], buffered: usize, now: i64) -> CheckSummary {
    let c_side = check_fresh!(ct, record, buffered, now);
    let r_side = check_fresh!(rt, record, buffered, now);
    assert_eq!(c_side.0, r_side.0);
    assert_eq!((c_side.1, c_side.2), (r_side.1, r_side.2), "cache state");
    r_side.0.map(|h| {
        (
            h.verdict,
            h.reason,
            h.secret_index,
            h.domain_index,
            h.cipher_suite,
        )
    })
}

const RANDOM64: [u8; 64] = {
    let mut r = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        r[i] = 64 + i as u8;
        i += 1;
    }
    r
};

#[test]
fn detection_known_answers() {
    let cases: [(&[u8], Result<usize, i32>); 9] = [
        (b"", Err(rt::ERR_NEED_MORE)),
        (b"\x16\x03", Err(rt::ERR_NEED_MORE)),
        (b"\x16\x03\x01\x02", Err(rt::ERR_NEED_MORE)),
        (b"\x16\x03\x01\x02\x00", Ok(517)),
        (b"\x16\x03\x01\x06\x1a\xff", Ok(5 + 0x061a)),
        (b"\x16\x03\x01\xff\xff", Ok(5 + 0xffff)),
        (b"\x16\x03\x01\x01\xfc", Err(rt::ERR_NOT_TLS)),
        (b"\x16\x03\x03\x02\x00", Err(rt::ERR_NOT_TLS)),
        (b"\xef\xef\xef\xef", Err(rt::ERR_NOT_TLS)),
    ];
    for (input, want) in cases {
        assert_eq!(ct::detect_client_hello(input), want, "C {input:02x?}");
        assert_eq!(rt::detect_client_hello(input), want, "Rust {input:02x?}");
    }
}

#[test]
fn server_hello_known_answer_from_python_oracle() {
    let client_random: [u8; 32] = std::array::from_fn(|i| i as u8);
    let session: [u8; 32] = std::array::from_fn(|i| 32 + i as u8);
    let random: Vec<u8> = (0x80..0x80 + 40).collect();
    // The key share is X25519(random[0..32]); the oracle computed it with a
    // pure-Python RFC 7748 ladder (independent of OpenSSL and aws-lc).
    let want = unhex(concat!(
        "160303007a020000760303b4baf02f9f1cf920d38b0904e4590e043e62994a91505c95737d70cb79e69e37",
        "20202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f130100002e",
        "00330024001d0020493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d",
        "002b00020304140303000101170303000",
        "8a0a1a2a3a4a5a6a7"
    ));
    let swapped_random = unhex("685339e443d5b694275a3f38cebac62b8ff6d18d71197691c443948c65038550");
    for swap in [false, true] {
        let mut c_out = vec![0u8; 200];
        let mut r_out = vec![0u8; 200];
        let c_n = ct::build_server_hello(
            &client_random,
            &session,
            1,
            &SECRET,
            8,
            swap,
            &random,
            &mut c_out,
        );
        let r_n = rt::build_server_hello(
            &client_random,
            &session,
            1,
            &SECRET,
            8,
            swap,
            &random,
            &mut r_out,
        );
        assert_eq!((c_n, r_n), (Ok(146), Ok(146)));
        assert_eq!(c_out, r_out);
        if swap {
            assert_eq!(r_out[11..43], swapped_random[..]);
            assert_eq!(r_out[81..87], [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        } else {
            assert_eq!(r_out[..146], want[..]);
        }
    }
}

#[test]
fn client_hello_known_answer_from_python_oracle() {
    let c_hello = hello!(ct, b"example.com", 1_700_000_000, 517, &RANDOM64);
    let r_hello = hello!(rt, b"example.com", 1_700_000_000, 517, &RANDOM64);
    assert_eq!(c_hello, r_hello);
    let want_random = unhex("1c87fc1274c84072d76e8cf6978f53ceac7922f508472a24ba7a9bea3c7e2bcf");
    assert_eq!(r_hello[11..43], want_random[..]);
    let digest = rust::common::sha256::sha256(&r_hello);
    let want = unhex("eb562ee9dabc779d107ea6b9f045b4d08e8cb2e2f729dcc00d84674b2e57f38c");
    assert_eq!(digest[..], want[..]);
}

#[test]
fn record_wrapping_known_answer() {
    let payload: Vec<u8> = (0..4017u32).map(|i| i as u8).collect();
    for side_out in [
        {
            let mut o = vec![0; ct::wrapped_len(4017)];
            assert_eq!(ct::wrap_records(&payload, &mut o), Ok(4032));
            o
        },
        {
            let mut o = vec![0; rt::wrapped_len(4017)];
            assert_eq!(rt::wrap_records(&payload, &mut o), Ok(4032));
            o
        },
    ] {
        assert_eq!(side_out[..5], [0x17, 0x03, 0x03, 0x05, 0x91]);
        assert_eq!(side_out[1430..1435], [0x17, 0x03, 0x03, 0x05, 0x91]);
        assert_eq!(side_out[2860..2865], [0x17, 0x03, 0x03, 0x04, 0x8f]);
    }
    assert_eq!((ct::wrapped_len(0), rt::wrapped_len(0)), (0, 0));
    assert_eq!(
        (ct::wrapped_len(usize::MAX), rt::wrapped_len(usize::MAX)),
        (usize::MAX, usize::MAX)
    );
    let mut small = [0u8; 1429];
    assert_eq!(
        ct::wrap_records(&payload[..1425], &mut small),
        Err(ct::ERR_SPACE)
    );
    assert_eq!(
        rt::wrap_records(&payload[..1425], &mut small),
        Err(rt::ERR_SPACE)
    );
}

#[test]
fn first_record_of_exactly_64_bytes_is_accepted_on_both_sides() {
    // The first client data record carries the 64-byte obfuscated2 header:
    // 64 bytes is the smallest accepted length, 63 is refused.
    for (len, want_err) in [
        (63usize, Some(rt::ERR_FIRST_RECORD_SHORT)),
        (64, None),
        (65, None),
    ] {
        let mut wire = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03];
        wire.extend_from_slice(&(len as u16).to_be_bytes());
        let payload: Vec<u8> = (0..len as u8).collect();
        wire.extend_from_slice(&payload);
        let c = read_all_c(&wire, &[], &[len], true);
        let r = read_all_rust(&wire, &[], &[len], true);
        let want = if want_err.is_some() {
            (Vec::new(), want_err)
        } else {
            (payload, None)
        };
        assert_eq!(c, want, "C, first record of {len}");
        assert_eq!(r, want, "Rust, first record of {len}");
    }
}

#[test]
fn wrap_records_output_space_edges_on_both_sides() {
    let payload: Vec<u8> = (0..2 * 1425 + 1).map(|i| i as u8).collect();
    for len in [1usize, 64, 1425, 1426, 2850, 2851] {
        let need = rt::wrapped_len(len);
        for cap in [need - 1, need, need + 1] {
            let (mut co, mut ro) = (vec![0xaau8; cap], vec![0xaau8; cap]);
            let want = if cap < need {
                Err(rt::ERR_SPACE)
            } else {
                Ok(need)
            };
            assert_eq!(
                ct::wrap_records(&payload[..len], &mut co),
                want,
                "C {len} {cap}"
            );
            assert_eq!(
                rt::wrap_records(&payload[..len], &mut ro),
                want,
                "Rust {len} {cap}"
            );
            assert_eq!(co, ro);
        }
    }
}

#[test]
fn hostile_hellos_get_the_same_defined_verdict() {
    let good = hello!(rt, b"telegram.org", NOW as u32, 517, &RANDOM64);
    assert_eq!(
        check_both(&good, 517, NOW),
        Ok((rt::VERDICT_ACCEPT, 0, 1, 1, 1))
    );
    let relay_sni = |reason| Ok((rt::VERDICT_RELAY_SNI, reason, -1, 1, 0));
    // Wrong HMAC: one payload bit.
    let mut bad = good.clone();
    bad[400] ^= 0x80;
    assert_eq!(check_both(&bad, 517, NOW), relay_sni(rt::REJECT_BAD_HMAC));
    // Timestamps: 4 s ahead, 601 s behind (empty cache), edges accepted.
    for (offset, ok) in [
        (4i64, false),
        (3, true),
        (-599, true),
        (-600, false),
        (-601, false),
    ] {
        let h = hello!(ct, b"telegram.org", (NOW + offset) as u32, 517, &RANDOM64);
        let want = if ok {
            rt::REJECT_NONE
        } else {
            rt::REJECT_BAD_TIME
        };
        assert_eq!(
            check_both(&h, 517, NOW).map(|r| r.1),
            Ok(want),
            "offset {offset}"
        );
    }
    // Trailing data; a record over 4096 bytes (header says so, all present).
    assert_eq!(
        check_both(&good, 518, NOW),
        relay_sni(rt::REJECT_TRAILING_DATA)
    );
    let mut long = hello!(rt, b"telegram.org", NOW as u32, 4096, &RANDOM64);
    long.push(0);
    long[3..5].copy_from_slice(&4092u16.to_be_bytes());
    assert_eq!(check_both(&long, 4097, NOW), relay_sni(rt::REJECT_TOO_LONG));
    // Truncated record, buffered below the record, not a hello at all.
    assert_eq!(check_both(&good[..516], 516, NOW), Err(rt::ERR_ARG));
    assert_eq!(check_both(&good, 516, NOW), Err(rt::ERR_ARG));
    assert_eq!(check_both(&good[..4], 4, NOW), Err(rt::ERR_NEED_MORE));
    assert_eq!(
        check_both(b"GET / HTTP/1.1\r\n", 16, NOW),
        Err(rt::ERR_NOT_TLS)
    );
    // Unknown domain; bad SNI lengths and name type; a NUL in the name.
    let other = hello!(rt, b"telegram.orh", NOW as u32, 517, &RANDOM64);
    assert_eq!(
        check_both(&other, 517, NOW),
        Ok((rt::VERDICT_RELAY_DEFAULT, rt::REJECT_UNKNOWN_SNI, -1, -1, 0))
    );
    let no_sni = Ok((rt::VERDICT_RELAY_DEFAULT, rt::REJECT_NO_SNI, -1, -1, 0));
    for (at, value) in [
        (92, 0x02),
        (93, 0x10),
        (95, 0x0e),
        (96, 0x01),
        (98, 0x0d),
        (105, 0x00),
        (88, 0x00),
    ] {
        let mut h = good.clone();
        h[at] = value;
        // Byte 88 (extensions length) is not checked, but the HMAC covers it.
        let want = if at == 88 {
            relay_sni(rt::REJECT_BAD_HMAC)
        } else {
            no_sni
        };
        assert_eq!(check_both(&h, 517, NOW), want, "byte {at} = {value:#x}");
    }
    // Extension length running past the record; suite length past the record.
    let mut overrun = good.clone();
    overrun[92..94].copy_from_slice(&0xfff0u16.to_be_bytes());
    assert_eq!(check_both(&overrun, 517, NOW), no_sni);
    let mut suites = good.clone();
    suites[76..78].copy_from_slice(&0xffffu16.to_be_bytes());
    assert_eq!(check_both(&suites, 517, NOW), no_sni);
}

/// Re-signs a patched hello the way a client would (test-side signer).
fn resign(record: &mut [u8], time: u32) {
    record[11..43].fill(0);
    let d = rust::common::sha256::hmac_sha256(&SECRET, record);
    record[11..39].copy_from_slice(&d[..28]);
    for i in 0..4 {
        record[39 + i] = d[28 + i] ^ time.to_le_bytes()[i];
    }
}

#[test]
fn grease_only_and_foreign_suites_are_rejected() {
    let h = hello!(rt, b"example.com", NOW as u32, 517, &RANDOM64);
    let cases: [([u8; 8], CheckSummary); 7] = [
        (
            [0x4a, 0x4a, 0x5a, 0x5a, 0x6a, 0x6a, 0xfa, 0xfa],
            Ok((2, rt::REJECT_BAD_CIPHER, 0, 0, 0)),
        ),
        // The list's last pair is the first that is not GREASE.
        (
            [0x4a, 0x4a, 0x5a, 0x5a, 0x6a, 0x6a, 0x13, 0x01],
            Ok((0, 0, 0, 0, 1)),
        ),
        (
            [0x4a, 0x4a, 0x13, 0x04, 0x13, 0x01, 0x13, 0x02],
            Ok((2, rt::REJECT_BAD_CIPHER, 0, 0, 0)),
        ),
        (
            [0xc0, 0x2b, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03],
            Ok((2, rt::REJECT_BAD_CIPHER, 0, 0, 0)),
        ),
        (
            [0x4a, 0x4b, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03],
            Ok((2, rt::REJECT_BAD_CIPHER, 0, 0, 0)),
        ),
        (
            [0x0a, 0x0a, 0xda, 0xda, 0x13, 0x03, 0x13, 0x01],
            Ok((0, 0, 0, 0, 3)),
        ),
        (
            [0x13, 0x02, 0x4a, 0x4a, 0x00, 0x00, 0x00, 0x00],
            Ok((0, 0, 0, 0, 2)),
        ),
    ];
    for (suites, want) in cases {
        let mut p = h.clone();
        p[78..86].copy_from_slice(&suites);
        resign(&mut p, NOW as u32);
        let c_got = ct::check_client_hello(
            &p,
            517,
            &[SECRET],
            &[b"example.com"],
            &mut ct::ReplayCache::new(2).unwrap(),
            NOW,
        );
        let r_got = rt::check_client_hello(
            &p,
            517,
            &[SECRET],
            &[b"example.com"],
            &mut rt::ReplayCache::new(2).unwrap(),
            NOW,
        );
        let flat = |g: rt::HelloCheck| {
            (
                g.verdict,
                g.reason,
                g.secret_index,
                g.domain_index,
                g.cipher_suite,
            )
        };
        assert_eq!(r_got.map(flat), want, "{suites:02x?}");
        assert_eq!(c_got, r_got, "{suites:02x?}");
    }
}

#[test]
fn replayed_hello_is_relayed_on_both_sides() {
    let h = hello!(rt, b"example.com", NOW as u32, 600, &RANDOM64);
    let mut c_cache = ct::ReplayCache::new(8).unwrap();
    let mut r_cache = rt::ReplayCache::new(8).unwrap();
    let domains: [&[u8]; 1] = [b"example.com"];
    for round in 0..2 {
        let c_got =
            ct::check_client_hello(&h, 600, &[SECRET], &domains, &mut c_cache, NOW).unwrap();
        let r_got =
            rt::check_client_hello(&h, 600, &[SECRET], &domains, &mut r_cache, NOW).unwrap();
        let want = if round == 0 {
            rt::REJECT_NONE
        } else {
            rt::REJECT_REPLAY
        };
        assert_eq!((c_got.reason, r_got.reason), (want, want));
    }
    // An invalid hello is remembered too (inserted before the HMAC check).
    let mut bad = h.clone();
    bad[12] ^= 1;
    for _ in 0..2 {
        let c_got = ct::check_client_hello(&bad, 600, &[[0; 16]], &domains, &mut c_cache, NOW);
        let r_got = rt::check_client_hello(&bad, 600, &[[0; 16]], &domains, &mut r_cache, NOW);
        assert_eq!(c_got.map(|g| g.reason), r_got.map(|g| g.reason));
    }
    assert_eq!((c_cache.len(), r_cache.len()), (2, 2));
    let r_again = rt::check_client_hello(&bad, 600, &[[0; 16]], &domains, &mut r_cache, NOW);
    assert_eq!(r_again.map(|g| g.reason), Ok(rt::REJECT_REPLAY));
}

#[test]
fn builder_and_parser_refuse_bad_arguments_alike() {
    let mut out = vec![0u8; 5000];
    let r = [0u8; 64];
    for (domain, total) in [
        (&b""[..], 517),
        (b"a\0b", 517),
        (&[b'x'; 256][..], 517),
        (b"ok", 516),
        (b"ok", 4097),
    ] {
        let c_got = ct::build_client_hello(&SECRET, domain, 0, &r, total, &mut out);
        let r_got = rt::build_client_hello(&SECRET, domain, 0, &r, total, &mut out);
        assert_eq!((c_got, r_got), (Err(rt::ERR_ARG), Err(rt::ERR_ARG)));
    }
    assert_eq!(
        ct::build_client_hello(&SECRET, b"ok", 0, &r, 600, &mut out[..599]),
        Err(rt::ERR_SPACE)
    );
    assert_eq!(
        rt::build_client_hello(&SECRET, b"ok", 0, &r, 600, &mut out[..599]),
        Err(rt::ERR_SPACE)
    );
    let random = [0u8; 32 + 10];
    for (suite, n, rnd_len, cap, want) in [
        (0u8, 10, 42, 200, rt::ERR_ARG),
        (4, 10, 42, 200, rt::ERR_ARG),
        (1, 10, 41, 200, rt::ERR_ARG),
        (1, rt::MAX_FAKE_APP_DATA + 1, 42, 200, rt::ERR_ARG),
        (1, 10, 42, 147, rt::ERR_SPACE),
    ] {
        let c_got = ct::build_server_hello(
            &[0; 32],
            &[0; 32],
            suite,
            &SECRET,
            n,
            false,
            &random[..rnd_len],
            &mut out[..cap],
        );
        let r_got = rt::build_server_hello(
            &[0; 32],
            &[0; 32],
            suite,
            &SECRET,
            n,
            false,
            &random[..rnd_len],
            &mut out[..cap],
        );
        assert_eq!((c_got, r_got), (Err(want), Err(want)));
    }
    assert_eq!(ct::ReplayCache::new(0).err(), Some(rt::ERR_ARG));
    assert_eq!(
        rt::ReplayCache::new(rt::MAX_REPLAY_ENTRIES + 1).err(),
        Some(rt::ERR_ARG)
    );
    assert_eq!(
        ct::ReplayCache::new(rt::MAX_REPLAY_ENTRIES + 1).err(),
        Some(rt::ERR_ARG)
    );
}

/// Record payload lengths where the wrapping or the reader changes: the
/// smallest first record and one, two and three full records.
const RECORD_EDGES: [usize; 4] = [rt::MIN_FIRST_RECORD, 1425, 2 * 1425, 3 * 1425];

/// A replay-cache operation: lookup or insert of key `k` (from a small key
/// space, so hits happen) after time advances by `dt`.
#[derive(Clone, Debug)]
enum CacheOp {
    Lookup(u8, i64),
    Insert(u8, i64),
}

fn cache_ops() -> impl Strategy<Value = Vec<CacheOp>> {
    let dt = prop_oneof![0i64..5, 0i64..200_000, Just(rt::REPLAY_EXPIRY)];
    let op = prop_oneof![
        (0u8..24, dt.clone()).prop_map(|(k, d)| CacheOp::Lookup(k, d)),
        (0u8..24, dt).prop_map(|(k, d)| CacheOp::Insert(k, d)),
    ];
    proptest::collection::vec(op, 0..200)
}

/// The cache as plainly as possible: a list in insertion order.
fn model_expire(list: &mut Vec<([u8; 16], i64)>, now: i64) {
    while list.len() > 1 && now - list[0].1 >= rt::REPLAY_EXPIRY {
        list.remove(0);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn replay_cache_matches_model(max in 1usize..12, ops in cache_ops(), start in any::<i32>()) {
        let mut c_cache = ct::ReplayCache::new(max).unwrap();
        let mut r_cache = rt::ReplayCache::new(max).unwrap();
        let mut model: Vec<([u8; 16], i64)> = Vec::new();
        let mut now = i64::from(start);
        for op in &ops {
            let (k, dt) = match *op { CacheOp::Lookup(k, d) | CacheOp::Insert(k, d) => (k, d) };
            now += dt;
            let key = [k; 16];
            model_expire(&mut model, now);
            match op {
                CacheOp::Lookup(..) => {
                    let want = model.iter().any(|e| e.0 == key);
                    prop_assert_eq!(c_cache.lookup(&key, now), want);
                    prop_assert_eq!(r_cache.lookup(&key, now), want);
                }
                CacheOp::Insert(..) => {
                    if !model.iter().any(|e| e.0 == key) {
                        if model.len() == max {
                            model.remove(0);
                        }
                        model.push((key, now));
                    }
                    c_cache.insert(&key, now);
                    r_cache.insert(&key, now);
                }
            }
            prop_assert_eq!(c_cache.len(), model.len());
            prop_assert_eq!(r_cache.len(), model.len());
            prop_assert_eq!(c_cache.oldest_time(), model.first().map(|e| e.1));
            prop_assert_eq!(r_cache.oldest_time(), model.first().map(|e| e.1));
        }
    }

    #[test]
    fn hellos_cross_languages(
        domain in "[a-z0-9.-]{1,60}",
        skew in -700i64..10,
        total in 517usize..=4096,
        random in proptest::array::uniform32(any::<u8>()),
        random2 in proptest::array::uniform32(any::<u8>()),
        c_builds in any::<bool>(),
    ) {
        let mut random64 = [0u8; 64];
        random64[..32].copy_from_slice(&random);
        random64[32..].copy_from_slice(&random2);
        let time = (NOW + skew) as u32;
        let c_hello = hello!(ct, domain.as_bytes(), time, total, &random64);
        let r_hello = hello!(rt, domain.as_bytes(), time, total, &random64);
        prop_assert_eq!(&c_hello, &r_hello);
        let domains = [b"example.com".to_vec(), domain.as_bytes().to_vec()];
        let secrets = [SECRET];
        let (mut c_cache, mut r_cache) = (ct::ReplayCache::new(4).unwrap(), rt::ReplayCache::new(4).unwrap());
        let record = if c_builds { &c_hello } else { &r_hello };
        let c_got = ct::check_client_hello(record, total, &secrets, &domains, &mut c_cache, NOW).unwrap();
        let r_got = rt::check_client_hello(record, total, &secrets, &domains, &mut r_cache, NOW).unwrap();
        let want = if (-599..=3).contains(&skew) { rt::VERDICT_ACCEPT } else { rt::VERDICT_RELAY_SNI };
        prop_assert_eq!(c_got.verdict, want);
        prop_assert_eq!(r_got.verdict, want);
        prop_assert_eq!(format!("{c_got:?}"), format!("{r_got:?}"));
    }

    #[test]
    fn mutated_hellos_agree(
        edits in proptest::collection::vec((0usize..600, any::<u8>()), 0..4),
        cut in 0usize..700,
        extra in 0usize..3,
        now_skew in -1000i64..1000,
    ) {
        let mut h = hello!(rt, b"telegram.org", NOW as u32, 600, &RANDOM64);
        for (at, value) in edits {
            if let Some(b) = h.get_mut(at) { *b = value; }
        }
        h.truncate(cut.max(1));
        let _ = check_both(&h, h.len() + extra, NOW + now_skew);
    }

    #[test]
    fn random_records_agree(body in parity_tests::bytes(1200), len_hi in 2u8..6, buffered_extra in 0usize..2) {
        let mut record = vec![0x16, 0x03, 0x01, len_hi, 0];
        record.extend_from_slice(&body);
        let want = usize::from(len_hi) << 8;
        record.resize(5 + want, 0x41);
        let _ = check_both(&record, record.len() + buffered_extra, NOW);
    }

    #[test]
    fn detection_agrees(data in parity_tests::bytes(8)) {
        prop_assert_eq!(ct::detect_client_hello(&data), rt::detect_client_hello(&data));
    }

    #[test]
    fn server_hello_agrees_and_crosses(
        client_random in proptest::array::uniform32(any::<u8>()),
        session in proptest::array::uniform32(any::<u8>()),
        secret in proptest::array::uniform16(any::<u8>()),
        suite in 1u8..=3,
        n in 0usize..3000,
        swap in any::<bool>(),
        seed in any::<u64>(),
        flip in proptest::option::of((0usize..3200, 1u8..=255)),
        cut in 0usize..3200,
    ) {
        let random: Vec<u8> = (0..32 + n as u64).map(|i| (seed.wrapping_mul(i + 1) >> 7) as u8).collect();
        let mut c_out = vec![0u8; 138 + n];
        let mut r_out = vec![0u8; 138 + n];
        let c_n = ct::build_server_hello(&client_random, &session, suite, &secret, n, swap, &random, &mut c_out);
        let r_n = rt::build_server_hello(&client_random, &session, suite, &secret, n, swap, &random, &mut r_out);
        prop_assert_eq!(c_n, Ok(138 + n));
        prop_assert_eq!(r_n, Ok(138 + n));
        prop_assert_eq!(&c_out, &r_out);
        let info = rt::parse_server_hello(&c_out, &client_random, &session, &secret).unwrap();
        prop_assert_eq!((info.cipher_suite, info.extensions_swapped, info.app_data_len, info.total_len), (suite, i32::from(swap), n, 138 + n));
        let c_info = ct::parse_server_hello(&r_out, &client_random, &session, &secret).unwrap();
        prop_assert_eq!(format!("{c_info:?}"), format!("{info:?}"));
        // Hostile: a flipped byte and/or a truncation give the same error.
        let mut hostile = r_out.clone();
        if let Some((at, x)) = flip {
            if let Some(b) = hostile.get_mut(at) { *b ^= x; }
        }
        hostile.truncate(cut);
        let c_got = ct::parse_server_hello(&hostile, &client_random, &session, &secret).map(|i| i.total_len);
        let r_got = rt::parse_server_hello(&hostile, &client_random, &session, &secret).map(|i| i.total_len);
        prop_assert_eq!(c_got, r_got);
    }

    #[test]
    fn records_cross_over_random_chunkings(
        payload in parity_tests::boundary_bytes(&RECORD_EDGES, 5000),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        out_caps in proptest::collection::vec(parity_tests::boundary_len(&RECORD_EDGES, 2000), 1..8),
        to_proxy in any::<bool>(),
        c_wraps in any::<bool>(),
    ) {
        let mut wrapped = vec![0u8; rt::wrapped_len(payload.len())];
        let mut c_wrapped = wrapped.clone();
        prop_assert_eq!(rt::wrap_records(&payload, &mut wrapped), Ok(wrapped.len()));
        prop_assert_eq!(ct::wrap_records(&payload, &mut c_wrapped), Ok(wrapped.len()));
        prop_assert_eq!(&wrapped, &c_wrapped);
        let mut wire = if to_proxy { vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01] } else { Vec::new() };
        wire.extend_from_slice(if c_wraps { &c_wrapped } else { &wrapped });
        let short_first = to_proxy && payload.len() < 64;
        let (c_got, c_err) = read_all_c(&wire, &cuts, &out_caps, to_proxy);
        let (r_got, r_err) = read_all_rust(&wire, &cuts, &out_caps, to_proxy);
        prop_assert_eq!(&c_got, &r_got);
        prop_assert_eq!(c_err, r_err);
        if short_first && !payload.is_empty() {
            prop_assert_eq!(r_err, Some(rt::ERR_FIRST_RECORD_SHORT));
        } else {
            prop_assert_eq!(r_err, None);
            prop_assert_eq!(&r_got, &payload);
        }
    }

    #[test]
    fn first_record_lengths_agree_with_the_model(
        len in parity_tests::boundary_len(&[rt::MIN_FIRST_RECORD], 300),
        have in parity_tests::boundary_len(&[rt::MIN_FIRST_RECORD], 300),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        out_caps in proptest::collection::vec(parity_tests::boundary_len(&[rt::MIN_FIRST_RECORD], 300), 1..4),
    ) {
        // CCS, then a first data record of `len` bytes of which `have` arrive.
        let mut wire = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03];
        wire.extend_from_slice(&(len as u16).to_be_bytes());
        let payload: Vec<u8> = (0..len.min(have)).map(|i| i as u8).collect();
        wire.extend_from_slice(&payload);
        let c = read_all_c(&wire, &cuts, &out_caps, true);
        let r = read_all_rust(&wire, &cuts, &out_caps, true);
        prop_assert_eq!(&c, &r);
        if len < rt::MIN_FIRST_RECORD {
            prop_assert_eq!(r, (Vec::new(), Some(rt::ERR_FIRST_RECORD_SHORT)));
        } else {
            prop_assert_eq!(r, (payload, None));
        }
    }

    #[test]
    fn wrap_records_agree_at_output_space_edges(
        len in parity_tests::boundary_len(&RECORD_EDGES, 5000),
        slack in -2isize..=2,
    ) {
        let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let need = rt::wrapped_len(len);
        let cap = need.saturating_add_signed(slack);
        let (mut co, mut ro) = (vec![0xaau8; cap], vec![0xaau8; cap]);
        let c = ct::wrap_records(&payload, &mut co);
        let r = rt::wrap_records(&payload, &mut ro);
        prop_assert_eq!(c, r);
        prop_assert_eq!(r, if cap < need { Err(rt::ERR_SPACE) } else { Ok(need) });
        prop_assert_eq!(co, ro);
    }

    #[test]
    fn garbage_streams_agree(
        (data, cuts) in parity_tests::chunked_bytes(300),
        out_caps in proptest::collection::vec(0usize..64, 1..8),
        to_proxy in any::<bool>(),
        prefix in any::<bool>(),
    ) {
        let mut wire = if prefix { vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03] } else { Vec::new() };
        wire.extend_from_slice(&data);
        prop_assert_eq!(read_all_c(&wire, &cuts, &out_caps, to_proxy), read_all_rust(&wire, &cuts, &out_caps, to_proxy));
    }
}

/// Feeds `wire` in the chunks `cuts` gives, with output buffers cycling
/// through `out_caps` (a zero capacity still consumes header bytes); returns
/// the payload and the error that stopped the stream, if any.
macro_rules! read_all {
    ($name:ident, $side:ident) => {
        fn $name(
            wire: &[u8],
            cuts: &[usize],
            out_caps: &[usize],
            to_proxy: bool,
        ) -> (Vec<u8>, Option<i32>) {
            let mut reader = $side::RecordReader::new(to_proxy);
            let mut got = Vec::new();
            let mut caps = out_caps.iter().cycle();
            let mut stalled = false;
            for chunk in chunked(wire, cuts) {
                let mut rest = chunk;
                loop {
                    // After a call without progress, make sure the next has room.
                    let cap = *caps.next().unwrap();
                    let mut out = vec![0u8; if stalled { cap.max(1) } else { cap }];
                    match reader.feed(rest, &mut out) {
                        Ok((used, made)) => {
                            stalled = used == 0 && made == 0;
                            got.extend_from_slice(&out[..made]);
                            rest = &rest[used..];
                            if rest.is_empty() {
                                break;
                            }
                        }
                        Err(e) => return (got, Some(e)),
                    }
                }
            }
            (got, reader.feed(&[], &mut []).err())
        }
    };
}
read_all!(read_all_c, ct);
read_all!(read_all_rust, rt);

mod args;
mod edges;
mod probe;
