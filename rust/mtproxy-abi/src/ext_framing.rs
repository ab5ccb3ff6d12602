//! Plain data of the ext-framing contract (ffi/include/mtp_ext_framing.h):
//! modes, senders, limits, verdicts and error codes, the packet and verdict
//! records, with conversions to and from the core types.
use mtproxy_core::net::ext_framing::{self as framing, PacketInfo, Verdict};

/// Mode: abridged (tag 0xefefefef).
pub const MTP_EXT_FRAMING_ABRIDGED: i32 = framing::MODE_ABRIDGED;
/// Mode: intermediate (tag 0xeeeeeeee).
pub const MTP_EXT_FRAMING_INTERMEDIATE: i32 = framing::MODE_INTERMEDIATE;
/// Mode: padded intermediate (tag 0xdddddddd).
pub const MTP_EXT_FRAMING_PADDED: i32 = framing::MODE_PADDED;
/// Sender of a stream: the client.
pub const MTP_EXT_FRAMING_FROM_CLIENT: i32 = framing::FROM_CLIENT;
/// Sender of a stream: the proxy.
pub const MTP_EXT_FRAMING_FROM_PROXY: i32 = framing::FROM_PROXY;
/// Largest packet a client may send.
pub const MTP_EXT_FRAMING_MAX_PACKET_LEN: i32 = framing::MAX_PACKET_LEN as i32;
/// Largest packet the proxy sends (16 MiB): the data of any RPC_PROXY_ANS a
/// middle-end frame (at most `MTP_RPC_FRAME_MAX_LEN`) can carry, plus
/// padding.
pub const MTP_EXT_FRAMING_MAX_ANSWER_LEN: i32 = framing::MAX_ANSWER_LEN as i32;
/// Longest framing header.
pub const MTP_EXT_FRAMING_MAX_HEADER_LEN: i32 = framing::MAX_HEADER_LEN as i32;
/// Padding a client may add in padded mode, at most.
pub const MTP_EXT_FRAMING_MAX_CLIENT_PADDING: i32 = framing::MAX_CLIENT_PADDING as i32;
/// Padding the proxy adds in padded mode, at most.
pub const MTP_EXT_FRAMING_MAX_PROXY_PADDING: i32 = framing::MAX_PROXY_PADDING as i32;
/// Random bytes `mtp_ext_framing_quick_ack` needs in padded mode.
pub const MTP_EXT_FRAMING_QUICK_ACK_RANDOM_LEN: i32 = framing::QUICK_ACK_RANDOM_LEN as i32;
/// Longest quick-ack answer.
pub const MTP_EXT_FRAMING_MAX_QUICK_ACK_LEN: i32 = framing::MAX_QUICK_ACK_LEN as i32;

/// Verdict: forward to the middle-end.
pub const MTP_EXT_FRAMING_FORWARD: i32 = framing::FORWARD;
/// Verdict: RPC_PING; send the PONG back to the client, forward nothing.
pub const MTP_EXT_FRAMING_PING: i32 = framing::PING;
/// Verdict: drop silently (the connection stays open).
pub const MTP_EXT_FRAMING_DROP: i32 = framing::DROP;
/// Drop reason: shorter than 28 bytes.
pub const MTP_EXT_FRAMING_DROP_SHORT: i32 = framing::DROP_SHORT;
/// Drop reason: not a multiple of 4.
pub const MTP_EXT_FRAMING_DROP_UNALIGNED: i32 = framing::DROP_UNALIGNED;
/// Drop reason: encrypted (auth_key_id ≠ 0) and shorter than 56 bytes.
pub const MTP_EXT_FRAMING_DROP_ENCRYPTED_SHORT: i32 = framing::DROP_ENCRYPTED_SHORT;
/// Drop reason: unencrypted with a message length outside 20..=len-20.
pub const MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH: i32 = framing::DROP_BAD_MESSAGE_LENGTH;
/// Drop reason: unencrypted, not one of the four handshake functions.
pub const MTP_EXT_FRAMING_DROP_BAD_FUNCTION: i32 = framing::DROP_BAD_FUNCTION;

/// Unknown mode/sender/tag, misused padding or quick ack, short random, NULL.
pub const MTP_EXT_FRAMING_ERR_ARG: i32 = framing::ERR_ARG;
/// A packet of length 0.
pub const MTP_EXT_FRAMING_ERR_ZERO_LENGTH: i32 = framing::ERR_ZERO_LENGTH;
/// A packet longer than the sender's limit (1044480 bytes from a client,
/// 16777216 from the proxy).
pub const MTP_EXT_FRAMING_ERR_TOO_LONG: i32 = framing::ERR_TOO_LONG;
/// An abridged 3-byte length below 0x7f.
pub const MTP_EXT_FRAMING_ERR_OVERLONG: i32 = framing::ERR_OVERLONG;
/// A length that is not a multiple of 4 where the mode requires it.
pub const MTP_EXT_FRAMING_ERR_UNALIGNED: i32 = framing::ERR_UNALIGNED;
/// Output buffer too small (not sticky; nothing consumed).
pub const MTP_EXT_FRAMING_ERR_OUT_SPACE: i32 = framing::ERR_OUT_SPACE;

/// One result of `mtp_ext_framing_decoder_next`. `ready` 0: no whole frame
/// yet (the other fields are 0). Otherwise, from a client: `quick_ack` 1 if
/// requested; from the proxy: `quick_ack` 1 means a quick-ack answer carrying
/// `confirm` and no payload. `length` bytes were written (the length field
/// `wire_length`, cut to a multiple of 4 in padded mode).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mtp_ext_framing_packet {
    pub ready: i32,
    pub quick_ack: i32,
    pub confirm: u32,
    pub length: usize,
    pub wire_length: usize,
}

/// The forward filter's decision: `action` (FORWARD, PING, DROP), `reason`
/// (a DROP_* code, 0 unless dropped), `unencrypted` 1 for a forwarded packet
/// with auth_key_id 0, and for PING the 12-byte PONG payload to frame back.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mtp_ext_framing_verdict {
    pub action: i32,
    pub reason: i32,
    pub unencrypted: i32,
    pub pong: [u8; 12],
}

impl From<Option<PacketInfo>> for mtp_ext_framing_packet {
    fn from(info: Option<PacketInfo>) -> Self {
        let info = info.map(|p| {
            (
                1,
                i32::from(p.quick_ack),
                p.confirm,
                p.length,
                p.wire_length,
            )
        });
        let (ready, quick_ack, confirm, length, wire_length) = info.unwrap_or_default();
        mtp_ext_framing_packet {
            ready,
            quick_ack,
            confirm,
            length,
            wire_length,
        }
    }
}

impl From<Verdict> for mtp_ext_framing_verdict {
    fn from(v: Verdict) -> Self {
        let (action, reason, unencrypted, pong) = (v.action, v.reason, v.unencrypted, v.pong);
        mtp_ext_framing_verdict {
            action,
            reason,
            unencrypted: i32::from(unencrypted),
            pong,
        }
    }
}

/// A packet record back to the core's view: `None` when not `ready`.
impl From<mtp_ext_framing_packet> for Option<PacketInfo> {
    fn from(p: mtp_ext_framing_packet) -> Self {
        (p.ready != 0).then_some(PacketInfo {
            quick_ack: p.quick_ack != 0,
            confirm: p.confirm,
            length: p.length,
            wire_length: p.wire_length,
        })
    }
}

impl From<mtp_ext_framing_verdict> for Verdict {
    fn from(v: mtp_ext_framing_verdict) -> Self {
        Verdict {
            action: v.action,
            reason: v.reason,
            unencrypted: v.unencrypted != 0,
            pong: v.pong,
        }
    }
}
