//! Contract of the rpc-handshake module: the nonce + handshake exchange
//! between the proxy (client) and a middle-end (server), docs/PROTOCOL.md
//! §4.3–§4.7, on frame payloads (rpc-frame carries them). Process ids are
//! passed in their 12-byte wire form (see the pid module); key_select is the
//! first 4 bytes of the proxy secret read little-endian.
//!
//! Error codes −3, −4, −7 and −8 are the codes a HANDSHAKE_ERROR carries.
use crate::raw;
use mtproxy_core::net::rpc_handshake::{
    self as hs, Handshake, HandshakeConfig, HandshakeErrorInfo, HandshakeInfo, KeyInputs,
    NonceInfo, Role, State,
};

/// A NULL pointer where one is required, or an invalid role/state code.
pub const MTP_RPC_HS_ERR_ARG: i32 = -1;
/// The payload is a different message than expected.
pub const MTP_RPC_HS_ERR_BAD_OP: i32 = -2;
/// Wrong payload length.
pub const MTP_RPC_HS_ERR_BAD_LENGTH: i32 = -3;
/// The peer pid of a handshake does not fit our own pid.
pub const MTP_RPC_HS_ERR_PID_MISMATCH: i32 = -4;
/// The nonce names none of our keys.
pub const MTP_RPC_HS_ERR_KEY_MISMATCH: i32 = -5;
/// Crypto schema NONE, DH or unknown.
pub const MTP_RPC_HS_ERR_BAD_SCHEMA: i32 = -6;
/// Handshake flags with low 8 bits set.
pub const MTP_RPC_HS_ERR_BAD_FLAGS: i32 = -7;
/// CRC-32C requested by the peer but not offered by us.
pub const MTP_RPC_HS_ERR_NO_CRC32C: i32 = -8;
/// Nonce timestamp more than 30 s away from `now`.
pub const MTP_RPC_HS_ERR_CLOCK_SKEW: i32 = -9;
/// AES_EXT nonce with a negative or > 8 extra key count.
pub const MTP_RPC_HS_ERR_TOO_MANY_KEYS: i32 = -10;
/// A state machine step called out of order.
pub const MTP_RPC_HS_ERR_STATE: i32 = -11;

/// Operation codes (as int32: PONG is 0x8430eaa7).
pub const MTP_RPC_OP_NONCE: i32 = 0x7acb_87aa;
pub const MTP_RPC_OP_HANDSHAKE: i32 = 0x7682_eef5;
pub const MTP_RPC_OP_HANDSHAKE_ERROR: i32 = 0x6a27_beda;
pub const MTP_RPC_OP_PING: i32 = 0x5730_a2df;
pub const MTP_RPC_OP_PONG: i32 = -0x7bcf_1559;
/// Crypto schemas.
pub const MTP_RPC_SCHEMA_NONE: i32 = 0;
pub const MTP_RPC_SCHEMA_AES: i32 = 1;
pub const MTP_RPC_SCHEMA_AES_EXT: i32 = 2;
pub const MTP_RPC_SCHEMA_AES_DH: i32 = 3;
/// Handshake flag: CRC-32C for all later packets.
pub const MTP_RPC_HS_FLAG_CRC32C: i32 = 0x800;
/// Roles.
pub const MTP_RPC_HS_CLIENT: i32 = 0;
pub const MTP_RPC_HS_SERVER: i32 = 1;
/// States: the next step the caller takes.
pub const MTP_RPC_HS_SEND_NONCE: i32 = 0;
pub const MTP_RPC_HS_WAIT_NONCE: i32 = 1;
pub const MTP_RPC_HS_SEND_HANDSHAKE: i32 = 2;
pub const MTP_RPC_HS_WAIT_HANDSHAKE: i32 = 3;
pub const MTP_RPC_HS_READY: i32 = 4;
pub const MTP_RPC_HS_FAILED: i32 = 5;
/// Payload sizes.
pub const MTP_RPC_NONCE_LEN: i32 = 32;
pub const MTP_RPC_NONCE_EXT_LEN: i32 = 36;
pub const MTP_RPC_HANDSHAKE_LEN: i32 = 32;
pub const MTP_RPC_HANDSHAKE_ERROR_LEN: i32 = 20;
pub const MTP_RPC_PING_LEN: i32 = 12;

const _: () = {
    assert!(MTP_RPC_HS_ERR_BAD_OP == hs::ERR_BAD_OP);
    assert!(MTP_RPC_HS_ERR_BAD_LENGTH == hs::ERR_BAD_LENGTH);
    assert!(MTP_RPC_HS_ERR_PID_MISMATCH == hs::ERR_PID_MISMATCH);
    assert!(MTP_RPC_HS_ERR_KEY_MISMATCH == hs::ERR_KEY_MISMATCH);
    assert!(MTP_RPC_HS_ERR_BAD_SCHEMA == hs::ERR_BAD_SCHEMA);
    assert!(MTP_RPC_HS_ERR_BAD_FLAGS == hs::ERR_BAD_FLAGS);
    assert!(MTP_RPC_HS_ERR_NO_CRC32C == hs::ERR_NO_CRC32C);
    assert!(MTP_RPC_HS_ERR_CLOCK_SKEW == hs::ERR_CLOCK_SKEW);
    assert!(MTP_RPC_HS_ERR_TOO_MANY_KEYS == hs::ERR_TOO_MANY_KEYS);
    assert!(MTP_RPC_HS_ERR_STATE == hs::ERR_STATE);
    assert!(MTP_RPC_OP_NONCE as u32 == hs::RPC_NONCE);
    assert!(MTP_RPC_OP_HANDSHAKE as u32 == hs::RPC_HANDSHAKE);
    assert!(MTP_RPC_OP_HANDSHAKE_ERROR as u32 == hs::RPC_HANDSHAKE_ERROR);
    assert!(MTP_RPC_OP_PING as u32 == hs::RPC_PING);
    assert!(MTP_RPC_OP_PONG as u32 == hs::RPC_PONG);
    assert!(MTP_RPC_SCHEMA_AES_DH == hs::SCHEMA_AES_DH);
    assert!(MTP_RPC_HS_FLAG_CRC32C as u32 == hs::FLAG_CRC32C);
    assert!(MTP_RPC_HS_SERVER == Role::Server.code());
    assert!(MTP_RPC_HS_FAILED == State::Failed.code());
    assert!(MTP_RPC_NONCE_EXT_LEN as usize == hs::NONCE_EXT_LEN);
    assert!(MTP_RPC_HANDSHAKE_ERROR_LEN as usize == hs::HANDSHAKE_ERROR_LEN);
    assert!(MTP_RPC_PING_LEN as usize == hs::PING_LEN);
};

/// A nonce message: the peer's key_select, schema, timestamp and nonce.
#[repr(C)]
pub struct mtp_rpc_nonce_info {
    pub key_select: u32,
    pub schema: i32,
    pub timestamp: i32,
    pub nonce: [u8; 16],
}

/// A handshake message; `use_crc32c` is 1 if flag 0x800 is set.
#[repr(C)]
pub struct mtp_rpc_handshake_info {
    pub flags: u32,
    pub use_crc32c: i32,
    pub sender_pid: [u8; 12],
    pub peer_pid: [u8; 12],
}

/// A HANDSHAKE_ERROR message.
#[repr(C)]
pub struct mtp_rpc_handshake_error_info {
    pub code: i32,
    pub sender_pid: [u8; 12],
}

/// How one end runs the exchange: `role` (`MTP_RPC_HS_CLIENT` = the proxy,
/// `_SERVER` = a middle-end), our key_select, whether we offer (client) or
/// accept (server) CRC-32C, our pid, and the pid we send as the peer's (the
/// proxy: {ME ip or 0 for 127.0.0.1, ME port, 0, 0}; a middle-end: zeros).
#[repr(C)]
pub struct mtp_rpc_hs_config {
    pub role: i32,
    pub key_select: u32,
    pub want_crc32c: i32,
    pub our_pid: [u8; 12],
    pub peer_pid: [u8; 12],
}

/// One end's exchange, in plain data (copyable, comparable). `state` is the
/// next step to take; `error` is nonzero exactly in state `_FAILED`;
/// `use_crc32c` is the negotiated CRC kind for all later packets.
#[repr(C)]
pub struct mtp_rpc_hs {
    pub role: i32,
    pub state: i32,
    pub error: i32,
    pub key_select: u32,
    pub want_crc32c: i32,
    pub use_crc32c: i32,
    pub our_ts: i32,
    pub peer_ts: i32,
    pub our_nonce: [u8; 16],
    pub peer_nonce: [u8; 16],
    pub our_pid: [u8; 12],
    pub peer_pid: [u8; 12],
    pub peer_sender_pid: [u8; 12],
}

/// What key derivation (§4.4) takes from the exchange: the middle-end's
/// (server) nonce, the proxy's (client) nonce and the proxy's timestamp.
#[repr(C)]
pub struct mtp_rpc_key_inputs {
    pub server_nonce: [u8; 16],
    pub client_nonce: [u8; 16],
    pub client_ts: i32,
}

impl From<&Handshake> for mtp_rpc_hs {
    fn from(h: &Handshake) -> Self {
        mtp_rpc_hs {
            role: h.role.code(),
            state: h.state.code(),
            error: h.error,
            key_select: h.key_select,
            want_crc32c: h.want_crc32c.into(),
            use_crc32c: h.use_crc32c.into(),
            our_ts: h.our_ts,
            peer_ts: h.peer_ts,
            our_nonce: h.our_nonce,
            peer_nonce: h.peer_nonce,
            our_pid: h.our_pid,
            peer_pid: h.peer_pid,
            peer_sender_pid: h.peer_sender_pid,
        }
    }
}

/// The core state a C struct describes; `None` for invalid codes or an
/// error field that disagrees with the state.
fn load(c: &mtp_rpc_hs) -> Option<Handshake> {
    let (role, state) = (Role::from_code(c.role)?, State::from_code(c.state)?);
    if (state == State::Failed) != (c.error != 0) {
        return None;
    }
    Some(Handshake {
        role,
        state,
        error: c.error,
        key_select: c.key_select,
        want_crc32c: c.want_crc32c != 0,
        use_crc32c: c.use_crc32c != 0,
        our_ts: c.our_ts,
        peer_ts: c.peer_ts,
        our_nonce: c.our_nonce,
        peer_nonce: c.peer_nonce,
        our_pid: c.our_pid,
        peer_pid: c.peer_pid,
        peer_sender_pid: c.peer_sender_pid,
    })
}

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
    let Some(mut h) = load(c) else {
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
    out: *mut mtp_rpc_nonce_info,
) -> i32 {
    // SAFETY: NULL or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }).filter(|_| !missing(payload, len)) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    // SAFETY: `payload` points to `len` bytes by the caller's contract.
    let result = hs::parse_nonce(unsafe { raw::bytes(payload, len) }, key_select, now);
    result.map_or_else(
        |e| e,
        |i: NonceInfo| {
            put(
                Some(out),
                mtp_rpc_nonce_info {
                    key_select: i.key_select,
                    schema: i.schema,
                    timestamp: i.timestamp,
                    nonce: i.nonce,
                },
            )
        },
    )
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
    result.map_or_else(
        |e| e,
        |i: HandshakeInfo| {
            put(
                Some(out),
                mtp_rpc_handshake_info {
                    flags: i.flags,
                    use_crc32c: i.use_crc32c.into(),
                    sender_pid: i.sender_pid,
                    peer_pid: i.peer_pid,
                },
            )
        },
    )
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
    result.map_or_else(
        |e| e,
        |i: HandshakeErrorInfo| {
            put(
                Some(out),
                mtp_rpc_handshake_error_info {
                    code: i.code,
                    sender_pid: i.sender_pid,
                },
            )
        },
    )
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
    let Some(role) = Role::from_code(c.role) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    let config = HandshakeConfig {
        role,
        key_select: c.key_select,
        want_crc32c: c.want_crc32c != 0,
        our_pid: c.our_pid,
        peer_pid: c.peer_pid,
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
    let (Some(h), Some(out)) = (unsafe { (hs.as_ref().and_then(load), raw::array_mut::<20>(out)) })
    else {
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
pub unsafe extern "C" fn mtp_rpc_hs_key_inputs(
    hs: *const mtp_rpc_hs,
    out: *mut mtp_rpc_key_inputs,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(h), Some(out)) = (unsafe { (hs.as_ref().and_then(load), out.as_mut()) }) else {
        return MTP_RPC_HS_ERR_ARG;
    };
    h.key_inputs().map_or_else(
        |e| e,
        |k: KeyInputs| {
            put(
                Some(out),
                mtp_rpc_key_inputs {
                    server_nonce: k.server_nonce,
                    client_nonce: k.client_nonce,
                    client_ts: k.client_ts,
                },
            )
        },
    )
}
