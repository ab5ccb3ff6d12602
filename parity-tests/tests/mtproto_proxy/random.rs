//! Random sessions: transport × middle-end behaviour × sizes drawn with
//! weight on the limits. A failing case reports in seconds: waits scale to
//! the bytes in flight (`session.rs`) and shrinking is bounded.
use super::session::{compare, Link, Session};
use mtproxy_core::net::ext_framing::MAX_PACKET_LEN;
use mtproxy_testkit::fake_me::Behaviour;
use parity_tests::edges;
use proptest::prelude::*;

/// Client packet lengths in words: the PING (3), the forward filter's
/// limits (7 and 14 words: 28 and 56 bytes), the abridged switch (0x7f),
/// a full outbound TLS record's worth (356), the largest packet.
const PACKET_WORDS: [usize; 5] = [3, 7, 14, 0x7f, 356];
const MAX_WORDS: usize = MAX_PACKET_LEN / 4;

/// A length in words: an edge, a small one, or any; big ones are rarer so
/// a run stays short (each 1 MB packet crosses two proxies and four
/// ciphers in an unoptimised build).
fn packet_len() -> impl Strategy<Value = usize> {
    let words = prop_oneof![
        2 => proptest::sample::select(edges(&PACKET_WORDS, MAX_WORDS)),
        3 => 1..=1024usize,
        1 => 1..=MAX_WORDS,
    ];
    words.prop_map(|w| w.max(1) * 4)
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    // Answer data around the abridged switch and the TLS record split.
    let answer_limits = [0x7f * 4, 1420, 1424, 2848, 1 << 16];
    prop_oneof![
        3 => Just(Behaviour::Echo),
        3 => Just(Behaviour::SimpleAck),
        2 => parity_tests::boundary_len(&answer_limits, 1 << 18).prop_map(Behaviour::ReplyBytes),
        1 => Just(Behaviour::CloseExt),
        1 => Just(Behaviour::Stall),
        1 => Just(Behaviour::DropConnection),
    ]
}

fn tls_record_len() -> impl Strategy<Value = usize> {
    // 64: the smallest first record; 1425: what the proxy sends; 16 640: a
    // real client's largest.
    parity_tests::boundary_len(&[64, 1425, 16_640], usize::from(u16::MAX)).prop_map(|n| n.max(1))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: parity_tests::config().cases.min(128),
        max_shrink_iters: 64,
        max_shrink_time: 10_000,
        ..parity_tests::config()
    })]

    // evidence: abridged, intermediate, padded, fake-tls, ans, simple-ack, close-ext
    #[test]
    fn random_sessions_match(
        link in proptest::sample::select(Link::ALL.to_vec()),
        dc in prop_oneof![Just(2i16), Just(4), Just(-2), Just(99)],
        packets in proptest::collection::vec((packet_len(), any::<bool>()), 1..5),
        behaviour in behaviour(),
        client_seed in any::<u64>(),
        tls_record_len in tls_record_len(),
        tls_merge_header in any::<bool>(),
    ) {
        compare(&Session {
            link,
            dc,
            packets,
            client_seed,
            behaviour,
            tls_record_len,
            tls_merge_header,
        });
    }
}
