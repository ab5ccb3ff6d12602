//! rpc-proxy-msg: the proxy↔ME messages of docs/PROTOCOL.md §4.8/§4.9, byte for
//! byte on both sides, C-built messages parsed by Rust and vice versa, and
//! hostile lengths and extras with identical errors.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::rpc_proxy_msg as cm;
use rust::mtproto::rpc_proxy_msg as rm;
use rust::mtproto::rpc_proxy_msg::{
    KIND_CLOSE_CONN, KIND_CLOSE_EXT, KIND_OTHER, KIND_PING, KIND_PONG, KIND_PROXY_ANS,
    KIND_PROXY_REQ, KIND_SIMPLE_ACK, TRANSPORT_ABRIDGED, TRANSPORT_INTERMEDIATE, TRANSPORT_PADDED,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const TAG: [u8; 16] = *b"0123456789abcdef";

/// The §4.8 request from 1.2.3.4:5678 to the proxy's 10.0.0.1:443.
fn sample_req(flags: u32) -> rm::ProxyReq {
    rm::ProxyReq {
        flags,
        ext_conn_id: 0x40_000d,
        client_ip: rm::ipv4_mapped(0x0102_0304),
        client_port: 5678,
        proxy_ip: rm::ipv4_mapped(0x0a00_0001),
        proxy_port: 443,
        ad_tag: if flags & 8 != 0 { TAG } else { [0; 16] },
    }
}

const HEADER_NO_TAG: &str = "eef1ce36 00100220 0d00400000000000
    00000000000000000000ffff01020304 2e160000
    00000000000000000000ffff0a000001 bb010000";

/// Both sides' encodings of a request (asserted equal) and their length.
fn encode_both(req: &rm::ProxyReq, packet: &[u8], cap: usize) -> Result<Vec<u8>, i32> {
    let (mut cb, mut rb) = (vec![0x55; cap], vec![0x55; cap]);
    let c = cm::encode_proxy_req(req, packet, &mut cb).map_err(|e| e.code());
    let r = rm::encode_proxy_req(req, packet, &mut rb).map_err(|e| e.code());
    assert_eq!(c, r);
    assert_eq!(cb, rb, "buffers differ (also after a failure)");
    r.map(|n| rb[..n].to_vec())
}

/// Every decoder of both sides on `msg`; asserts the two sides agree.
fn decode_all_both(msg: &[u8]) {
    let c = cm::decode_proxy_req(msg).map_err(|e| e.code());
    let r = rm::decode_proxy_req(msg).map_err(|e| e.code());
    assert_eq!(c, r, "proxy_req {msg:02x?}");
    let c = cm::decode_proxy_ans(msg).map_err(|e| e.code());
    let r = rm::decode_proxy_ans(msg).map_err(|e| e.code());
    assert_eq!(c, r, "ans");
    let c = cm::decode_simple_ack(msg).map_err(|e| e.code());
    let r = rm::decode_simple_ack(msg).map_err(|e| e.code());
    assert_eq!(c, r, "ack");
    assert_eq!(
        cm::decode_close_ext(msg).map_err(|e| e.code()),
        rm::decode_close_ext(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::decode_close_conn(msg).map_err(|e| e.code()),
        rm::decode_close_conn(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::message_kind(msg).map_err(|e| e.code()),
        rm::message_kind(msg).map_err(|e| e.code())
    );
}

#[test]
fn known_answer_proxy_req_ipv4_without_tag() {
    let packet: Vec<u8> = (0..28).collect();
    let msg = encode_both(&sample_req(0x2002_1000), &packet, 200).unwrap();
    let mut want = hex(HEADER_NO_TAG);
    assert_eq!(want.len(), 56);
    want.extend_from_slice(&packet);
    assert_eq!(msg, want);
    let expected = Ok((sample_req(0x2002_1000), 56));
    assert_eq!(rm::decode_proxy_req(&want), expected);
    let c = cm::decode_proxy_req(&want);
    assert_eq!(
        c.map_err(|e| e.code()),
        expected.map_err(|e: rm::RpcMsgError| e.code())
    );
}

#[test]
fn known_answer_proxy_req_ipv4_with_tag() {
    let packet = [0u8; 8];
    let msg = encode_both(&sample_req(0x4002_100a), &packet, 200).unwrap();
    let mut want = hex(&HEADER_NO_TAG.replace("00100220", "0a100240"));
    // extra_size 24, TL_PROXY_TAG, then the tag as a TL string: exactly §4.8.
    want.extend(hex("18000000 ae261edb 10"));
    want.extend_from_slice(&TAG);
    want.extend([0, 0, 0]);
    assert_eq!(want.len(), 84);
    want.extend_from_slice(&packet);
    assert_eq!(msg, want);
    assert_eq!(
        rm::decode_proxy_req(&want),
        Ok((sample_req(0x4002_100a), 84))
    );
    let (c_req, c_off) = cm::decode_proxy_req(&want).unwrap();
    assert_eq!((c_req, c_off), (sample_req(0x4002_100a), 84));
}

#[test]
fn known_answer_observed_flags() {
    // docs/PROTOCOL.md §4.8 "Observed values".
    let cases = [
        ((TRANSPORT_ABRIDGED, false, true, true, false), 0x4002_100a),
        ((TRANSPORT_ABRIDGED, true, false, true, false), 0xc002_1008),
        (
            (TRANSPORT_INTERMEDIATE, false, false, false, false),
            0x2002_1000,
        ),
        ((TRANSPORT_PADDED, false, false, false, false), 0x2002_1000),
        (
            (TRANSPORT_INTERMEDIATE, false, true, false, false),
            0x2002_1002,
        ),
        ((TRANSPORT_PADDED, false, true, false, false), 0x2002_1002),
        ((TRANSPORT_ABRIDGED, false, false, false, true), 0x5002_1000),
    ];
    for ((t, q, u, a, d), want) in cases {
        assert_eq!(rm::proxy_req_flags(t, q, u, a, d), Ok(want));
        assert_eq!(cm::proxy_req_flags(t, q, u, a, d), Ok(want));
    }
    for bad in [0, 4, -1, i32::MAX] {
        assert_eq!(
            rm::proxy_req_flags(bad, false, false, false, false),
            Err(rm::RpcMsgError::ARG)
        );
        assert_eq!(
            cm::proxy_req_flags(bad, false, false, false, false),
            Err(cm::RpcMsgError::ARG)
        );
    }
}

#[test]
fn known_answer_me_messages() {
    let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let want_ans = hex("0dda0344 08000000 efcdab8967452301 0102030405060708");
    let (mut cb, mut rb) = ([0u8; 32], [0u8; 32]);
    let id = 0x0123_4567_89ab_cdef;
    assert_eq!(cm::encode_proxy_ans(8, id, &data, &mut cb), Ok(24));
    assert_eq!(rm::encode_proxy_ans(8, id, &data, &mut rb), Ok(24));
    assert_eq!((&cb[..24], &rb[..24]), (&want_ans[..], &want_ans[..]));
    let want = rm::ProxyAns {
        flags: 8,
        ext_conn_id: id,
        data_offset: 16,
        data_len: 8,
    };
    assert_eq!(rm::decode_proxy_ans(&want_ans), Ok(want));
    assert_eq!(cm::decode_proxy_ans(&want_ans), Ok(want));

    let want_ack = hex("9b40ac3b efcdab8967452301 04030281");
    assert_eq!(rm::encode_simple_ack(id, 0x8102_0304).to_vec(), want_ack);
    assert_eq!(cm::encode_simple_ack(id, 0x8102_0304).to_vec(), want_ack);
    let want = rm::SimpleAck {
        ext_conn_id: id,
        confirm: 0x8102_0304,
    };
    assert_eq!(cm::decode_simple_ack(&want_ack), Ok(want));
    assert_eq!(rm::decode_simple_ack(&want_ack), Ok(want));

    let want_ext = hex("a234b65e efcdab8967452301");
    let want_conn = hex("5d42cf1f efcdab8967452301");
    assert_eq!(rm::encode_close_ext(id).to_vec(), want_ext);
    assert_eq!(cm::encode_close_ext(id).to_vec(), want_ext);
    assert_eq!(rm::encode_close_conn(id).to_vec(), want_conn);
    assert_eq!(cm::encode_close_conn(id).to_vec(), want_conn);
    assert_eq!(rm::decode_close_ext(&want_ext), Ok(id));
    assert_eq!(cm::decode_close_ext(&want_ext), Ok(id));
    assert_eq!(rm::decode_close_conn(&want_conn), Ok(id));
    assert_eq!(cm::decode_close_conn(&want_conn), Ok(id));
}

#[test]
fn known_answer_kinds_and_ids() {
    let cases = [
        ("eef1ce36", KIND_PROXY_REQ),
        ("0dda0344", KIND_PROXY_ANS),
        ("9b40ac3b", KIND_SIMPLE_ACK),
        ("a234b65e", KIND_CLOSE_EXT),
        ("5d42cf1f", KIND_CLOSE_CONN),
        ("dfa23057", KIND_PING),
        ("a7ea3084", KIND_PONG),
        ("aa87cb7a", KIND_OTHER),
    ];
    for (op, kind) in cases {
        let msg = hex(&format!("{op} 0000000000000000"));
        assert_eq!(rm::message_kind(&msg), Ok(kind));
        assert_eq!(cm::message_kind(&msg), Ok(kind));
    }
    assert_eq!(rm::message_kind(&[1, 2, 3]), Err(rm::RpcMsgError::SHORT));
    assert_eq!(cm::message_kind(&[1, 2, 3]), Err(cm::RpcMsgError::SHORT));
    // §4.8: fd 13 reused three times.
    let mut id = 0;
    for want in [0x40_000d, 0x80_000d, 0xc0_000d] {
        id = rm::ext_conn_id_next(id, 13).unwrap();
        assert_eq!(id, want);
        assert_eq!(cm::ext_conn_id_next(want - 0x40_0000, 13), Ok(want));
    }
    assert_eq!(cm::ext_conn_id_next(0, 1 << 22), Err(cm::RpcMsgError::ARG));
    assert_eq!(rm::ext_conn_id_next(0, 1 << 22), Err(rm::RpcMsgError::ARG));
    assert_eq!(cm::ext_conn_id_next(i64::MAX, 7), Ok(0x40_0007));
    assert_eq!(rm::ext_conn_id_next(i64::MAX, 7), Ok(0x40_0007));
    assert_eq!(cm::ipv4_mapped(0x7f00_0001), rm::ipv4_mapped(0x7f00_0001));
}

#[test]
fn hostile_proxy_req() {
    let packet = [9u8; 12];
    let good = encode_both(&sample_req(0x4002_100a), &packet, 200).unwrap();
    let plain = encode_both(&sample_req(0x2002_1000), &packet, 200).unwrap();
    let with = |at: usize, bytes: &[u8], base: &[u8]| {
        let mut m = base.to_vec();
        m[at..at + bytes.len()].copy_from_slice(bytes);
        m
    };
    use rm::RpcMsgError as E;
    let cases: Vec<(Vec<u8>, E)> = vec![
        (vec![], E::SHORT),
        (good[..3].to_vec(), E::SHORT),
        (good[..55].to_vec(), E::SHORT),
        (plain[..55].to_vec(), E::SHORT),
        (good[..59].to_vec(), E::SHORT),
        // extra_size past the end, negative, near 2^31, not covering the tag
        (with(56, &200u32.to_le_bytes(), &good), E::EXTRAS),
        (with(56, &(-4i32).to_le_bytes(), &good), E::EXTRAS),
        (with(56, &0x7fff_fffcu32.to_le_bytes(), &good), E::EXTRAS),
        (with(56, &(i32::MIN).to_le_bytes(), &good), E::EXTRAS),
        (with(56, &20u32.to_le_bytes(), &good), E::EXTRAS),
        (with(56, &0u32.to_le_bytes(), &good), E::EXTRAS),
        (good[..70].to_vec(), E::EXTRAS),
        // one byte over: the extras hold leftovers
        (with(56, &28u32.to_le_bytes(), &good), E::EXTRAS),
        // bad TL string prefixes, a 15- or 17-byte tag, an unknown item
        (with(64, &[0xff], &good), E::EXTRAS),
        (with(64, &[0xfe, 0xff, 0xff, 0xff], &good), E::EXTRAS),
        (with(64, &[15], &good), E::EXTRAS),
        (with(64, &[17], &good), E::EXTRAS),
        (with(60, &0xdb1e_26afu32.to_le_bytes(), &good), E::EXTRAS),
        // HTTP extras are refused, before extra_size is read
        (
            with(4, &0x4002_100eu32.to_le_bytes(), &good),
            E::UNSUPPORTED,
        ),
        (
            with(4, &0x4002_1004u32.to_le_bytes(), &good[..56]),
            E::UNSUPPORTED,
        ),
        (with(0, &0x36ce_f1efu32.to_le_bytes(), &good), E::WRONG_OP),
    ];
    for (msg, want) in cases {
        assert_eq!(
            rm::decode_proxy_req(&msg).map(|_| ()),
            Err(want),
            "{msg:02x?}"
        );
        decode_all_both(&msg);
    }
    // The long string form of the tag is also 24 bytes and parses.
    let mut long = good.clone();
    long.splice(64..65, [0xfe, 16, 0, 0]);
    long.drain(84..87);
    assert_eq!(
        rm::decode_proxy_req(&long),
        Ok((sample_req(0x4002_100a), 84))
    );
    decode_all_both(&long);
    // Flag 8 with the tag absent from the request struct still encodes it;
    // flag 4 cannot be encoded.
    assert_eq!(encode_both(&sample_req(0x4002_100e), &packet, 200), Err(-5));
    assert_eq!(encode_both(&sample_req(0x4002_100a), &packet, 95), Err(-6));
    assert_eq!(encode_both(&sample_req(0x2002_1000), &[], 0), Err(-6));
    assert_eq!(
        encode_both(&sample_req(0x2002_1000), &[], 56).map(|m| m.len()),
        Ok(56)
    );
}

/// A Rust decoder with its output dropped.
type Decoder = fn(&[u8]) -> Result<(), rm::RpcMsgError>;

#[test]
fn hostile_fixed_length_messages() {
    let ans = hex("0dda0344 00000000 0100000000000000");
    let ack = hex("9b40ac3b 0100000000000000 01000080");
    let ext = hex("a234b65e 0100000000000000");
    use rm::RpcMsgError as E;
    let mut cases: Vec<(Vec<u8>, Decoder, E)> = Vec::new();
    let ans_fn: Decoder = |m| rm::decode_proxy_ans(m).map(|_| ());
    let ack_fn: Decoder = |m| rm::decode_simple_ack(m).map(|_| ());
    let ext_fn: Decoder = |m| rm::decode_close_ext(m).map(|_| ());
    for n in [4, 8, 12, 15] {
        cases.push((ans[..n].to_vec(), ans_fn, E::LENGTH));
    }
    for extra in [1, 2, 3, 5] {
        let mut m = ans.clone();
        m.extend(vec![0; extra]);
        cases.push((m, ans_fn, E::LENGTH));
    }
    for n in [4, 12, 15] {
        cases.push((ack[..n].to_vec(), ack_fn, E::LENGTH));
    }
    cases.push(([&ack[..], &[0; 4]].concat(), ack_fn, E::LENGTH));
    cases.push((ext[..11].to_vec(), ext_fn, E::LENGTH));
    cases.push(([&ext[..], &[0; 4]].concat(), ext_fn, E::LENGTH));
    cases.push((ext[..3].to_vec(), ext_fn, E::SHORT));
    cases.push((ack.clone(), ext_fn, E::WRONG_OP));
    cases.push((ext.clone(), ans_fn, E::WRONG_OP));
    for (msg, decode, want) in cases {
        assert_eq!(decode(&msg), Err(want), "{msg:02x?}");
        decode_all_both(&msg);
    }
    // An empty ANS body is fine; an ANS body not a multiple of 4 cannot be built.
    assert_eq!(rm::decode_proxy_ans(&ans).map(|a| a.data_len), Ok(0));
    let (mut cb, mut rb) = ([0u8; 32], [0u8; 32]);
    assert_eq!(
        cm::encode_proxy_ans(0, 1, &[1, 2], &mut cb),
        Err(cm::RpcMsgError::LENGTH)
    );
    assert_eq!(
        rm::encode_proxy_ans(0, 1, &[1, 2], &mut rb),
        Err(rm::RpcMsgError::LENGTH)
    );
    assert_eq!(
        cm::encode_proxy_ans(0, 1, &[0; 20], &mut cb),
        Err(cm::RpcMsgError::OVERFLOW)
    );
    assert_eq!(
        rm::encode_proxy_ans(0, 1, &[0; 20], &mut rb),
        Err(rm::RpcMsgError::OVERFLOW)
    );
    assert_eq!(cb, [0; 32]);
    assert_eq!(rb, [0; 32]);
}

fn any_req() -> impl Strategy<Value = rm::ProxyReq> {
    (
        any::<u32>(),
        any::<i64>(),
        any::<[u8; 16]>(),
        any::<i32>(),
        any::<[u8; 16]>(),
        any::<i32>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(flags, id, cip, cport, pip, pport, tag)| rm::ProxyReq {
            flags,
            ext_conn_id: id,
            client_ip: cip,
            client_port: cport,
            proxy_ip: pip,
            proxy_port: pport,
            ad_tag: tag,
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flags_match(t in -1i32..5, q: bool, u: bool, a: bool, d: bool) {
        prop_assert_eq!(
            cm::proxy_req_flags(t, q, u, a, d).map_err(|e| e.code()),
            rm::proxy_req_flags(t, q, u, a, d).map_err(|e| e.code())
        );
    }

    #[test]
    fn ext_conn_ids_match(previous: i64, slot in prop_oneof![0u32..(1 << 22), any::<u32>()]) {
        let c = cm::ext_conn_id_next(previous, slot).map_err(|e| e.code());
        let r = rm::ext_conn_id_next(previous, slot).map_err(|e| e.code());
        prop_assert_eq!(c, r);
        if let Ok(id) = r {
            prop_assert!(id > 0);
            prop_assert_eq!(id & 0x3f_ffff, i64::from(slot));
        }
    }

    /// Encode on one side, decode on the other (both ways), identical bytes
    /// and identical errors for any flags and any output size.
    #[test]
    fn proxy_req_round_trips_across(req in any_req(), packet in parity_tests::bytes(200), cap in 0usize..320) {
        let encoded = encode_both(&req, &packet, cap);
        if let Ok(msg) = encoded {
            let mut want = req;
            if want.flags & 8 == 0 {
                want.ad_tag = [0; 16];
            }
            let offset = msg.len() - packet.len();
            prop_assert_eq!(rm::decode_proxy_req(&msg), Ok((want, offset)));
            let (c_req, c_off) = cm::decode_proxy_req(&msg).unwrap();
            prop_assert_eq!((c_req, c_off), (want, offset));
            prop_assert_eq!(&msg[offset..], &packet[..]);
        }
    }

    #[test]
    fn me_messages_round_trip_across(flags: i32, id: i64, confirm: u32, words in 0usize..64, cap in 0usize..300) {
        let data: Vec<u8> = (0..words * 4).map(|i| i as u8).collect();
        let (mut cb, mut rb) = (vec![0u8; cap], vec![0u8; cap]);
        let c = cm::encode_proxy_ans(flags, id, &data, &mut cb).map_err(|e| e.code());
        let r = rm::encode_proxy_ans(flags, id, &data, &mut rb).map_err(|e| e.code());
        prop_assert_eq!(c, r);
        prop_assert_eq!(&cb, &rb);
        if let Ok(n) = r {
            let ans = cm::decode_proxy_ans(&rb[..n]).unwrap();
            prop_assert_eq!((ans.flags, ans.ext_conn_id, ans.data_len), (flags, id, data.len()));
            let ans = rm::decode_proxy_ans(&cb[..n]).unwrap();
            prop_assert_eq!(&cb[ans.data_offset..n], &data[..]);
        }
        let ack = cm::encode_simple_ack(id, confirm);
        prop_assert_eq!(ack, rm::encode_simple_ack(id, confirm));
        prop_assert_eq!(rm::decode_simple_ack(&ack).map(|a| (a.ext_conn_id, a.confirm)), Ok((id, confirm)));
        prop_assert_eq!(cm::decode_close_ext(&rm::encode_close_ext(id)), Ok(id));
        prop_assert_eq!(rm::decode_close_conn(&cm::encode_close_conn(id)), Ok(id));
    }

    /// Random bytes, and random bytes behind each known op code.
    #[test]
    fn decoders_agree_on_garbage(op in 0usize..9, body in parity_tests::bytes(120)) {
        let ops = [0x36ce_f1eeu32, 0x4403_da0d, 0x3bac_409b, 0x5eb6_34a2, 0x1fcf_425d, 0x5730_a2df, 0x8430_eaa7, 0xdb1e_26ae];
        let mut msg = ops.get(op).map_or(Vec::new(), |o| o.to_le_bytes().to_vec());
        msg.extend_from_slice(&body);
        decode_all_both(&msg);
    }

    /// Valid requests with one field overwritten, or truncated.
    #[test]
    fn decoders_agree_on_mutated_requests(
        req in any_req(),
        packet in parity_tests::bytes(64),
        at: prop::sample::Index,
        value: u32,
        cut: prop::sample::Index,
    ) {
        let mut req = req;
        req.flags &= !4;
        let mut msg = vec![0u8; 200];
        let n = rm::encode_proxy_req(&req, &packet, &mut msg).unwrap();
        msg.truncate(n);
        if msg.len() >= 4 {
            let i = at.index(msg.len() - 3);
            msg[i..i + 4].copy_from_slice(&value.to_le_bytes());
        }
        decode_all_both(&msg);
        let n = cut.index(msg.len() + 1);
        decode_all_both(&msg[..n]);
    }
}

mod args;
