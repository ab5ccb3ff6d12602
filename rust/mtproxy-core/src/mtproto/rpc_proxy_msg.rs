//! The TL messages between the proxy and a middle-end (ME), inside the RPC
//! frames of a proxy↔ME connection (docs/PROTOCOL.md §4.8, §4.9).
//!
//! A "message" here is one frame payload: a 4-byte LE op code and its fields.
//! - RPC_PROXY_REQ (proxy → ME): op, flags, ext_conn_id, client IP + port,
//!   proxy IP + port, then — only when `flags & 0x0c` — an int32 `extra_size`
//!   and that many bytes of TL extras (flag 8: `TL_PROXY_TAG` + the 16-byte
//!   ad tag as a TL string, 24 bytes in all), then the client's packet.
//! - RPC_PROXY_ANS (ME → proxy): op, int32 flags, int64 ext_conn_id, data;
//!   at least 16 bytes and a multiple of 4.
//! - RPC_SIMPLE_ACK (ME → proxy): op, int64 ext_conn_id, uint32 confirm;
//!   exactly 16 bytes.
//! - RPC_CLOSE_EXT (ME → proxy) and RPC_CLOSE_CONN (proxy → ME): op, int64
//!   ext_conn_id; exactly 12 bytes.
//!
//! Both halves are here (the ME half is for test middle-ends). PING/PONG
//! answers belong to the rpc-handshake module; [`message_kind`] only names
//! them.
//!
//! Extras with flag 4 (HTTP query info) belong to the HTTP transport, which
//! this proxy does not have; both directions refuse them with
//! [`RpcMsgError::UNSUPPORTED`].
use crate::common::tl_parse::{TlReader, TlWriter};

/// An error code of this module (negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcMsgError(i32);

impl RpcMsgError {
    /// Fewer bytes than the message's fixed part (or no op code at all).
    pub const SHORT: RpcMsgError = RpcMsgError(-1);
    /// The op code is not the one the decoder expects.
    pub const WRONG_OP: RpcMsgError = RpcMsgError(-2);
    /// A length the message's exact-length rule forbids (ANS below 16 bytes
    /// or not a multiple of 4, SIMPLE_ACK not 16, CLOSE_EXT/CLOSE_CONN not 12).
    pub const LENGTH: RpcMsgError = RpcMsgError(-3);
    /// PROXY_REQ extras that do not parse: `extra_size` negative or past the
    /// end, a bad TL string, an unknown item, a tag that is not 16 bytes,
    /// bytes left over.
    pub const EXTRAS: RpcMsgError = RpcMsgError(-4);
    /// Flag 4 (HTTP query info extras), which this proxy never sends.
    pub const UNSUPPORTED: RpcMsgError = RpcMsgError(-5);
    /// The output buffer is too small.
    pub const OVERFLOW: RpcMsgError = RpcMsgError(-6);
    /// A bad argument: unknown transport, slot ≥ 2^22, a null pointer.
    pub const ARG: RpcMsgError = RpcMsgError(-7);

    /// The C error code.
    pub const fn code(self) -> i32 {
        self.0
    }
}

/// Op codes (appendix of docs/PROTOCOL.md).
pub const OP_PROXY_REQ: u32 = 0x36ce_f1ee;
pub const OP_PROXY_ANS: u32 = 0x4403_da0d;
pub const OP_SIMPLE_ACK: u32 = 0x3bac_409b;
pub const OP_CLOSE_EXT: u32 = 0x5eb6_34a2;
pub const OP_CLOSE_CONN: u32 = 0x1fcf_425d;
pub const OP_PING: u32 = 0x5730_a2df;
pub const OP_PONG: u32 = 0x8430_eaa7;
/// Extras item: the ad tag.
pub const TL_PROXY_TAG: u32 = 0xdb1e_26ae;

/// PROXY_REQ flag bits (§4.8).
pub const FLAG_UNENCRYPTED: u32 = 0x0000_0002;
pub const FLAG_HTTP_EXTRAS: u32 = 0x0000_0004;
pub const FLAG_AD_TAG: u32 = 0x0000_0008;
pub const FLAG_TCP_LISTENER: u32 = 0x0000_1000;
pub const FLAG_OBFUSCATED2: u32 = 0x0002_0000;
pub const FLAG_EARLIER_DROPPED: u32 = 0x1000_0000;
pub const FLAG_INTERMEDIATE: u32 = 0x2000_0000;
pub const FLAG_ABRIDGED: u32 = 0x4000_0000;
pub const FLAG_QUICK_ACK: u32 = 0x8000_0000;
/// Flags whose presence means an `extra_size` field follows the header.
const FLAGS_WITH_EXTRAS: u32 = FLAG_HTTP_EXTRAS | FLAG_AD_TAG;

/// Client transports, for [`proxy_req_flags`].
pub const TRANSPORT_ABRIDGED: i32 = 1;
pub const TRANSPORT_INTERMEDIATE: i32 = 2;
pub const TRANSPORT_PADDED: i32 = 3;

/// Message kinds returned by [`message_kind`].
pub const KIND_OTHER: i32 = 0;
pub const KIND_PROXY_REQ: i32 = 1;
pub const KIND_PROXY_ANS: i32 = 2;
pub const KIND_SIMPLE_ACK: i32 = 3;
pub const KIND_CLOSE_EXT: i32 = 4;
pub const KIND_CLOSE_CONN: i32 = 5;
pub const KIND_PING: i32 = 6;
pub const KIND_PONG: i32 = 7;

/// PROXY_REQ header without extras (op to the proxy's port).
pub const PROXY_REQ_HEADER_LEN: usize = 56;
/// The ad-tag extras: `TL_PROXY_TAG`, then a 16-byte TL string (1 length
/// byte, 16 bytes, 3 zero bytes).
pub const AD_TAG_EXTRAS_LEN: usize = 24;
/// The largest PROXY_REQ header (with `extra_size` and the ad tag).
pub const PROXY_REQ_MAX_HEADER_LEN: usize = PROXY_REQ_HEADER_LEN + 4 + AD_TAG_EXTRAS_LEN;
/// PROXY_ANS before its data.
pub const PROXY_ANS_HEADER_LEN: usize = 16;
pub const SIMPLE_ACK_LEN: usize = 16;
/// CLOSE_EXT and CLOSE_CONN.
pub const CLOSE_LEN: usize = 12;
/// Bits of an ext_conn_id that hold the slot.
pub const EXT_CONN_SLOT_BITS: u32 = 22;

/// Length of the ad tag (`-P`).
pub const AD_TAG_LEN: usize = 16;

/// The fields of an RPC_PROXY_REQ besides the packet. IPs are 16 bytes:
/// IPv6 or IPv4-mapped (`mtp_rpc_msg_ipv4_mapped`). `ad_tag` is sent when
/// `flags & 8` and is zero after decoding a request without it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyReq {
    pub flags: u32,
    pub ext_conn_id: i64,
    /// IPv6, or IPv4-mapped (`ipv4_mapped`).
    pub client_ip: [u8; 16],
    pub client_port: i32,
    /// The proxy's local address the client connected to, same encoding.
    pub proxy_ip: [u8; 16],
    pub proxy_port: i32,
    pub ad_tag: [u8; AD_TAG_LEN],
}

/// A decoded RPC_PROXY_ANS: the data is `msg[data_offset .. data_offset + data_len)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyAns {
    pub flags: i32,
    pub ext_conn_id: i64,
    pub data_offset: usize,
    pub data_len: usize,
}

/// A decoded RPC_SIMPLE_ACK.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimpleAck {
    pub ext_conn_id: i64,
    pub confirm: u32,
}

/// The PROXY_REQ flag word for a packet from an obfuscated2 TCP client
/// (the only kind this proxy has): `transport` is one of `TRANSPORT_*`
/// (padded intermediate is signalled as intermediate).
pub fn proxy_req_flags(
    transport: i32,
    quick_ack: bool,
    unencrypted: bool,
    has_ad_tag: bool,
    earlier_dropped: bool,
) -> Result<u32, RpcMsgError> {
    let transport_bit = match transport {
        TRANSPORT_ABRIDGED => FLAG_ABRIDGED,
        TRANSPORT_INTERMEDIATE | TRANSPORT_PADDED => FLAG_INTERMEDIATE,
        _ => return Err(RpcMsgError::ARG),
    };
    let optional = [
        (quick_ack, FLAG_QUICK_ACK),
        (unencrypted, FLAG_UNENCRYPTED),
        (has_ad_tag, FLAG_AD_TAG),
        (earlier_dropped, FLAG_EARLIER_DROPPED),
    ];
    Ok(optional.iter().filter(|(on, _)| *on).fold(
        FLAG_TCP_LISTENER | FLAG_OBFUSCATED2 | transport_bit,
        |acc, (_, bit)| acc | bit,
    ))
}

/// A host-order IPv4 address as the 16-byte IPv4-mapped IPv6 form
/// (`00×10 ff ff` + the address in network order).
pub fn ipv4_mapped(ipv4: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[10] = 0xff;
    out[11] = 0xff;
    out[12..].copy_from_slice(&ipv4.to_be_bytes());
    out
}

/// The ext_conn_id for a new client in table slot `slot` (< 2^22), given
/// the id the slot had last (0 if never used): the reuse counter above the
/// slot bits steps by one (2^22 in the id) and wraps from its largest
/// positive value back to 1, so ids stay positive and never equal a bare slot.
pub fn ext_conn_id_next(previous: i64, slot: u32) -> Result<i64, RpcMsgError> {
    if slot >> EXT_CONN_SLOT_BITS != 0 {
        return Err(RpcMsgError::ARG);
    }
    let max_counter = (i64::MAX as u64) >> EXT_CONN_SLOT_BITS;
    let counter = ((previous as u64) >> EXT_CONN_SLOT_BITS) & max_counter;
    let next = if counter >= max_counter {
        1
    } else {
        counter + 1
    };
    Ok((next << EXT_CONN_SLOT_BITS | u64::from(slot)) as i64)
}

/// The kind (`KIND_*`) of a message by its op code; [`RpcMsgError::SHORT`]
/// without a whole op code. Lengths are not checked here.
pub fn message_kind(msg: &[u8]) -> Result<i32, RpcMsgError> {
    let op = read_op(msg)?;
    Ok(match op {
        OP_PROXY_REQ => KIND_PROXY_REQ,
        OP_PROXY_ANS => KIND_PROXY_ANS,
        OP_SIMPLE_ACK => KIND_SIMPLE_ACK,
        OP_CLOSE_EXT => KIND_CLOSE_EXT,
        OP_CLOSE_CONN => KIND_CLOSE_CONN,
        OP_PING => KIND_PING,
        OP_PONG => KIND_PONG,
        _ => KIND_OTHER,
    })
}

fn read_op(msg: &[u8]) -> Result<u32, RpcMsgError> {
    let op = msg.get(..4).ok_or(RpcMsgError::SHORT)?;
    Ok(u32::from_le_bytes([op[0], op[1], op[2], op[3]]))
}

/// Checks the op code, then reads the message's fields with `read` (the
/// reader starts after the op). A TL shortfall here cannot happen once the
/// caller checked the length, but is still mapped to `SHORT`.
fn decode_with<T>(
    msg: &[u8],
    op: u32,
    length_ok: impl FnOnce(usize) -> bool,
    read: impl FnOnce(&mut TlReader<'_>) -> Result<T, crate::common::tl_parse::TlError>,
) -> Result<T, RpcMsgError> {
    if read_op(msg)? != op {
        return Err(RpcMsgError::WRONG_OP);
    }
    if !length_ok(msg.len()) {
        return Err(RpcMsgError::LENGTH);
    }
    let mut reader = TlReader::from_parts(msg, 4, 0);
    read(&mut reader).map_err(|_| RpcMsgError::SHORT)
}

/// Writes a PROXY_REQ with `packet` into `out`; returns the length written.
/// [`RpcMsgError::UNSUPPORTED`] if `flags` has flag 4; nothing is written
/// unless the whole message fits.
pub fn encode_proxy_req(
    req: &ProxyReq,
    packet: &[u8],
    out: &mut [u8],
) -> Result<usize, RpcMsgError> {
    if req.flags & FLAG_HTTP_EXTRAS != 0 {
        return Err(RpcMsgError::UNSUPPORTED);
    }
    let with_tag = req.flags & FLAG_AD_TAG != 0;
    let header = if with_tag {
        PROXY_REQ_MAX_HEADER_LEN
    } else {
        PROXY_REQ_HEADER_LEN
    };
    let total = header
        .checked_add(packet.len())
        .filter(|&n| n <= out.len())
        .ok_or(RpcMsgError::OVERFLOW)?;
    let mut w = TlWriter::new(&mut out[..total]);
    let written = (|| {
        w.store_int(OP_PROXY_REQ as i32)?;
        w.store_int(req.flags as i32)?;
        w.store_long(req.ext_conn_id)?;
        w.store_raw(&req.client_ip)?;
        w.store_int(req.client_port)?;
        w.store_raw(&req.proxy_ip)?;
        w.store_int(req.proxy_port)?;
        if with_tag {
            w.store_int(AD_TAG_EXTRAS_LEN as i32)?;
            w.store_int(TL_PROXY_TAG as i32)?;
            w.store_string(&req.ad_tag)?;
        }
        w.store_raw(packet)
    })();
    written.map_err(|_| RpcMsgError::OVERFLOW)?;
    Ok(total)
}

/// Reads a PROXY_REQ; returns its fields and the offset of the client's
/// packet (which runs to the end of `msg`, possibly empty).
pub fn decode_proxy_req(msg: &[u8]) -> Result<(ProxyReq, usize), RpcMsgError> {
    if read_op(msg)? != OP_PROXY_REQ {
        return Err(RpcMsgError::WRONG_OP);
    }
    let mut r = TlReader::from_parts(msg, 4, 0);
    let mut req = ProxyReq::default();
    let fixed = (|| {
        req.flags = r.fetch_int()? as u32;
        req.ext_conn_id = r.fetch_long()?;
        r.fetch_raw(&mut req.client_ip)?;
        req.client_port = r.fetch_int()?;
        r.fetch_raw(&mut req.proxy_ip)?;
        req.proxy_port = r.fetch_int()?;
        Ok(())
    })();
    fixed.map_err(|_: crate::common::tl_parse::TlError| RpcMsgError::SHORT)?;
    if req.flags & FLAGS_WITH_EXTRAS == 0 {
        return Ok((req, r.position()));
    }
    if req.flags & FLAG_HTTP_EXTRAS != 0 {
        return Err(RpcMsgError::UNSUPPORTED);
    }
    let extra_size = r.fetch_int().map_err(|_| RpcMsgError::SHORT)?;
    let start = r.position();
    let extras = usize::try_from(extra_size)
        .ok()
        .and_then(|n| msg.get(start..start.checked_add(n)?))
        .ok_or(RpcMsgError::EXTRAS)?;
    req.ad_tag = read_ad_tag(extras).ok_or(RpcMsgError::EXTRAS)?;
    Ok((req, start + extras.len()))
}

/// The extras of a request with only the ad-tag flag: exactly one
/// `TL_PROXY_TAG` item holding a 16-byte string, nothing else.
fn read_ad_tag(extras: &[u8]) -> Option<[u8; AD_TAG_LEN]> {
    let mut r = TlReader::new(extras);
    if r.fetch_int().ok()? as u32 != TL_PROXY_TAG {
        return None;
    }
    let tag = extras.get(r.fetch_string().ok()?)?;
    r.fetch_end().ok()?;
    tag.try_into().ok()
}

/// Writes a PROXY_ANS (`data` a multiple of 4, else [`RpcMsgError::LENGTH`]);
/// returns the length written.
pub fn encode_proxy_ans(
    flags: i32,
    ext_conn_id: i64,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, RpcMsgError> {
    if data.len() % 4 != 0 {
        return Err(RpcMsgError::LENGTH);
    }
    let total = PROXY_ANS_HEADER_LEN
        .checked_add(data.len())
        .filter(|&n| n <= out.len())
        .ok_or(RpcMsgError::OVERFLOW)?;
    let mut w = TlWriter::new(&mut out[..total]);
    let written = (|| {
        w.store_int(OP_PROXY_ANS as i32)?;
        w.store_int(flags)?;
        w.store_long(ext_conn_id)?;
        w.store_raw(data)
    })();
    written.map_err(|_| RpcMsgError::OVERFLOW)?;
    Ok(total)
}

/// Reads a PROXY_ANS (at least 16 bytes, a multiple of 4).
pub fn decode_proxy_ans(msg: &[u8]) -> Result<ProxyAns, RpcMsgError> {
    let length_ok = |n: usize| n >= PROXY_ANS_HEADER_LEN && n % 4 == 0;
    decode_with(msg, OP_PROXY_ANS, length_ok, |r| {
        Ok(ProxyAns {
            flags: r.fetch_int()?,
            ext_conn_id: r.fetch_long()?,
            data_offset: PROXY_ANS_HEADER_LEN,
            data_len: msg.len() - PROXY_ANS_HEADER_LEN,
        })
    })
}

/// A SIMPLE_ACK message.
pub fn encode_simple_ack(ext_conn_id: i64, confirm: u32) -> [u8; SIMPLE_ACK_LEN] {
    let mut out = [0u8; SIMPLE_ACK_LEN];
    out[..4].copy_from_slice(&OP_SIMPLE_ACK.to_le_bytes());
    out[4..12].copy_from_slice(&ext_conn_id.to_le_bytes());
    out[12..].copy_from_slice(&confirm.to_le_bytes());
    out
}

/// Reads a SIMPLE_ACK (exactly 16 bytes).
pub fn decode_simple_ack(msg: &[u8]) -> Result<SimpleAck, RpcMsgError> {
    decode_with(
        msg,
        OP_SIMPLE_ACK,
        |n| n == SIMPLE_ACK_LEN,
        |r| {
            Ok(SimpleAck {
                ext_conn_id: r.fetch_long()?,
                confirm: r.fetch_int()? as u32,
            })
        },
    )
}

fn encode_close(op: u32, ext_conn_id: i64) -> [u8; CLOSE_LEN] {
    let mut out = [0u8; CLOSE_LEN];
    out[..4].copy_from_slice(&op.to_le_bytes());
    out[4..].copy_from_slice(&ext_conn_id.to_le_bytes());
    out
}

fn decode_close(msg: &[u8], op: u32) -> Result<i64, RpcMsgError> {
    decode_with(msg, op, |n| n == CLOSE_LEN, |r| r.fetch_long())
}

/// A CLOSE_EXT message (ME → proxy).
pub fn encode_close_ext(ext_conn_id: i64) -> [u8; CLOSE_LEN] {
    encode_close(OP_CLOSE_EXT, ext_conn_id)
}

/// Reads a CLOSE_EXT (exactly 12 bytes): the ext_conn_id.
pub fn decode_close_ext(msg: &[u8]) -> Result<i64, RpcMsgError> {
    decode_close(msg, OP_CLOSE_EXT)
}

/// A CLOSE_CONN message (proxy → ME).
pub fn encode_close_conn(ext_conn_id: i64) -> [u8; CLOSE_LEN] {
    encode_close(OP_CLOSE_CONN, ext_conn_id)
}

/// Reads a CLOSE_CONN (exactly 12 bytes): the ext_conn_id.
pub fn decode_close_conn(msg: &[u8]) -> Result<i64, RpcMsgError> {
    decode_close(msg, OP_CLOSE_CONN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_flag_values() {
        let f = proxy_req_flags;
        assert_eq!(
            f(TRANSPORT_ABRIDGED, false, true, true, false),
            Ok(0x4002_100a)
        );
        assert_eq!(
            f(TRANSPORT_ABRIDGED, true, false, true, false),
            Ok(0xc002_1008)
        );
        assert_eq!(
            f(TRANSPORT_INTERMEDIATE, false, false, false, false),
            Ok(0x2002_1000)
        );
        assert_eq!(
            f(TRANSPORT_PADDED, false, true, false, false),
            Ok(0x2002_1002)
        );
        assert_eq!(
            f(TRANSPORT_PADDED, false, false, false, true),
            Ok(0x3002_1000)
        );
        assert_eq!(f(0, false, false, false, false), Err(RpcMsgError::ARG));
    }

    #[test]
    fn ext_conn_ids_step_by_two_to_the_22() {
        assert_eq!(ext_conn_id_next(0, 13), Ok(0x40_000d));
        assert_eq!(ext_conn_id_next(0x40_000d, 13), Ok(0x80_000d));
        assert_eq!(ext_conn_id_next(0x80_000d, 13), Ok(0xc0_000d));
        assert_eq!(ext_conn_id_next(i64::MAX, 5), Ok(0x40_0005));
        assert_eq!(ext_conn_id_next(-1, 5), Ok(0x40_0005));
        assert_eq!(ext_conn_id_next(0, 1 << 22), Err(RpcMsgError::ARG));
    }

    #[test]
    fn proxy_req_with_tag_round_trips() {
        let req = ProxyReq {
            flags: 0x4002_100a,
            ext_conn_id: 0x40_000d,
            client_ip: ipv4_mapped(0x7f00_0001),
            client_port: 50000,
            proxy_ip: ipv4_mapped(0x0a00_0001),
            proxy_port: 443,
            ad_tag: [0xab; 16],
        };
        let packet = [7u8; 40];
        let mut buf = [0u8; 200];
        let n = encode_proxy_req(&req, &packet, &mut buf).unwrap();
        assert_eq!(n, 84 + 40);
        assert_eq!(&buf[56..84], b"\x18\0\0\0\xae\x26\x1e\xdb\x10\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\0\0\0");
        assert_eq!(decode_proxy_req(&buf[..n]), Ok((req, 84)));
        assert_eq!(
            encode_proxy_req(&req, &packet, &mut buf[..n - 1]),
            Err(RpcMsgError::OVERFLOW)
        );
    }

    #[test]
    fn fixed_length_messages() {
        let ack = encode_simple_ack(-5, 0x8000_0001);
        assert_eq!(
            decode_simple_ack(&ack),
            Ok(SimpleAck {
                ext_conn_id: -5,
                confirm: 0x8000_0001
            })
        );
        assert_eq!(decode_simple_ack(&ack[..15]), Err(RpcMsgError::LENGTH));
        assert_eq!(decode_close_ext(&encode_close_ext(9)), Ok(9));
        assert_eq!(
            decode_close_conn(&encode_close_ext(9)),
            Err(RpcMsgError::WRONG_OP)
        );
        assert_eq!(decode_close_conn(&[1, 2, 3]), Err(RpcMsgError::SHORT));
        assert_eq!(message_kind(&encode_close_conn(1)), Ok(KIND_CLOSE_CONN));
    }
}
