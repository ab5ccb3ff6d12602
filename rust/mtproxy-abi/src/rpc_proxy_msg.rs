//! Plain data of the rpc-proxy-msg contract (see the shim in mtproxy-ffi
//! for the functions): error codes, transports, message kinds, sizes and
//! the PROXY_REQ, PROXY_ANS and SIMPLE_ACK records, with their conversions
//! to the core types.
use mtproxy_core::mtproto::rpc_proxy_msg::{self as msg, RpcMsgError};

/// Fewer bytes than the message's fixed part (or no op code).
pub const MTP_RPC_MSG_ERR_SHORT: i32 = -1;
/// Not the op code the decoder expects.
pub const MTP_RPC_MSG_ERR_WRONG_OP: i32 = -2;
/// A length the message's rule forbids: PROXY_ANS below 16 bytes or not a
/// multiple of 4 (also its data on encode), SIMPLE_ACK not 16 bytes,
/// CLOSE_EXT / CLOSE_CONN not 12.
pub const MTP_RPC_MSG_ERR_LENGTH: i32 = -3;
/// PROXY_REQ extras that do not parse: `extra_size` negative or past the
/// end, a bad TL string, not exactly one TL_PROXY_TAG item with a 16-byte
/// tag.
pub const MTP_RPC_MSG_ERR_EXTRAS: i32 = -4;
/// PROXY_REQ flag 4 (HTTP query info extras), which this proxy never sends.
pub const MTP_RPC_MSG_ERR_UNSUPPORTED: i32 = -5;
/// The output buffer is too small (nothing written).
pub const MTP_RPC_MSG_ERR_OVERFLOW: i32 = -6;
/// A null pointer, an unknown transport, or a slot ≥ 2^22.
pub const MTP_RPC_MSG_ERR_ARG: i32 = -7;

/// Transports for `mtp_rpc_msg_proxy_req_flags`.
pub const MTP_RPC_MSG_TRANSPORT_ABRIDGED: i32 = msg::TRANSPORT_ABRIDGED;
pub const MTP_RPC_MSG_TRANSPORT_INTERMEDIATE: i32 = msg::TRANSPORT_INTERMEDIATE;
pub const MTP_RPC_MSG_TRANSPORT_PADDED: i32 = msg::TRANSPORT_PADDED;

/// Kinds returned by `mtp_rpc_msg_kind`.
pub const MTP_RPC_MSG_KIND_OTHER: i32 = msg::KIND_OTHER;
pub const MTP_RPC_MSG_KIND_PROXY_REQ: i32 = msg::KIND_PROXY_REQ;
pub const MTP_RPC_MSG_KIND_PROXY_ANS: i32 = msg::KIND_PROXY_ANS;
pub const MTP_RPC_MSG_KIND_SIMPLE_ACK: i32 = msg::KIND_SIMPLE_ACK;
pub const MTP_RPC_MSG_KIND_CLOSE_EXT: i32 = msg::KIND_CLOSE_EXT;
pub const MTP_RPC_MSG_KIND_CLOSE_CONN: i32 = msg::KIND_CLOSE_CONN;
pub const MTP_RPC_MSG_KIND_PING: i32 = msg::KIND_PING;
pub const MTP_RPC_MSG_KIND_PONG: i32 = msg::KIND_PONG;

/// PROXY_REQ bytes before the packet: 56 without extras, 84 with the ad tag.
pub const MTP_RPC_MSG_PROXY_REQ_MAX_HEADER_LEN: i32 = msg::PROXY_REQ_MAX_HEADER_LEN as i32;
/// PROXY_ANS bytes before the data.
pub const MTP_RPC_MSG_PROXY_ANS_HEADER_LEN: i32 = msg::PROXY_ANS_HEADER_LEN as i32;
/// Size of a SIMPLE_ACK message.
pub const MTP_RPC_MSG_SIMPLE_ACK_LEN: i32 = msg::SIMPLE_ACK_LEN as i32;
/// Size of a CLOSE_EXT or CLOSE_CONN message.
pub const MTP_RPC_MSG_CLOSE_LEN: i32 = msg::CLOSE_LEN as i32;

/// Values the core gives as enum codes: the C values must equal them.
const _: () = {
    assert!(MTP_RPC_MSG_ERR_SHORT == RpcMsgError::SHORT.code());
    assert!(MTP_RPC_MSG_ERR_WRONG_OP == RpcMsgError::WRONG_OP.code());
    assert!(MTP_RPC_MSG_ERR_LENGTH == RpcMsgError::LENGTH.code());
    assert!(MTP_RPC_MSG_ERR_EXTRAS == RpcMsgError::EXTRAS.code());
    assert!(MTP_RPC_MSG_ERR_UNSUPPORTED == RpcMsgError::UNSUPPORTED.code());
    assert!(MTP_RPC_MSG_ERR_OVERFLOW == RpcMsgError::OVERFLOW.code());
    assert!(MTP_RPC_MSG_ERR_ARG == RpcMsgError::ARG.code());
};

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_rpc_msg_proxy_req` from it.
pub use mtproxy_core::mtproto::rpc_proxy_msg::ProxyReq as mtp_rpc_msg_proxy_req;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_rpc_msg_proxy_ans` from it.
pub use mtproxy_core::mtproto::rpc_proxy_msg::ProxyAns as mtp_rpc_msg_proxy_ans;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_rpc_msg_simple_ack` from it.
pub use mtproxy_core::mtproto::rpc_proxy_msg::SimpleAck as mtp_rpc_msg_simple_ack;
