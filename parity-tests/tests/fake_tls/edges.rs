//! fake-tls, edges pinned by fixed cases on both sides: the hello
//! timestamp window at each bound, every single-byte change of a
//! ServerHello flight, an empty SNI host name, the probe hello's domain
//! length bound and the stats line's name characters and age.
use super::{ct, rt, NOW, RANDOM64, SECRET};

/// The timestamp rule at each edge (§2.2 step 6): at most 3 s ahead of
/// `now`, and newer than 600 s before `now` or than the replay cache's
/// oldest entry + 3 s, whichever admits more; with an empty cache, then
/// with an old entry (2,000 s) and a recent one (10 s).
#[test]
fn hello_timestamps_at_the_skew_edges_on_both_sides() {
    let domains: [&[u8]; 1] = [b"example.com"];
    let cases: [(Option<i64>, i64, i32); 10] = [
        (None, 3, rt::REJECT_NONE),
        (None, 4, rt::REJECT_BAD_TIME),
        (None, -599, rt::REJECT_NONE),
        (None, -600, rt::REJECT_BAD_TIME),
        (Some(-2000), -1996, rt::REJECT_NONE),
        (Some(-2000), -1997, rt::REJECT_BAD_TIME),
        (Some(-2000), 3, rt::REJECT_NONE),
        (Some(-2000), 4, rt::REJECT_BAD_TIME),
        (Some(-10), -599, rt::REJECT_NONE),
        (Some(-10), -600, rt::REJECT_BAD_TIME),
    ];
    for (oldest, skew, want) in cases {
        let h = hello!(rt, b"example.com", (NOW + skew) as u32, 517, &RANDOM64);
        let mut c_cache = ct::ReplayCache::new(8).unwrap();
        let mut r_cache = rt::ReplayCache::new(8).unwrap();
        if let Some(age) = oldest {
            c_cache.insert(&[0xee; 16], NOW + age);
            r_cache.insert(&[0xee; 16], NOW + age);
        }
        let c_got = ct::check_client_hello(&h, 517, &[SECRET], &domains, &mut c_cache, NOW);
        let r_got = rt::check_client_hello(&h, 517, &[SECRET], &domains, &mut r_cache, NOW);
        let case = format!("oldest {oldest:?}, skew {skew}");
        assert_eq!(c_got.map(|g| g.reason), Ok(want), "C: {case}");
        assert_eq!(r_got.map(|g| g.reason), Ok(want), "Rust: {case}");
    }
}

/// No single-byte change of a ServerHello flight is accepted, and both sides
/// give the same error for each.
#[test]
fn every_single_byte_change_of_a_server_hello_is_refused_alike() {
    let client_random: [u8; 32] = std::array::from_fn(|i| i as u8);
    let session: [u8; 32] = std::array::from_fn(|i| 32 + i as u8);
    let random: Vec<u8> = (0x80..0x80 + 40).collect();
    for swap in [false, true] {
        let mut good = vec![0u8; 146];
        let built = rt::build_server_hello(
            &client_random,
            &session,
            2,
            &SECRET,
            8,
            swap,
            &random,
            &mut good,
        );
        assert_eq!(built, Ok(146));
        assert!(ct::parse_server_hello(&good, &client_random, &session, &SECRET).is_ok());
        for at in 0..good.len() {
            for flip in [0x01u8, 0x80] {
                let mut bad = good.clone();
                bad[at] ^= flip;
                let c_got = ct::parse_server_hello(&bad, &client_random, &session, &SECRET);
                let r_got = rt::parse_server_hello(&bad, &client_random, &session, &SECRET);
                let c_err = c_got.map(|i| i.total_len);
                assert!(
                    c_err.is_err(),
                    "byte {at} ^ {flip:#x} accepted (swap {swap})"
                );
                assert_eq!(c_err, r_got.map(|i| i.total_len), "byte {at} ^ {flip:#x}");
            }
        }
    }
}

/// A 517-byte hello record with one cipher suite and, first of the
/// extensions, a server_name extension with the data `sni`.
fn record_with_sni(sni: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 517];
    r[..5].copy_from_slice(&[0x16, 0x03, 0x01, 0x02, 0x00]);
    r[76..84].copy_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x01, 0xad]);
    r[84..86].copy_from_slice(&[0x00, 0x00]);
    r[86..88].copy_from_slice(&(sni.len() as u16).to_be_bytes());
    r[88..88 + sni.len()].copy_from_slice(sni);
    r
}

/// A server_name extension of exactly 5 bytes names the empty host, which
/// matches an empty configured domain only; 4 bytes is no SNI at all.
#[test]
fn an_empty_sni_host_name_matches_only_an_empty_domain() {
    let empty_name = record_with_sni(&[0x00, 0x03, 0x00, 0x00, 0x00]);
    let too_short = record_with_sni(&[0x00, 0x02, 0x00, 0x00]);
    // record, configured domain, (verdict, reason, domain index)
    type Case<'a> = (&'a [u8], &'a [u8], (i32, i32, i32));
    let cases: [Case; 3] = [
        (
            &empty_name,
            b"",
            (rt::VERDICT_RELAY_SNI, rt::REJECT_BAD_HMAC, 0),
        ),
        (
            &empty_name,
            b"example.com",
            (rt::VERDICT_RELAY_DEFAULT, rt::REJECT_UNKNOWN_SNI, -1),
        ),
        (
            &too_short,
            b"",
            (rt::VERDICT_RELAY_DEFAULT, rt::REJECT_NO_SNI, -1),
        ),
    ];
    for (record, domain, want) in cases {
        let domains = [domain];
        let mut c_cache = ct::ReplayCache::new(8).unwrap();
        let mut r_cache = rt::ReplayCache::new(8).unwrap();
        let c_got = ct::check_client_hello(record, 517, &[SECRET], &domains, &mut c_cache, NOW);
        let r_got = rt::check_client_hello(record, 517, &[SECRET], &domains, &mut r_cache, NOW);
        let c_got = c_got.map(|h| (h.verdict, h.reason, h.domain_index));
        let r_got = r_got.map(|h| (h.verdict, h.reason, h.domain_index));
        assert_eq!(c_got, Ok(want), "C, domain {domain:?}");
        assert_eq!(r_got, Ok(want), "Rust, domain {domain:?}");
    }
}

/// The probe hello takes the longest host name whose extensions still fit
/// its 517 bytes with a padding extension header (224 bytes), and no
/// longer one; without room for the hello, the 255-byte name limit decides
/// between a space and an argument error.
#[test]
fn probe_hello_domain_length_bound_on_both_sides() {
    let random = [0x5au8; 100];
    let fits = (1..=255)
        .rev()
        .find(|&n| rt::build_probe_hello(&vec![b'a'; n], &random, &mut [0u8; 517]).is_ok())
        .unwrap();
    assert_eq!(fits, 224, "the probe hello's fixed parts take 293 bytes");
    for (len, want) in [
        (fits, Ok(517)),
        (fits + 1, Err(rt::ERR_ARG)),
        (256, Err(rt::ERR_ARG)),
    ] {
        let domain = vec![b'a'; len];
        let (mut c_out, mut r_out) = (vec![0u8; 517], vec![0u8; 517]);
        assert_eq!(
            ct::build_probe_hello(&domain, &random, &mut c_out),
            want,
            "C, {len}"
        );
        assert_eq!(
            rt::build_probe_hello(&domain, &random, &mut r_out),
            want,
            "Rust, {len}"
        );
        assert_eq!(c_out, r_out);
    }
    // Without room for the hello, a name within the 255-byte limit is a
    // space error, a longer one an argument error.
    for (len, want) in [(255, Err(rt::ERR_SPACE)), (256, Err(rt::ERR_ARG))] {
        let domain = vec![b'a'; len];
        assert_eq!(
            ct::build_probe_hello(&domain, &random, &mut []),
            want,
            "C, {len}"
        );
        assert_eq!(
            rt::build_probe_hello(&domain, &random, &mut []),
            want,
            "Rust, {len}"
        );
    }
}

/// The stats line keeps exactly [a-zA-Z0-9.-] of the domain (each
/// neighbour of those ranges becomes `_`) and shows the age from 1 s up,
/// 0 when the profile is from the future.
#[test]
fn profile_stats_name_characters_and_age_at_the_edges() {
    let domain = b"09AZaz.-/:@[`{_ ,";
    let profile = rt::TlsProfile {
        learned: 1,
        extensions_swapped: 0,
        app_data_len: 100,
        randomize: 0,
        record_count: 1,
        learned_at: NOW,
    };
    for (now, age) in [(NOW + 1, 1), (NOW, 0), (NOW - 5, 0)] {
        let want = format!(
            "fake_tls_profile_09AZaz.-_________\tlearned age={age} len=100 random=0 records=1 \
             order=key_share,supported_versions\n"
        );
        let (mut c_out, mut r_out) = (vec![0u8; 200], vec![0u8; 200]);
        let c_len = ct::render_profile_stats(domain, &profile, now, false, &mut c_out);
        let r_len = rt::render_profile_stats(domain, &profile, now, false, &mut r_out);
        assert_eq!(&c_out[..c_len], want.as_bytes(), "C, now {now}");
        assert_eq!(&r_out[..r_len], want.as_bytes(), "Rust, now {now}");
    }
}

/// A header error on the first byte a call looks at is that call's answer;
/// after the call took bytes it returns them and the next call gives the
/// error.
#[test]
fn record_reader_reports_a_header_error_at_once_when_nothing_was_taken() {
    let mut out = [0u8; 8];
    let mut c_first = ct::RecordReader::new(false);
    let mut r_first = rt::RecordReader::new(false);
    assert_eq!(
        c_first.feed(&[0x16], &mut out),
        Err(ct::ERR_BAD_RECORD),
        "C"
    );
    assert_eq!(
        r_first.feed(&[0x16], &mut out),
        Err(ct::ERR_BAD_RECORD),
        "Rust"
    );
    let mut c_later = ct::RecordReader::new(false);
    let mut r_later = rt::RecordReader::new(false);
    assert_eq!(c_later.feed(&[0x17, 0x03, 0x16], &mut out), Ok((2, 0)), "C");
    assert_eq!(
        r_later.feed(&[0x17, 0x03, 0x16], &mut out),
        Ok((2, 0)),
        "Rust"
    );
    assert_eq!(
        c_later.feed(&[0x16], &mut out),
        Err(ct::ERR_BAD_RECORD),
        "C"
    );
    assert_eq!(
        r_later.feed(&[0x16], &mut out),
        Err(ct::ERR_BAD_RECORD),
        "Rust"
    );
}

/// The longest domain (255 bytes) and the smallest and largest totals are
/// built, the same on both sides (one byte more of either is refused:
/// `builder_and_parser_refuse_bad_arguments_alike`).
#[test]
fn longest_domain_and_extreme_totals_build_alike() {
    let r = [0u8; 64];
    for (domain, total) in [(&[b'x'; 255][..], 1024), (b"ok", 517), (b"ok", 4096)] {
        let (mut c_out, mut r_out) = (vec![0u8; total], vec![0u8; total]);
        let c_got = ct::build_client_hello(&SECRET, domain, 0, &r, total, &mut c_out);
        let r_got = rt::build_client_hello(&SECRET, domain, 0, &r, total, &mut r_out);
        assert_eq!(
            (c_got, r_got),
            (Ok(total), Ok(total)),
            "{} bytes",
            domain.len()
        );
        assert_eq!(c_out, r_out);
    }
}
