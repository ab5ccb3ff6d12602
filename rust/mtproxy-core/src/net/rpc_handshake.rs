//! The nonce and handshake exchange that opens every proxy ↔ middle-end
//! connection (docs/PROTOCOL.md §4.3–§4.7), on frame payloads (rpc-frame carries
//! them): builders and checking parsers for each message, and a state
//! machine per end. The proxy is the client, the middle-end the server:
//!
//! ```text
//! client: SendNonce → WaitNonce → SendHandshake → WaitHandshake → Ready
//! server: WaitNonce → SendNonce → WaitHandshake → SendHandshake → Ready
//! ```
//!
//! Time (unix seconds) and the 16-byte nonce are passed in. Once both nonces
//! are known ([`Handshake::key_inputs`]) the caller derives the AES keys
//! (§4.4) and encrypts everything it sends from the handshake on.
//!
//! Process ids travel in their 12-byte wire form (common::pid).
use crate::common::pid;

/// Operation codes of the messages handled here.
pub const RPC_NONCE: u32 = 0x7acb_87aa;
pub const RPC_HANDSHAKE: u32 = 0x7682_eef5;
pub const RPC_HANDSHAKE_ERROR: u32 = 0x6a27_beda;
pub const RPC_PING: u32 = 0x5730_a2df;
pub const RPC_PONG: u32 = 0x8430_eaa7;

/// Crypto schemas of the nonce message.
pub const SCHEMA_NONE: i32 = 0;
pub const SCHEMA_AES: i32 = 1;
pub const SCHEMA_AES_EXT: i32 = 2;
pub const SCHEMA_AES_DH: i32 = 3;

/// Handshake flag: CRC-32C for every later packet.
pub const FLAG_CRC32C: u32 = 0x800;
/// Handshake flag bits that must be zero.
const FLAGS_RESERVED: u32 = 0xff;
/// Largest accepted `|peer ts − now|` in a nonce, seconds.
pub const MAX_CLOCK_SKEW: u64 = 30;
/// Most extra key ids an AES_EXT nonce may list.
pub const MAX_EXTRA_KEYS: usize = 8;

/// Payload sizes.
pub const NONCE_LEN: usize = 32;
/// An AES_EXT nonce as built here: no extra key ids.
pub const NONCE_EXT_LEN: usize = 36;
pub const HANDSHAKE_LEN: usize = 32;
pub const HANDSHAKE_ERROR_LEN: usize = 20;
pub const PING_LEN: usize = 12;
pub const PID_LEN: usize = pid::ENCODED_LEN;
pub const NONCE_BYTES: usize = 16;

/// The payload is not the expected message (e.g. a HANDSHAKE_ERROR where a
/// handshake should be).
pub const ERR_BAD_OP: i32 = -2;
/// Wrong payload length (a handshake error code on the wire).
pub const ERR_BAD_LENGTH: i32 = -3;
/// The peer's idea of our process id does not fit ours (wire code).
pub const ERR_PID_MISMATCH: i32 = -4;
/// The nonce names none of our keys.
pub const ERR_KEY_MISMATCH: i32 = -5;
/// A crypto schema the proxy does not speak: NONE, DH or unknown.
pub const ERR_BAD_SCHEMA: i32 = -6;
/// Handshake flags with any of the low 8 bits set (wire code).
pub const ERR_BAD_FLAGS: i32 = -7;
/// The peer switched to CRC-32C although we did not offer it (wire code).
pub const ERR_NO_CRC32C: i32 = -8;
/// The nonce's timestamp is more than 30 s away from ours.
pub const ERR_CLOCK_SKEW: i32 = -9;
/// An AES_EXT nonce with a negative or too large extra key count.
pub const ERR_TOO_MANY_KEYS: i32 = -10;
/// A step called in a state where it does not belong.
pub const ERR_STATE: i32 = -11;

/// The codes a failed handshake check sends back in a HANDSHAKE_ERROR.
const WIRE_ERRORS: [i32; 4] = [
    ERR_BAD_LENGTH,
    ERR_PID_MISMATCH,
    ERR_BAD_FLAGS,
    ERR_NO_CRC32C,
];

fn u32_at(payload: &[u8], at: usize) -> Option<u32> {
    let bytes = payload.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*bytes))
}

fn array_at<const N: usize>(payload: &[u8], at: usize) -> Option<[u8; N]> {
    payload.get(at..)?.first_chunk::<N>().copied()
}

/// Checks that `payload` starts with `op`; a payload shorter than the op
/// code is a length error.
fn expect_op(payload: &[u8], op: u32) -> Result<(), i32> {
    match u32_at(payload, 0) {
        None => Err(ERR_BAD_LENGTH),
        Some(found) if found != op => Err(ERR_BAD_OP),
        Some(_) => Ok(()),
    }
}

/// A nonce message: the peer's key_select, schema, timestamp and nonce.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NonceInfo {
    pub key_select: u32,
    pub schema: i32,
    pub timestamp: i32,
    pub nonce: [u8; NONCE_BYTES],
}

/// The nonce payload: schema AES gives the 32-byte form, AES_EXT the 36-byte
/// form with no extra key ids; any other schema is [`ERR_BAD_SCHEMA`].
/// `key_select` is the first 4 bytes of the proxy secret read little-endian,
/// so it goes back on the wire as-is.
pub fn build_nonce(
    key_select: u32,
    schema: i32,
    timestamp: i32,
    nonce: &[u8; NONCE_BYTES],
) -> Result<Vec<u8>, i32> {
    if schema != SCHEMA_AES && schema != SCHEMA_AES_EXT {
        return Err(ERR_BAD_SCHEMA);
    }
    let mut out = Vec::with_capacity(NONCE_EXT_LEN);
    out.extend_from_slice(&RPC_NONCE.to_le_bytes());
    out.extend_from_slice(&key_select.to_le_bytes());
    out.extend_from_slice(&schema.to_le_bytes());
    out.extend_from_slice(&timestamp.to_le_bytes());
    out.extend_from_slice(nonce);
    if schema == SCHEMA_AES_EXT {
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    Ok(out)
}

/// Parses and checks a peer's nonce (§4.3), in this order: op, length,
/// schema (AES: exactly 32 bytes; AES_EXT: `36 + 4k` bytes, `0 <= k <= 8`;
/// anything else refused), key (`key_select` or one of the extra ids equals
/// ours), clock (`|timestamp − now| <= 30`).
pub fn parse_nonce(payload: &[u8], key_select: u32, now: i64) -> Result<NonceInfo, i32> {
    expect_op(payload, RPC_NONCE)?;
    let (Some(peer_key), Some(schema), Some(ts), Some(nonce)) = (
        u32_at(payload, 4),
        u32_at(payload, 8),
        u32_at(payload, 12),
        array_at::<NONCE_BYTES>(payload, 16),
    ) else {
        return Err(ERR_BAD_LENGTH);
    };
    let (schema, timestamp) = (schema as i32, ts as i32);
    let extra_ids = match schema {
        SCHEMA_AES if payload.len() == NONCE_LEN => &[][..],
        SCHEMA_AES => return Err(ERR_BAD_LENGTH),
        SCHEMA_AES_EXT => extra_key_ids(payload)?,
        _ => return Err(ERR_BAD_SCHEMA),
    };
    let ours = |id: &[u8]| id == key_select.to_le_bytes();
    if peer_key != key_select && !extra_ids.chunks_exact(4).any(ours) {
        return Err(ERR_KEY_MISMATCH);
    }
    if i64::from(timestamp).abs_diff(now) > MAX_CLOCK_SKEW {
        return Err(ERR_CLOCK_SKEW);
    }
    Ok(NonceInfo {
        key_select: peer_key,
        schema,
        timestamp,
        nonce,
    })
}

/// The extra key id bytes of an AES_EXT nonce, after checking its count and
/// the exact payload length.
fn extra_key_ids(payload: &[u8]) -> Result<&[u8], i32> {
    let count = u32_at(payload, NONCE_LEN).ok_or(ERR_BAD_LENGTH)? as i32;
    let count = usize::try_from(count)
        .ok()
        .filter(|&k| k <= MAX_EXTRA_KEYS)
        .ok_or(ERR_TOO_MANY_KEYS)?;
    let ids = payload.get(NONCE_EXT_LEN..).unwrap_or_default();
    if ids.len() != 4 * count {
        return Err(ERR_BAD_LENGTH);
    }
    Ok(ids)
}

/// A handshake message's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HandshakeInfo {
    pub flags: u32,
    /// Whether later packets use CRC-32C (flag 0x800).
    pub use_crc32c: bool,
    pub sender_pid: [u8; PID_LEN],
    pub peer_pid: [u8; PID_LEN],
}

/// The handshake payload (§4.6): op, flags, sender pid, peer pid.
pub fn build_handshake(
    flags: u32,
    sender_pid: &[u8; PID_LEN],
    peer_pid: &[u8; PID_LEN],
) -> [u8; HANDSHAKE_LEN] {
    let mut out = [0u8; HANDSHAKE_LEN];
    out[..4].copy_from_slice(&RPC_HANDSHAKE.to_le_bytes());
    out[4..8].copy_from_slice(&flags.to_le_bytes());
    out[8..20].copy_from_slice(sender_pid);
    out[20..].copy_from_slice(peer_pid);
    out
}

/// Parses and checks a peer's handshake (§4.6), in this order: op, length
/// exactly 32, low 8 flag bits zero, peer pid fits `own_pid` (zero fields
/// are wildcards), CRC-32C only if `crc32c_allowed`. The sender pid is not
/// checked. Errors are the codes a HANDSHAKE_ERROR carries (except
/// [`ERR_BAD_OP`], which just closes the connection).
pub fn parse_handshake(
    payload: &[u8],
    own_pid: &[u8; PID_LEN],
    crc32c_allowed: bool,
) -> Result<HandshakeInfo, i32> {
    expect_op(payload, RPC_HANDSHAKE)?;
    let (Some(flags), Some(sender_pid), Some(peer_pid), HANDSHAKE_LEN) = (
        u32_at(payload, 4),
        array_at::<PID_LEN>(payload, 8),
        array_at::<PID_LEN>(payload, 20),
        payload.len(),
    ) else {
        return Err(ERR_BAD_LENGTH);
    };
    if flags & FLAGS_RESERVED != 0 {
        return Err(ERR_BAD_FLAGS);
    }
    // Both are 12 bytes, so neither decode can fail.
    let (Ok(own), Ok(peer)) = (
        pid::process_id_decode(own_pid),
        pid::process_id_decode(&peer_pid),
    ) else {
        return Err(ERR_BAD_LENGTH);
    };
    if !pid::process_id_matches(&own, &peer) {
        return Err(ERR_PID_MISMATCH);
    }
    let use_crc32c = flags & FLAG_CRC32C != 0;
    if use_crc32c && !crc32c_allowed {
        return Err(ERR_NO_CRC32C);
    }
    Ok(HandshakeInfo {
        flags,
        use_crc32c,
        sender_pid,
        peer_pid,
    })
}

/// A HANDSHAKE_ERROR message's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HandshakeErrorInfo {
    pub code: i32,
    pub sender_pid: [u8; PID_LEN],
}

/// The HANDSHAKE_ERROR payload: op, error code, sender pid.
pub fn build_handshake_error(code: i32, sender_pid: &[u8; PID_LEN]) -> [u8; HANDSHAKE_ERROR_LEN] {
    let mut out = [0u8; HANDSHAKE_ERROR_LEN];
    out[..4].copy_from_slice(&RPC_HANDSHAKE_ERROR.to_le_bytes());
    out[4..8].copy_from_slice(&code.to_le_bytes());
    out[8..].copy_from_slice(sender_pid);
    out
}

/// Parses a HANDSHAKE_ERROR (op, then exactly 20 bytes).
pub fn parse_handshake_error(payload: &[u8]) -> Result<HandshakeErrorInfo, i32> {
    expect_op(payload, RPC_HANDSHAKE_ERROR)?;
    match (
        u32_at(payload, 4),
        array_at::<PID_LEN>(payload, 8),
        payload.len(),
    ) {
        (Some(code), Some(sender_pid), HANDSHAKE_ERROR_LEN) => Ok(HandshakeErrorInfo {
            code: code as i32,
            sender_pid,
        }),
        _ => Err(ERR_BAD_LENGTH),
    }
}

/// A PING payload (§4.7).
pub fn build_ping(ping_id: i64) -> [u8; PING_LEN] {
    let mut out = [0u8; PING_LEN];
    out[..4].copy_from_slice(&RPC_PING.to_le_bytes());
    out[4..].copy_from_slice(&ping_id.to_le_bytes());
    out
}

/// The PONG answering a PING payload (exactly 12 bytes), carrying the same
/// ping id.
pub fn pong_for_ping(payload: &[u8]) -> Result<[u8; PING_LEN], i32> {
    expect_op(payload, RPC_PING)?;
    let Some(ping_id) = array_at::<8>(payload, 4).filter(|_| payload.len() == PING_LEN) else {
        return Err(ERR_BAD_LENGTH);
    };
    let mut out = [0u8; PING_LEN];
    out[..4].copy_from_slice(&RPC_PONG.to_le_bytes());
    out[4..].copy_from_slice(&ping_id);
    Ok(out)
}

/// Which end of the connection a state machine plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The proxy: speaks first.
    Client,
    /// The middle-end.
    Server,
}

impl Role {
    pub const fn code(self) -> i32 {
        match self {
            Role::Client => 0,
            Role::Server => 1,
        }
    }

    pub const fn from_code(code: i32) -> Option<Role> {
        match code {
            0 => Some(Role::Client),
            1 => Some(Role::Server),
            _ => None,
        }
    }
}

/// Where an exchange stands: the next step expected of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    SendNonce,
    WaitNonce,
    SendHandshake,
    WaitHandshake,
    Ready,
    Failed,
}

impl State {
    pub const fn code(self) -> i32 {
        match self {
            State::SendNonce => 0,
            State::WaitNonce => 1,
            State::SendHandshake => 2,
            State::WaitHandshake => 3,
            State::Ready => 4,
            State::Failed => 5,
        }
    }

    pub const fn from_code(code: i32) -> Option<State> {
        match code {
            0 => Some(State::SendNonce),
            1 => Some(State::WaitNonce),
            2 => Some(State::SendHandshake),
            3 => Some(State::WaitHandshake),
            4 => Some(State::Ready),
            5 => Some(State::Failed),
            _ => None,
        }
    }
}

/// What key derivation (§4.4) takes from the exchange: the middle-end's
/// (server) nonce, the proxy's (client) nonce and the proxy's timestamp.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KeyInputs {
    pub server_nonce: [u8; NONCE_BYTES],
    pub client_nonce: [u8; NONCE_BYTES],
    pub client_ts: i32,
}

/// One end's nonce + handshake exchange. Every field is plain data so the
/// C contract can keep the whole state in a struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub role: Role,
    pub state: State,
    /// The error that failed the exchange (0 while none).
    pub error: i32,
    /// Our key signature: the first 4 bytes of the proxy secret, LE.
    pub key_select: u32,
    /// Whether we offer (client) or accept (server) CRC-32C.
    pub want_crc32c: bool,
    /// Whether later packets use CRC-32C (negotiated; server: once the
    /// client's handshake is in, client: once the server's is).
    pub use_crc32c: bool,
    pub our_ts: i32,
    pub peer_ts: i32,
    pub our_nonce: [u8; NONCE_BYTES],
    pub peer_nonce: [u8; NONCE_BYTES],
    pub our_pid: [u8; PID_LEN],
    /// What we send as the peer's pid (the proxy: ME address, zeros else).
    pub peer_pid: [u8; PID_LEN],
    /// The sender pid of the peer's handshake, once received.
    pub peer_sender_pid: [u8; PID_LEN],
}

/// How one end runs the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeConfig {
    pub role: Role,
    /// Our key signature: the first 4 bytes of the proxy secret, LE.
    pub key_select: u32,
    /// Whether we offer (client) or accept (server) CRC-32C.
    pub want_crc32c: bool,
    pub our_pid: [u8; PID_LEN],
    /// What we send as the peer's pid (the proxy: {ME ip or 0, ME port, 0,
    /// 0}; the middle-end: zeros).
    pub peer_pid: [u8; PID_LEN],
}

impl Handshake {
    /// A fresh exchange; `now` becomes our nonce timestamp (truncated to the
    /// 32-bit wire field) and `nonce` our 16 random bytes.
    pub fn new(config: &HandshakeConfig, now: i64, nonce: &[u8; NONCE_BYTES]) -> Self {
        Handshake {
            role: config.role,
            state: match config.role {
                Role::Client => State::SendNonce,
                Role::Server => State::WaitNonce,
            },
            error: 0,
            key_select: config.key_select,
            want_crc32c: config.want_crc32c,
            use_crc32c: false,
            our_ts: now as i32,
            peer_ts: 0,
            our_nonce: *nonce,
            peer_nonce: [0; NONCE_BYTES],
            our_pid: config.our_pid,
            peer_pid: config.peer_pid,
            peer_sender_pid: [0; PID_LEN],
        }
    }

    /// The sticky error after a failure; else [`ERR_STATE`] unless the
    /// exchange is in `state`.
    fn expect(&self, state: State) -> Result<(), i32> {
        match self.state {
            State::Failed => Err(self.error),
            s if s == state => Ok(()),
            _ => Err(ERR_STATE),
        }
    }

    /// Records a failure from the peer's input.
    fn fail(&mut self, error: i32) -> i32 {
        self.state = State::Failed;
        self.error = error;
        error
    }

    /// Our nonce payload (schema AES, sent as seq −2, plaintext, CRC-32).
    pub fn send_nonce(&mut self) -> Result<[u8; NONCE_LEN], i32> {
        self.expect(State::SendNonce)?;
        let mut out = [0u8; NONCE_LEN];
        out[..4].copy_from_slice(&RPC_NONCE.to_le_bytes());
        out[4..8].copy_from_slice(&self.key_select.to_le_bytes());
        out[8..12].copy_from_slice(&SCHEMA_AES.to_le_bytes());
        out[12..16].copy_from_slice(&self.our_ts.to_le_bytes());
        out[16..].copy_from_slice(&self.our_nonce);
        self.state = match self.role {
            Role::Client => State::WaitNonce,
            Role::Server => State::WaitHandshake,
        };
        Ok(out)
    }

    /// Takes the peer's nonce payload (seq −2). The caller must also make sure
    /// nothing else arrived after it (the peer must wait for our handshake).
    pub fn receive_nonce(&mut self, payload: &[u8], now: i64) -> Result<(), i32> {
        self.expect(State::WaitNonce)?;
        let info = parse_nonce(payload, self.key_select, now).map_err(|e| self.fail(e))?;
        self.peer_ts = info.timestamp;
        self.peer_nonce = info.nonce;
        self.state = match self.role {
            Role::Client => State::SendHandshake,
            Role::Server => State::SendNonce,
        };
        Ok(())
    }

    /// Our handshake payload (seq −1, encrypted). The client offers CRC-32C
    /// if it wants it; the server accepts it if both want it.
    pub fn send_handshake(&mut self) -> Result<[u8; HANDSHAKE_LEN], i32> {
        self.expect(State::SendHandshake)?;
        let crc32c = match self.role {
            Role::Client => self.want_crc32c,
            Role::Server => self.use_crc32c,
        };
        let flags = if crc32c { FLAG_CRC32C } else { 0 };
        self.state = match self.role {
            Role::Client => State::WaitHandshake,
            Role::Server => State::Ready,
        };
        Ok(build_handshake(flags, &self.our_pid, &self.peer_pid))
    }

    /// Takes the peer's handshake payload (seq −1).
    pub fn receive_handshake(&mut self, payload: &[u8]) -> Result<(), i32> {
        self.expect(State::WaitHandshake)?;
        // The server takes the client's offer only if it wants CRC-32C
        // itself; the client refuses a switch it did not offer.
        let allowed = self.want_crc32c || self.role == Role::Server;
        let info = parse_handshake(payload, &self.our_pid, allowed).map_err(|e| self.fail(e))?;
        self.peer_sender_pid = info.sender_pid;
        self.use_crc32c = info.use_crc32c && self.want_crc32c;
        self.state = match self.role {
            Role::Client => State::Ready,
            Role::Server => State::SendHandshake,
        };
        Ok(())
    }

    /// The HANDSHAKE_ERROR to send after a failed handshake check (codes −3,
    /// −4, −7, −8); [`ERR_STATE`] if there is none to send.
    pub fn error_reply(&self) -> Result<[u8; HANDSHAKE_ERROR_LEN], i32> {
        if self.state == State::Failed && WIRE_ERRORS.contains(&self.error) {
            Ok(build_handshake_error(self.error, &self.our_pid))
        } else {
            Err(ERR_STATE)
        }
    }

    /// The nonces and the client's timestamp, once both nonces are known
    /// and the exchange has not failed; [`ERR_STATE`] before.
    pub fn key_inputs(&self) -> Result<KeyInputs, i32> {
        let known = match self.role {
            Role::Client => matches!(
                self.state,
                State::SendHandshake | State::WaitHandshake | State::Ready
            ),
            Role::Server => matches!(
                self.state,
                State::WaitHandshake | State::SendHandshake | State::Ready
            ),
        };
        if !known {
            return Err(ERR_STATE);
        }
        Ok(match self.role {
            Role::Client => KeyInputs {
                server_nonce: self.peer_nonce,
                client_nonce: self.our_nonce,
                client_ts: self.our_ts,
            },
            Role::Server => KeyInputs {
                server_nonce: self.our_nonce,
                client_nonce: self.peer_nonce,
                client_ts: self.peer_ts,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: u32 = 0xefbe_adde;
    const NOW: i64 = 1_700_000_000;

    fn pid_of(ip: u32, port: i16) -> [u8; PID_LEN] {
        pid::process_id_encode(&pid::process_id_init(ip, port, 1234, 1_600_000_000))
    }

    #[test]
    fn nonce_layout_and_checks() {
        let nonce = build_nonce(KEY, SCHEMA_AES, NOW as i32, &[7; 16]).unwrap();
        assert_eq!(
            nonce[..12],
            [0xaa, 0x87, 0xcb, 0x7a, 0xde, 0xad, 0xbe, 0xef, 1, 0, 0, 0]
        );
        assert_eq!(nonce.len(), 32);
        let info = parse_nonce(&nonce, KEY, NOW + 30).unwrap();
        assert_eq!((info.timestamp, info.nonce), (NOW as i32, [7; 16]));
        assert_eq!(parse_nonce(&nonce, KEY, NOW - 31), Err(ERR_CLOCK_SKEW));
        assert_eq!(parse_nonce(&nonce, KEY + 1, NOW), Err(ERR_KEY_MISMATCH));
        assert_eq!(parse_nonce(&nonce[..31], KEY, NOW), Err(ERR_BAD_LENGTH));
        assert_eq!(parse_nonce(&nonce[..3], KEY, NOW), Err(ERR_BAD_LENGTH));
        assert_eq!(
            build_nonce(KEY, SCHEMA_NONE, 0, &[0; 16]),
            Err(ERR_BAD_SCHEMA)
        );
    }

    #[test]
    fn extended_nonce_key_ids() {
        let mut nonce = build_nonce(1, SCHEMA_AES_EXT, NOW as i32, &[0; 16]).unwrap();
        assert_eq!(parse_nonce(&nonce, KEY, NOW), Err(ERR_KEY_MISMATCH));
        nonce[32] = 1;
        nonce.extend_from_slice(&KEY.to_le_bytes());
        assert!(parse_nonce(&nonce, KEY, NOW).is_ok());
        nonce[32] = 9;
        assert_eq!(parse_nonce(&nonce, KEY, NOW), Err(ERR_TOO_MANY_KEYS));
        nonce[32] = 2;
        assert_eq!(parse_nonce(&nonce, KEY, NOW), Err(ERR_BAD_LENGTH));
    }

    #[test]
    fn handshake_checks_in_order() {
        let own = pid_of(0x0a00_0001, 443);
        let wildcard = [0u8; PID_LEN];
        let hs = build_handshake(FLAG_CRC32C, &own, &wildcard);
        assert!(parse_handshake(&hs, &own, true).unwrap().use_crc32c);
        assert_eq!(parse_handshake(&hs, &own, false), Err(ERR_NO_CRC32C));
        let mut bad = hs;
        bad[4] = 1;
        assert_eq!(parse_handshake(&bad, &own, true), Err(ERR_BAD_FLAGS));
        let wrong = build_handshake(0, &own, &pid_of(0x0a00_0002, 0));
        assert_eq!(parse_handshake(&wrong, &own, true), Err(ERR_PID_MISMATCH));
        assert_eq!(parse_handshake(&hs[..31], &own, true), Err(ERR_BAD_LENGTH));
        let err = build_handshake_error(ERR_PID_MISMATCH, &own);
        assert_eq!(parse_handshake(&err, &own, true), Err(ERR_BAD_OP));
        assert_eq!(parse_handshake_error(&err).unwrap().code, -4);
    }

    #[test]
    fn ping_pong() {
        let ping = build_ping(0x0102_0304_0506_0708);
        let pong = pong_for_ping(&ping).unwrap();
        assert_eq!(pong[..4], [0xa7, 0xea, 0x30, 0x84]);
        assert_eq!(pong[4..], ping[4..]);
        assert_eq!(pong_for_ping(&ping[..11]), Err(ERR_BAD_LENGTH));
        assert_eq!(pong_for_ping(&pong), Err(ERR_BAD_OP));
    }

    #[test]
    fn both_ends_reach_ready() {
        let (proxy_pid, me_pid) = (pid_of(0x0a00_0001, -1), pid_of(0x0a00_0002, 8888));
        let me_as_seen = pid_of(0x0a00_0002, 8888);
        let config = |role, our_pid, peer_pid| HandshakeConfig {
            role,
            key_select: KEY,
            want_crc32c: true,
            our_pid,
            peer_pid,
        };
        let mut client =
            Handshake::new(&config(Role::Client, proxy_pid, me_as_seen), NOW, &[1; 16]);
        let mut server = Handshake::new(&config(Role::Server, me_pid, [0; 12]), NOW + 5, &[2; 16]);
        let nonce = client.send_nonce().unwrap();
        server.receive_nonce(&nonce, NOW + 5).unwrap();
        client
            .receive_nonce(&server.send_nonce().unwrap(), NOW)
            .unwrap();
        assert_eq!(client.key_inputs(), server.key_inputs());
        server
            .receive_handshake(&client.send_handshake().unwrap())
            .unwrap();
        client
            .receive_handshake(&server.send_handshake().unwrap())
            .unwrap();
        assert_eq!((client.state, server.state), (State::Ready, State::Ready));
        assert!(client.use_crc32c && server.use_crc32c);
        assert_eq!(client.send_nonce(), Err(ERR_STATE));
    }
}
