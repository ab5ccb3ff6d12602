//! Contract of the rpc-handshake module: the nonce + handshake exchange
//! between the proxy (client) and a middle-end (server), docs/PROTOCOL.md
//! §4.3–§4.7, on frame payloads (rpc-frame carries them). Process ids are
//! passed in their 12-byte wire form (see the pid module); key_select is the
//! first 4 bytes of the proxy secret read little-endian.
//!
//! Error codes −3, −4, −7 and −8 are the codes a HANDSHAKE_ERROR carries.
use crate::raw;
// `NonceInfo` and `KeyInputs` are the contract's `mtp_rpc_nonce_info` and
// `mtp_rpc_key_inputs` (the core's repr(C) types; the header names them so).
use mtproxy_core::net::rpc_handshake::{
    self as hs, Handshake, HandshakeConfig, KeyInputs, NonceInfo,
};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::rpc_handshake::*;

/// Runs one step on `*hs` and writes the state back; `_ARG` for NULL or an
/// invalid state.
///
/// # Safety
/// `hs` is NULL or points to a writable `mtp_rpc_hs`.
unsafe fn step(hs: *mut mtp_rpc_hs, op: impl FnOnce(&mut Handshake) -> Result<(), i32>) -> i32 {
    // SAFETY: NULL or valid and exclusive by the caller's contract.
    let Some(c) = (unsafe { hs.as_mut() }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    let Ok(mut h) = Handshake::try_from(&*c) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    let result = op(&mut h);
    *c = (&h).into();
    result.map_or_else(|e| e, |()| 0)
}

/// A `(ptr, len)` pair that promises bytes but has no pointer.
fn missing(ptr: *const u8, len: usize) -> bool {
    ptr.is_null() && len != 0
}

/// Writes `value` to a non-NULL `out`; `_ARG` for NULL.
fn put<T>(out: Option<&mut T>, value: T) -> i32 {
    out.map_or(MTP_RPC_HS_ERR_ARG, |out| {
        *out = value;
        0
    })
}

/// Builds a nonce payload into `out` (room for 36 bytes): schema AES gives
/// 32 bytes, AES_EXT 36 (no extra key ids), any other `_BAD_SCHEMA`.
/// `*out_len` gets the length.
///
/// # Safety
/// `nonce` is NULL or 16 readable bytes; `out` NULL or 36 writable bytes;
/// `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_nonce_build(
    key_select: u32,
    schema: i32,
    timestamp: i32,
    nonce: *const u8,
    out: *mut u8,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (nonce, out, out_len) = unsafe {
        (
            raw::array::<16>(nonce),
            raw::array_mut::<36>(out),
            out_len.as_mut(),
        )
    };
    let (Some(nonce), Some(out), Some(out_len)) = (nonce, out, out_len) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    hs::build_nonce(key_select, schema, timestamp, nonce).map_or_else(
        |e| e,
        |payload| {
            out[..payload.len()].copy_from_slice(&payload);
            put(Some(out_len), payload.len())
        },
    )
}

/// Parses and checks a peer's nonce payload against our `key_select` and
/// clock `now` (unix seconds), in this order: op (`_BAD_OP`), length
/// (`_BAD_LENGTH`), schema (`_BAD_SCHEMA`, `_TOO_MANY_KEYS`), key
/// (`_KEY_MISMATCH`), clock (`_CLOCK_SKEW`).
///
/// # Safety
/// `payload` points to `len` readable bytes (NULL if 0); `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_nonce_parse(
    payload: *const u8,
    len: usize,
    key_select: u32,
    now: i64,
    out: *mut NonceInfo,
) -> i32 {
    // SAFETY: NULL or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !missing(payload, len)) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: `payload` points to `len` bytes by the caller's contract.
    let result = hs::parse_nonce(unsafe { raw::bytes(payload, len) }, key_select, now);
    result.map_or_else(|e| e, |i| put(Some(out), i))
}

/// Builds a 32-byte handshake payload into `out`.
///
/// # Safety
/// `sender_pid` and `peer_pid` are NULL or 12 readable bytes; `out` NULL or
/// 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_handshake_build(
    flags: u32,
    sender_pid: *const u8,
    peer_pid: *const u8,
    out: *mut u8,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    match unsafe {
        (
            raw::array::<12>(sender_pid),
            raw::array::<12>(peer_pid),
            raw::array_mut::<32>(out),
        )
    } {
        (Some(sender), Some(peer), out) => put(out, hs::build_handshake(flags, sender, peer)),
        _ => MTP_RPC_HS_ERR_ARG,
    }
}

/// Parses and checks a peer's handshake payload, in this order: op
/// (`_BAD_OP`), exactly 32 bytes (`_BAD_LENGTH`), low 8 flag bits zero
/// (`_BAD_FLAGS`), peer pid matches `own_pid` with zero fields as wildcards
/// (`_PID_MISMATCH`), CRC-32C only if `crc32c_allowed` (`_NO_CRC32C`).
///
/// # Safety
/// `payload` points to `len` readable bytes (NULL if 0); `own_pid` is NULL
/// or 12 readable bytes; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_handshake_parse(
    payload: *const u8,
    len: usize,
    own_pid: *const u8,
    crc32c_allowed: i32,
    out: *mut mtp_rpc_handshake_info,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(own_pid), Some(out)) = (unsafe { (raw::array::<12>(own_pid), out.as_mut()) }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    if missing(payload, len) {
        return MTP_RPC_HS_ERR_ARG;
    }
    // SAFETY: `payload` points to `len` bytes by the caller's contract.
    let result = hs::parse_handshake(
        unsafe { raw::bytes(payload, len) },
        own_pid,
        crc32c_allowed != 0,
    );
    result.map_or_else(|e| e, |i| put(Some(out), i.into()))
}

/// Builds the 20-byte HANDSHAKE_ERROR payload (op, `code`, `sender_pid`).
///
/// # Safety
/// `sender_pid` is NULL or 12 readable bytes; `out` NULL or 20 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_handshake_error_build(
    code: i32,
    sender_pid: *const u8,
    out: *mut u8,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    match unsafe { (raw::array::<12>(sender_pid), raw::array_mut::<20>(out)) } {
        (Some(sender), out) => put(out, hs::build_handshake_error(code, sender)),
        _ => MTP_RPC_HS_ERR_ARG,
    }
}

/// Parses a HANDSHAKE_ERROR payload: op (`_BAD_OP`), exactly 20 bytes
/// (`_BAD_LENGTH`).
///
/// # Safety
/// `payload` points to `len` readable bytes (NULL if 0); `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_handshake_error_parse(
    payload: *const u8,
    len: usize,
    out: *mut mtp_rpc_handshake_error_info,
) -> i32 {
    // SAFETY: NULL or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !missing(payload, len)) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: `payload` points to `len` bytes by the caller's contract.
    let result = hs::parse_handshake_error(unsafe { raw::bytes(payload, len) });
    result.map_or_else(|e| e, |i| put(Some(out), i.into()))
}

/// Builds a 12-byte PING payload.
///
/// # Safety
/// `out` is NULL or 12 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_ping_build(ping_id: i64, out: *mut u8) -> i32 {
    // SAFETY: NULL or 12 writable bytes by the caller's contract.
    put(
        unsafe { raw::array_mut::<12>(out) },
        hs::build_ping(ping_id),
    )
}

/// Writes to `out` the PONG answering a PING payload: op (`_BAD_OP`),
/// exactly 12 bytes (`_BAD_LENGTH`).
///
/// # Safety
/// `payload` points to `len` readable bytes (NULL if 0); `out` is NULL or 12
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_pong_for_ping(
    payload: *const u8,
    len: usize,
    out: *mut u8,
) -> i32 {
    // SAFETY: NULL or 12 writable bytes by the caller's contract.
    let Some(out) = (unsafe { raw::array_mut::<12>(out) }).filter(|_| !missing(payload, len))
    else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: `payload` points to `len` bytes by the caller's contract.
    hs::pong_for_ping(unsafe { raw::bytes(payload, len) })
        .map_or_else(|e| e, |pong| put(Some(out), pong))
}

/// Starts an exchange in `*hs`: `now` (unix seconds, truncated to 32 bits)
/// and the 16 random bytes at `nonce` become our nonce. A client starts in
/// `_SEND_NONCE`, a server in `_WAIT_NONCE`. `_ARG` for NULL or a bad role.
///
/// # Safety
/// `hs` is NULL or writable; `config` NULL or valid; `nonce` NULL or 16
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_init(
    hs: *mut mtp_rpc_hs,
    config: *const mtp_rpc_hs_config,
    now: i64,
    nonce: *const u8,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(hs), Some(c), Some(nonce)) =
        (unsafe { (hs.as_mut(), config.as_ref(), raw::array::<16>(nonce)) })
    else {
        return MTP_RPC_HS_ERR_ARG;
    };
    let Ok(config) = HandshakeConfig::try_from(c) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    put(Some(hs), (&Handshake::new(&config, now, nonce)).into())
}

/// Writes our 32-byte nonce payload (seq −2, plaintext) to `out`. State
/// `_SEND_NONCE`; then client `_WAIT_NONCE`, server `_WAIT_HANDSHAKE`.
/// Errors: `_STATE` out of order (nothing changes), the sticky error after
/// a failure, `_ARG`.
///
/// # Safety
/// `hs` is NULL or a valid, writable state; `out` NULL or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_send_nonce(hs: *mut mtp_rpc_hs, out: *mut u8) -> i32 {
    // SAFETY: NULL or 32 writable bytes by the caller's contract.
    let Some(out) = (unsafe { raw::array_mut::<32>(out) }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    unsafe { step(hs, |h| h.send_nonce().map(|nonce| *out = nonce)) }
}

/// Takes the peer's nonce payload (seq −2) and checks it as
/// `mtp_rpc_nonce_parse` does. State `_WAIT_NONCE`; then client
/// `_SEND_HANDSHAKE`, server `_SEND_NONCE`; a failed check moves to
/// `_FAILED` and is returned from then on.
///
/// # Safety
/// `hs` is NULL or a valid, writable state; `payload` points to `len`
/// readable bytes (NULL if 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_receive_nonce(
    hs: *mut mtp_rpc_hs,
    payload: *const u8,
    len: usize,
    now: i64,
) -> i32 {
    if missing(payload, len) {
        return MTP_RPC_HS_ERR_ARG;
    }
    // SAFETY: `payload` points to `len` bytes; `hs` forwarded.
    unsafe { step(hs, |h| h.receive_nonce(raw::bytes(payload, len), now)) }
}

/// Writes our 32-byte handshake payload (seq −1, encrypted) to `out`. State
/// `_SEND_HANDSHAKE`; then client `_WAIT_HANDSHAKE`, server `_READY`. The
/// client sets flag 0x800 if it wants CRC-32C, the server if both do.
///
/// # Safety
/// `hs` is NULL or a valid, writable state; `out` NULL or 32 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_send_handshake(hs: *mut mtp_rpc_hs, out: *mut u8) -> i32 {
    // SAFETY: NULL or 32 writable bytes by the caller's contract.
    let Some(out) = (unsafe { raw::array_mut::<32>(out) }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: forwarded caller contract.
    unsafe { step(hs, |h| h.send_handshake().map(|payload| *out = payload)) }
}

/// Takes the peer's handshake payload (seq −1), checked as
/// `mtp_rpc_handshake_parse` does against our pid (a client allows CRC-32C
/// only if it offered it). State `_WAIT_HANDSHAKE`; then client `_READY`,
/// server `_SEND_HANDSHAKE`; a failed check moves to `_FAILED`.
///
/// # Safety
/// `hs` is NULL or a valid, writable state; `payload` points to `len`
/// readable bytes (NULL if 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_receive_handshake(
    hs: *mut mtp_rpc_hs,
    payload: *const u8,
    len: usize,
) -> i32 {
    if missing(payload, len) {
        return MTP_RPC_HS_ERR_ARG;
    }
    // SAFETY: `payload` points to `len` bytes; `hs` forwarded.
    unsafe { step(hs, |h| h.receive_handshake(raw::bytes(payload, len))) }
}

/// Writes the 20-byte HANDSHAKE_ERROR to send after a failed handshake check
/// (codes −3, −4, −7, −8); `_STATE` if there is none to send.
///
/// # Safety
/// `hs` is NULL or valid; `out` NULL or 20 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_error_reply(hs: *const mtp_rpc_hs, out: *mut u8) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(h), Some(out)) = (unsafe {
        (
            hs.as_ref().and_then(|c| Handshake::try_from(c).ok()),
            raw::array_mut::<20>(out),
        )
    }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    h.error_reply()
        .map_or_else(|e| e, |reply| put(Some(out), reply))
}

/// Fills `*out` with the key derivation inputs once both nonces are known
/// (client from `_SEND_HANDSHAKE`, server from `_WAIT_HANDSHAKE`, until
/// `_READY`); `_STATE` before or after a failure.
///
/// # Safety
/// `hs` is NULL or valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_hs_key_inputs(hs: *const mtp_rpc_hs, out: *mut KeyInputs) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(h), Some(out)) = (unsafe {
        (
            hs.as_ref().and_then(|c| Handshake::try_from(c).ok()),
            out.as_mut(),
        )
    }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    h.key_inputs().map_or_else(|e| e, |i| put(Some(out), i))
}
