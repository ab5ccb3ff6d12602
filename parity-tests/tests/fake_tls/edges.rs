//! fake-tls, edges pinned by fixed cases on both sides: the hello
//! timestamp window at each bound, and every single-byte change of a
//! ServerHello flight.
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
