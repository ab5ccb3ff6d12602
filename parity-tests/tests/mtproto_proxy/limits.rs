//! Sessions at the protocol's limits, on every transport: the largest
//! packet a client may send and one word more, the abridged length's switch
//! to its long form at 0x7f words, packets too short to forward, the
//! largest answer a middle-end frame carries, fake-TLS records from 1 byte
//! to the largest a record header can announce, and a first record of
//! exactly 64 bytes (the smallest allowed) or one byte less.
use super::session::{compare, Link, Session};
use mtproxy_core::mtproto::rpc_proxy_msg::PROXY_ANS_HEADER_LEN;
use mtproxy_core::net::ext_framing::MAX_PACKET_LEN;
use mtproxy_core::net::fake_tls::MAX_RECORD_PAYLOAD;
use mtproxy_core::net::rpc_frame::{FRAME_OVERHEAD, MAX_FRAME_LEN};
use mtproxy_testkit::fake_me::Behaviour;

/// The abridged 1-byte length holds 0..0x7f words; 0x7f starts the 3-byte
/// form, in both directions.
const ABRIDGED_SWITCH: [usize; 3] = [0x7e * 4, 0x7f * 4, 0x80 * 4];
/// The most data an RPC_PROXY_ANS in one middle-end frame carries.
const MAX_ANSWER_DATA: usize = MAX_FRAME_LEN - FRAME_OVERHEAD - PROXY_ANS_HEADER_LEN;

// evidence: abridged, intermediate, padded, fake-tls, ans, simple-ack
#[test]
fn largest_packets_alike() {
    for link in Link::ALL {
        compare(&Session {
            packets: vec![(MAX_PACKET_LEN, true), (MAX_PACKET_LEN - 4, false)],
            behaviour: Behaviour::SimpleAck,
            ..Session::new(link)
        });
        // One word over: the proxy closes the client at the length header.
        compare(&Session {
            packets: vec![(64, false), (MAX_PACKET_LEN + 4, false)],
            ..Session::new(link)
        });
    }
}

// evidence: abridged, intermediate, padded, fake-tls, ans
#[test]
fn abridged_length_switch_alike() {
    for link in Link::ALL {
        for len in ABRIDGED_SWITCH {
            compare(&Session {
                packets: vec![(len, false)],
                ..Session::new(link)
            });
            compare(&Session {
                packets: vec![(64, false)],
                behaviour: Behaviour::ReplyBytes(len),
                ..Session::new(link)
            });
        }
    }
}

// evidence: abridged, intermediate, padded, fake-tls, ans, simple-ack
#[test]
fn minimal_packets_alike() {
    // 4..=24: dropped as short; 12: an RPC_PING the proxy answers; 28..=52:
    // dropped as too short for an encrypted message; 56: the first
    // forwarded.
    let packets = [4, 8, 12, 24, 28, 52, 56, 60]
        .map(|len| (len, true))
        .to_vec();
    for link in Link::ALL {
        compare(&Session {
            packets: packets.clone(),
            behaviour: Behaviour::SimpleAck,
            ..Session::new(link)
        });
    }
}

// evidence: abridged, intermediate, padded, fake-tls, ans
#[test]
fn largest_answer_alike() {
    for link in Link::ALL {
        compare(&Session {
            packets: vec![(64, false)],
            behaviour: Behaviour::ReplyBytes(MAX_ANSWER_DATA),
            ..Session::new(link)
        });
    }
}

// evidence: abridged, intermediate, padded, fake-tls, close-ext
#[test]
fn middle_end_letting_go_alike() {
    for link in Link::ALL {
        for behaviour in [
            Behaviour::CloseExt,
            Behaviour::DropConnection,
            Behaviour::OversizedFrame,
        ] {
            compare(&Session {
                packets: vec![(12, false), (56, true), (64, false)],
                behaviour,
                ..Session::new(link)
            });
        }
    }
}

// evidence: fake-tls, ans
#[test]
fn tls_records_at_their_limits_alike() {
    let max_record = usize::from(u16::MAX);
    let big = vec![
        (56, false),
        (max_record - 3, false),
        (MAX_PACKET_LEN, false),
    ];
    let small = vec![(56, false), (1024, false)];
    for (record_len, merge, packets) in [
        (64, false, &big),
        (63, false, &small),
        (65, true, &small),
        (1, false, &small),
        (MAX_RECORD_PAYLOAD, true, &big),
        (max_record, false, &big),
        (max_record, true, &big),
    ] {
        compare(&Session {
            packets: packets.clone(),
            tls_record_len: record_len,
            tls_merge_header: merge,
            ..Session::new(Link::FakeTls)
        });
    }
    // Answers around the proxy's record split (a padded frame: 4-byte
    // header, the data, 0..=3 bytes of padding).
    for data in [1416, 1420, 1424, 2844, 2848] {
        compare(&Session {
            packets: vec![(64, false)],
            behaviour: Behaviour::ReplyBytes(data),
            ..Session::new(Link::FakeTls)
        });
    }
}
