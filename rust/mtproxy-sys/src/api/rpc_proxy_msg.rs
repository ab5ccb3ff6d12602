// Safe wrappers for the rpc-proxy-msg contract; same API as
// mtproxy_core::mtproto::rpc_proxy_msg (functions and types; the protocol
// constants live in the core module).

/// An error code, as in the core module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcMsgError(i32);

impl RpcMsgError {
    pub const SHORT: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_SHORT);
    pub const WRONG_OP: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_WRONG_OP);
    pub const LENGTH: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_LENGTH);
    pub const EXTRAS: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_EXTRAS);
    pub const UNSUPPORTED: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_UNSUPPORTED);
    pub const OVERFLOW: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_OVERFLOW);
    pub const ARG: RpcMsgError = RpcMsgError(ffi::MTP_RPC_MSG_ERR_ARG);

    pub const fn code(self) -> i32 {
        self.0
    }
}

fn rpc_result<T>(code: i32, value: T) -> Result<T, RpcMsgError> {
    if code == 0 {
        Ok(value)
    } else {
        Err(RpcMsgError(code))
    }
}

pub use mtproxy_core::mtproto::rpc_proxy_msg::{ProxyAns, ProxyReq, SimpleAck};

#[inline]
pub fn proxy_req_flags(
    transport: i32,
    quick_ack: bool,
    unencrypted: bool,
    has_ad_tag: bool,
    earlier_dropped: bool,
) -> Result<u32, RpcMsgError> {
    let mut flags = 0;
    // SAFETY: `flags` is a live output.
    let code = unsafe {
        ffi::mtp_rpc_msg_proxy_req_flags(
            transport,
            i32::from(quick_ack),
            i32::from(unencrypted),
            i32::from(has_ad_tag),
            i32::from(earlier_dropped),
            &mut flags,
        )
    };
    rpc_result(code, flags)
}

#[inline]
pub fn ipv4_mapped(ipv4: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `out` has 16 writable bytes; cannot fail with a live output.
    unsafe { ffi::mtp_rpc_msg_ipv4_mapped(ipv4, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn ext_conn_id_next(previous: i64, slot: u32) -> Result<i64, RpcMsgError> {
    let mut id = 0;
    // SAFETY: `id` is a live output.
    let code = unsafe { ffi::mtp_rpc_msg_ext_conn_id_next(previous, slot, &mut id) };
    rpc_result(code, id)
}

#[inline]
pub fn message_kind(msg: &[u8]) -> Result<i32, RpcMsgError> {
    let msg = input(msg);
    // SAFETY: a live slice.
    let kind = unsafe { ffi::mtp_rpc_msg_kind(msg.as_ptr(), msg.len()) };
    if kind < 0 {
        Err(RpcMsgError(kind))
    } else {
        Ok(kind)
    }
}

#[inline]
pub fn encode_proxy_req(
    req: &ProxyReq,
    packet: &[u8],
    out: &mut [u8],
) -> Result<usize, RpcMsgError> {
    let packet = input(packet);
    let mut written = 0;
    // SAFETY: live input, slices and output; `out` cannot alias `packet`.
    let code = unsafe {
        ffi::mtp_rpc_msg_proxy_req_encode(
            req,
            packet.as_ptr(),
            packet.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    };
    rpc_result(code, written)
}

#[inline]
pub fn decode_proxy_req(msg: &[u8]) -> Result<(ProxyReq, usize), RpcMsgError> {
    let msg = input(msg);
    let mut raw = ProxyReq::default();
    let mut offset = 0;
    // SAFETY: a live slice and outputs.
    let code = unsafe {
        ffi::mtp_rpc_msg_proxy_req_decode(msg.as_ptr(), msg.len(), &mut raw, &mut offset)
    };
    rpc_result(code, (raw, offset))
}

#[inline]
pub fn encode_proxy_ans(
    flags: i32,
    ext_conn_id: i64,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, RpcMsgError> {
    let data = input(data);
    let mut written = 0;
    // SAFETY: live slices and output; `out` cannot alias `data`.
    let code = unsafe {
        ffi::mtp_rpc_msg_proxy_ans_encode(
            flags,
            ext_conn_id,
            data.as_ptr(),
            data.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    };
    rpc_result(code, written)
}

#[inline]
pub fn decode_proxy_ans(msg: &[u8]) -> Result<ProxyAns, RpcMsgError> {
    let msg = input(msg);
    let mut raw = ProxyAns::default();
    // SAFETY: a live slice and output.
    let code = unsafe { ffi::mtp_rpc_msg_proxy_ans_decode(msg.as_ptr(), msg.len(), &mut raw) };
    rpc_result(code, raw)
}

#[inline]
pub fn encode_simple_ack(ext_conn_id: i64, confirm: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `out` has 16 writable bytes; cannot fail with a live output.
    unsafe { ffi::mtp_rpc_msg_simple_ack_encode(ext_conn_id, confirm, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn decode_simple_ack(msg: &[u8]) -> Result<SimpleAck, RpcMsgError> {
    let msg = input(msg);
    let mut raw = SimpleAck::default();
    // SAFETY: a live slice and output.
    let code = unsafe { ffi::mtp_rpc_msg_simple_ack_decode(msg.as_ptr(), msg.len(), &mut raw) };
    rpc_result(code, raw)
}

#[inline]
pub fn encode_close_ext(ext_conn_id: i64) -> [u8; 12] {
    let mut out = [0u8; 12];
    // SAFETY: `out` has 12 writable bytes; cannot fail with a live output.
    unsafe { ffi::mtp_rpc_msg_close_ext_encode(ext_conn_id, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn decode_close_ext(msg: &[u8]) -> Result<i64, RpcMsgError> {
    let msg = input(msg);
    let mut id = 0;
    // SAFETY: a live slice and output.
    let code = unsafe { ffi::mtp_rpc_msg_close_ext_decode(msg.as_ptr(), msg.len(), &mut id) };
    rpc_result(code, id)
}

#[inline]
pub fn encode_close_conn(ext_conn_id: i64) -> [u8; 12] {
    let mut out = [0u8; 12];
    // SAFETY: `out` has 12 writable bytes; cannot fail with a live output.
    unsafe { ffi::mtp_rpc_msg_close_conn_encode(ext_conn_id, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn decode_close_conn(msg: &[u8]) -> Result<i64, RpcMsgError> {
    let msg = input(msg);
    let mut id = 0;
    // SAFETY: a live slice and output.
    let code = unsafe { ffi::mtp_rpc_msg_close_conn_decode(msg.as_ptr(), msg.len(), &mut id) };
    rpc_result(code, id)
}
