//! Contract of the rpc-proxy-msg module: the TL messages between the proxy
//! and a middle-end (RPC_PROXY_REQ, RPC_PROXY_ANS, RPC_SIMPLE_ACK,
//! RPC_CLOSE_EXT, RPC_CLOSE_CONN), both directions, as whole frame payloads
//! starting with the op code. All integers little-endian.
//!
//! Every function checks its pointers first (`MTP_RPC_MSG_ERR_ARG`), then
//! the op code, then lengths, and writes its outputs only on success.
use crate::raw;
// `ProxyAns` and `SimpleAck` are the contract's `mtp_rpc_msg_proxy_ans` and
// `mtp_rpc_msg_simple_ack` (the core's repr(C) types; the header names them so).
use mtproxy_core::mtproto::rpc_proxy_msg::{
    self as msg, ProxyAns, ProxyReq, RpcMsgError, SimpleAck,
};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::rpc_proxy_msg::*;

fn code_of(result: Result<(), RpcMsgError>) -> i32 {
    result.map_or_else(RpcMsgError::code, |()| 0)
}

/// A `(ptr, len)` input as a slice; `None` for null with `len > 0`.
///
/// # Safety
/// A non-null `ptr` points to `len` readable bytes valid for `'a`.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    // SAFETY: forwarded caller contract.
    (!ptr.is_null() || len == 0).then(|| unsafe { raw::bytes(ptr, len) })
}

/// Writes `value` to `out` if `out` is non-null and `value` is Ok.
///
/// # Safety
/// `out` is null or writable.
unsafe fn deliver<T>(out: *mut T, value: Result<T, RpcMsgError>) -> i32 {
    if out.is_null() {
        return MTP_RPC_MSG_ERR_ARG;
    }
    // SAFETY: non-null, so writable by the caller's contract.
    code_of(value.map(|v| unsafe { out.write(v) }))
}

/// The PROXY_REQ flag word for a packet from an obfuscated2 TCP client:
/// `transport` is a `MTP_RPC_MSG_TRANSPORT_*`, the others are booleans
/// (nonzero = yes). Abridged + unencrypted + tag gives 0x4002100a.
///
/// # Safety
/// `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_proxy_req_flags(
    transport: i32,
    quick_ack: i32,
    unencrypted: i32,
    has_ad_tag: i32,
    earlier_dropped: i32,
    out: *mut u32,
) -> i32 {
    let flags = msg::proxy_req_flags(
        transport,
        quick_ack != 0,
        unencrypted != 0,
        has_ad_tag != 0,
        earlier_dropped != 0,
    );
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, flags) }
}

/// A host-order IPv4 address (127.0.0.1 = 0x7f000001) as the 16-byte
/// IPv4-mapped form `00×10 ff ff a b c d`.
///
/// # Safety
/// `out` is null or has 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_ipv4_mapped(ipv4: u32, out: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out.cast::<[u8; 16]>(), Ok(msg::ipv4_mapped(ipv4))) }
}

/// The ext_conn_id for a new client in table slot `slot` (< 2^22) whose
/// previous id was `previous` (0 if never used): `(counter + 1) << 22 | slot`,
/// the counter wrapping from 2^41 − 1 to 1.
///
/// # Safety
/// `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_ext_conn_id_next(
    previous: i64,
    slot: u32,
    out: *mut i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, msg::ext_conn_id_next(previous, slot)) }
}

/// The `MTP_RPC_MSG_KIND_*` of a message by its op code, or
/// `MTP_RPC_MSG_ERR_SHORT` below 4 bytes, `MTP_RPC_MSG_ERR_ARG` for null.
/// Lengths are not checked.
///
/// # Safety
/// `data` points to `len` readable bytes (null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_kind(data: *const u8, len: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    match unsafe { input(data, len) } {
        Some(m) => msg::message_kind(m).unwrap_or_else(RpcMsgError::code),
        None => MTP_RPC_MSG_ERR_ARG,
    }
}

/// Writes an RPC_PROXY_REQ with `packet` into `out` and its length to
/// `*written`. Extras (`extra_size` 24 + the ad tag) only when `flags & 8`;
/// `MTP_RPC_MSG_ERR_UNSUPPORTED` when `flags & 4`; `MTP_RPC_MSG_ERR_OVERFLOW`
/// when `cap` is too small.
///
/// # Safety
/// `req` and `written` null or valid; `packet` has `packet_len` readable
/// bytes and `out` `cap` writable ones, not overlapping (null if 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_proxy_req_encode(
    req: *const ProxyReq,
    packet: *const u8,
    packet_len: usize,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: null or valid by the caller's contract.
    let (Some(req), Some(packet)) = (unsafe { req.as_ref() }, unsafe {
        input(packet, packet_len)
    }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    if (out.is_null() && cap > 0) || written.is_null() {
        return MTP_RPC_MSG_ERR_ARG;
    }
    // SAFETY: `out` has `cap` writable bytes by the caller's contract.
    let out = unsafe { raw::bytes_mut(out, cap) };
    // SAFETY: forwarded caller contract.
    unsafe { deliver(written, msg::encode_proxy_req(req, packet, out)) }
}

/// Reads an RPC_PROXY_REQ into `*out`; the client's packet is
/// `data[*packet_offset .. len)`.
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); outputs null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_proxy_req_decode(
    data: *const u8,
    len: usize,
    out: *mut ProxyReq,
    packet_offset: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(m) = (unsafe { input(data, len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    if out.is_null() || packet_offset.is_null() {
        return MTP_RPC_MSG_ERR_ARG;
    }
    let (req, offset) = match msg::decode_proxy_req(m) {
        Ok(found) => found,
        Err(e) => return e.code(),
    };
    // SAFETY: both non-null, so writable by the caller's contract.
    unsafe { (out.write(req), packet_offset.write(offset)) };
    0
}

/// Writes an RPC_PROXY_ANS (`data_len` a multiple of 4, else
/// `MTP_RPC_MSG_ERR_LENGTH`) into `out` and its length to `*written`.
///
/// # Safety
/// `data` has `data_len` readable bytes and `out` `cap` writable ones, not
/// overlapping (null if 0); `written` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_proxy_ans_encode(
    flags: i32,
    ext_conn_id: i64,
    data: *const u8,
    data_len: usize,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(data) = (unsafe { input(data, data_len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    if (out.is_null() && cap > 0) || written.is_null() {
        return MTP_RPC_MSG_ERR_ARG;
    }
    // SAFETY: `out` has `cap` writable bytes by the caller's contract.
    let out = unsafe { raw::bytes_mut(out, cap) };
    let result = msg::encode_proxy_ans(flags, ext_conn_id, data, out);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(written, result) }
}

/// Reads an RPC_PROXY_ANS (at least 16 bytes, a multiple of 4).
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_proxy_ans_decode(
    data: *const u8,
    len: usize,
    out: *mut ProxyAns,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(m) = (unsafe { input(data, len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    let ans = msg::decode_proxy_ans(m);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, ans) }
}

/// Writes the 16-byte RPC_SIMPLE_ACK.
///
/// # Safety
/// `out` null or 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_simple_ack_encode(
    ext_conn_id: i64,
    confirm: u32,
    out: *mut u8,
) -> i32 {
    let ack = msg::encode_simple_ack(ext_conn_id, confirm);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out.cast::<[u8; 16]>(), Ok(ack)) }
}

/// Reads an RPC_SIMPLE_ACK (exactly 16 bytes).
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_simple_ack_decode(
    data: *const u8,
    len: usize,
    out: *mut SimpleAck,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(m) = (unsafe { input(data, len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    let ack = msg::decode_simple_ack(m);
    // SAFETY: forwarded caller contract.
    unsafe { deliver(out, ack) }
}

/// Writes the 12-byte RPC_CLOSE_EXT (ME → proxy).
///
/// # Safety
/// `out` null or 12 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_close_ext_encode(ext_conn_id: i64, out: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        deliver(
            out.cast::<[u8; 12]>(),
            Ok(msg::encode_close_ext(ext_conn_id)),
        )
    }
}

/// Reads an RPC_CLOSE_EXT (exactly 12 bytes) into `*ext_conn_id`.
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); `ext_conn_id` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_close_ext_decode(
    data: *const u8,
    len: usize,
    ext_conn_id: *mut i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(m) = (unsafe { input(data, len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    unsafe { deliver(ext_conn_id, msg::decode_close_ext(m)) }
}

/// Writes the 12-byte RPC_CLOSE_CONN (proxy → ME).
///
/// # Safety
/// `out` null or 12 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_close_conn_encode(ext_conn_id: i64, out: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        deliver(
            out.cast::<[u8; 12]>(),
            Ok(msg::encode_close_conn(ext_conn_id)),
        )
    }
}

/// Reads an RPC_CLOSE_CONN (exactly 12 bytes) into `*ext_conn_id`.
///
/// # Safety
/// `data` points to `len` readable bytes (null if 0); `ext_conn_id` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_msg_close_conn_decode(
    data: *const u8,
    len: usize,
    ext_conn_id: *mut i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(m) = (unsafe { input(data, len) }) else {
        return MTP_RPC_MSG_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    unsafe { deliver(ext_conn_id, msg::decode_close_conn(m)) }
}
