use super::{expect_eq, Check};
use mtproxy_sys::c::rpc_proxy_msg::{self as m, ProxyReq, RpcMsgError};

pub const CHECKS: &[Check] = &[
    ("observed flags", || {
        expect_eq(
            "abridged+unencrypted+tag",
            m::proxy_req_flags(1, false, true, true, false),
            Ok(0x4002_100a),
        )?;
        expect_eq(
            "intermediate",
            m::proxy_req_flags(2, false, false, false, false),
            Ok(0x2002_1000),
        )?;
        expect_eq(
            "bad transport",
            m::proxy_req_flags(9, false, false, false, false),
            Err(RpcMsgError::ARG),
        )
    }),
    ("proxy req with tag", || {
        let req = ProxyReq {
            flags: 0x4002_100a,
            ext_conn_id: m::ext_conn_id_next(0, 13).map_err(|e| format!("{e:?}"))?,
            client_ip: m::ipv4_mapped(0x0102_0304),
            client_port: 5678,
            proxy_ip: m::ipv4_mapped(0x0a00_0001),
            proxy_port: 443,
            ad_tag: [0x11; 16],
        };
        let mut buf = [0u8; 100];
        let n = m::encode_proxy_req(&req, &[7; 8], &mut buf).map_err(|e| format!("{e:?}"))?;
        expect_eq("length", n, 92)?;
        expect_eq("id", &buf[8..12], &[0x0d, 0, 0x40, 0][..])?;
        expect_eq("client ip", &buf[26..32], &[0xff, 0xff, 1, 2, 3, 4][..])?;
        expect_eq("extras", &buf[56..65], b"\x18\0\0\0\xae\x26\x1e\xdb\x10")?;
        expect_eq("decode", m::decode_proxy_req(&buf[..n]), Ok((req, 84)))?;
        expect_eq(
            "truncated extras",
            m::decode_proxy_req(&buf[..70]).map(|_| ()),
            Err(RpcMsgError::EXTRAS),
        )
    }),
    ("me messages", || {
        let ack = m::encode_simple_ack(-2, 0x8000_0004);
        expect_eq("ack op", &ack[..4], b"\x9b\x40\xac\x3b")?;
        expect_eq(
            "ack",
            m::decode_simple_ack(&ack).map(|a| a.confirm),
            Ok(0x8000_0004),
        )?;
        expect_eq(
            "short ack",
            m::decode_simple_ack(&ack[..12]).map(|_| ()),
            Err(RpcMsgError::LENGTH),
        )?;
        expect_eq(
            "close ext",
            m::decode_close_ext(&m::encode_close_ext(5)),
            Ok(5),
        )?;
        expect_eq(
            "close conn",
            m::decode_close_conn(&m::encode_close_conn(-9)),
            Ok(-9),
        )?;
        expect_eq(
            "close conn kind",
            m::message_kind(&m::encode_close_conn(5)),
            Ok(5),
        )?;
        let mut out = [0u8; 20];
        expect_eq(
            "ans",
            m::encode_proxy_ans(0, 5, &[1, 2, 3, 4], &mut out),
            Ok(20),
        )?;
        expect_eq(
            "ans data",
            m::decode_proxy_ans(&out).map(|a| (a.data_offset, a.data_len)),
            Ok((16, 4)),
        )
    }),
];
