//! Plain data of the rpc-handshake contract (see the shim in
//! mtproxy-ffi for the functions): codes, sizes and the message and state
//! structs, with their conversions to the core types.
use mtproxy_core::net::rpc_handshake::{
    self as hs, Handshake, HandshakeConfig, HandshakeErrorInfo, HandshakeInfo, Role, State,
};

/// A NULL pointer where one is required, or an invalid role/state code.
pub const MTP_RPC_HS_ERR_ARG: i32 = -1;
/// The payload is a different message than expected.
pub const MTP_RPC_HS_ERR_BAD_OP: i32 = hs::ERR_BAD_OP;
/// Wrong payload length.
pub const MTP_RPC_HS_ERR_BAD_LENGTH: i32 = hs::ERR_BAD_LENGTH;
/// The peer pid of a handshake does not fit our own pid.
pub const MTP_RPC_HS_ERR_PID_MISMATCH: i32 = hs::ERR_PID_MISMATCH;
/// The nonce names none of our keys.
pub const MTP_RPC_HS_ERR_KEY_MISMATCH: i32 = hs::ERR_KEY_MISMATCH;
/// Crypto schema NONE, DH or unknown.
pub const MTP_RPC_HS_ERR_BAD_SCHEMA: i32 = hs::ERR_BAD_SCHEMA;
/// Handshake flags with low 8 bits set.
pub const MTP_RPC_HS_ERR_BAD_FLAGS: i32 = hs::ERR_BAD_FLAGS;
/// CRC-32C requested by the peer but not offered by us.
pub const MTP_RPC_HS_ERR_NO_CRC32C: i32 = hs::ERR_NO_CRC32C;
/// Nonce timestamp more than 30 s away from `now`.
pub const MTP_RPC_HS_ERR_CLOCK_SKEW: i32 = hs::ERR_CLOCK_SKEW;
/// AES_EXT nonce with a negative or > 8 extra key count.
pub const MTP_RPC_HS_ERR_TOO_MANY_KEYS: i32 = hs::ERR_TOO_MANY_KEYS;
/// A state machine step called out of order.
pub const MTP_RPC_HS_ERR_STATE: i32 = hs::ERR_STATE;

/// Operation codes (as int32: PONG is 0x8430eaa7).
pub const MTP_RPC_OP_NONCE: i32 = hs::RPC_NONCE as i32;
pub const MTP_RPC_OP_HANDSHAKE: i32 = hs::RPC_HANDSHAKE as i32;
pub const MTP_RPC_OP_HANDSHAKE_ERROR: i32 = hs::RPC_HANDSHAKE_ERROR as i32;
pub const MTP_RPC_OP_PING: i32 = hs::RPC_PING as i32;
pub const MTP_RPC_OP_PONG: i32 = -0x7bcf_1559;
/// Crypto schemas.
pub const MTP_RPC_SCHEMA_NONE: i32 = hs::SCHEMA_NONE;
pub const MTP_RPC_SCHEMA_AES: i32 = hs::SCHEMA_AES;
pub const MTP_RPC_SCHEMA_AES_EXT: i32 = hs::SCHEMA_AES_EXT;
pub const MTP_RPC_SCHEMA_AES_DH: i32 = hs::SCHEMA_AES_DH;
/// Handshake flag: CRC-32C for all later packets.
pub const MTP_RPC_HS_FLAG_CRC32C: i32 = hs::FLAG_CRC32C as i32;
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
pub const MTP_RPC_NONCE_LEN: i32 = hs::NONCE_LEN as i32;
pub const MTP_RPC_NONCE_EXT_LEN: i32 = hs::NONCE_EXT_LEN as i32;
pub const MTP_RPC_HANDSHAKE_LEN: i32 = hs::HANDSHAKE_LEN as i32;
pub const MTP_RPC_HANDSHAKE_ERROR_LEN: i32 = hs::HANDSHAKE_ERROR_LEN as i32;
pub const MTP_RPC_PING_LEN: i32 = hs::PING_LEN as i32;

/// Values the core spells differently (enum codes, a bit pattern): the C
/// values must equal them.
const _: () = {
    assert!(MTP_RPC_OP_PONG as u32 == hs::RPC_PONG);
    assert!(MTP_RPC_HS_SERVER == Role::Server.code());
    assert!(MTP_RPC_HS_FAILED == State::Failed.code());
};

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_rpc_nonce_info` from it.
pub use mtproxy_core::net::rpc_handshake::NonceInfo as mtp_rpc_nonce_info;

/// A handshake message; `use_crc32c` is 1 if flag 0x800 is set.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_rpc_handshake_info {
    pub flags: u32,
    pub use_crc32c: i32,
    pub sender_pid: [u8; 12],
    pub peer_pid: [u8; 12],
}

/// A HANDSHAKE_ERROR message.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_rpc_handshake_error_info {
    pub code: i32,
    pub sender_pid: [u8; 12],
}

/// How one end runs the exchange: `role` (`MTP_RPC_HS_CLIENT` = the proxy,
/// `_SERVER` = a middle-end), our key_select, whether we offer (client) or
/// accept (server) CRC-32C, our pid, and the pid we send as the peer's (the
/// proxy: {ME ip or 0 for 127.0.0.1, ME port, 0, 0}; a middle-end: zeros).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_rpc_key_inputs` from it.
pub use mtproxy_core::net::rpc_handshake::KeyInputs as mtp_rpc_key_inputs;

impl From<HandshakeInfo> for mtp_rpc_handshake_info {
    fn from(i: HandshakeInfo) -> Self {
        mtp_rpc_handshake_info {
            flags: i.flags,
            use_crc32c: i.use_crc32c.into(),
            sender_pid: i.sender_pid,
            peer_pid: i.peer_pid,
        }
    }
}

impl From<mtp_rpc_handshake_info> for HandshakeInfo {
    fn from(c: mtp_rpc_handshake_info) -> Self {
        HandshakeInfo {
            flags: c.flags,
            use_crc32c: c.use_crc32c != 0,
            sender_pid: c.sender_pid,
            peer_pid: c.peer_pid,
        }
    }
}

impl From<HandshakeErrorInfo> for mtp_rpc_handshake_error_info {
    fn from(i: HandshakeErrorInfo) -> Self {
        mtp_rpc_handshake_error_info {
            code: i.code,
            sender_pid: i.sender_pid,
        }
    }
}

impl From<mtp_rpc_handshake_error_info> for HandshakeErrorInfo {
    fn from(c: mtp_rpc_handshake_error_info) -> Self {
        HandshakeErrorInfo {
            code: c.code,
            sender_pid: c.sender_pid,
        }
    }
}

impl From<&HandshakeConfig> for mtp_rpc_hs_config {
    fn from(c: &HandshakeConfig) -> Self {
        mtp_rpc_hs_config {
            role: c.role.code(),
            key_select: c.key_select,
            want_crc32c: c.want_crc32c.into(),
            our_pid: c.our_pid,
            peer_pid: c.peer_pid,
        }
    }
}

/// `Err` for an invalid role code.
impl TryFrom<&mtp_rpc_hs_config> for HandshakeConfig {
    type Error = ();
    fn try_from(c: &mtp_rpc_hs_config) -> Result<Self, ()> {
        Ok(HandshakeConfig {
            role: Role::from_code(c.role).ok_or(())?,
            key_select: c.key_select,
            want_crc32c: c.want_crc32c != 0,
            our_pid: c.our_pid,
            peer_pid: c.peer_pid,
        })
    }
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

/// `Err` for invalid codes or an error field that disagrees with the state.
impl TryFrom<&mtp_rpc_hs> for Handshake {
    type Error = ();
    fn try_from(c: &mtp_rpc_hs) -> Result<Self, ()> {
        let role = Role::from_code(c.role).ok_or(())?;
        let state = State::from_code(c.state).ok_or(())?;
        if (state == State::Failed) != (c.error != 0) {
            return Err(());
        }
        Ok(Handshake {
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
}
