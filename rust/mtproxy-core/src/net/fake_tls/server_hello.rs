//! The ServerHello flight of docs/PROTOCOL.md §2.3 (ServerHello record, dummy
//! ChangeCipherSpec, one fake application-data record), its builder for the
//! proxy and its check for the client side of the test kit.
//!
//! The key_share is a real X25519 public key, computed from 32 caller-supplied
//! random bytes taken as the private key: about half of all random 32-byte
//! strings are not curve points, which an observer could check, and the
//! caller's random bytes keep the two implementations equal under a test seed.
use super::{
    hmac_parts, x25519_public_key, ERR_ARG, ERR_BAD_HMAC, ERR_BAD_SERVER_HELLO, ERR_NEED_MORE,
    ERR_SPACE, RANDOM_LEN, RANDOM_OFFSET, SECRET_LEN, SESSION_ID_OFFSET,
};

/// Length of everything before the fake application data.
pub const SERVER_HELLO_FIXED_LEN: usize = 138;
/// Largest fake application-data size (TLS's ciphertext limit, 2^14 + 256).
pub const MAX_FAKE_APP_DATA: usize = 16_640;

const HEAD: [u8; 11] = [
    0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03,
];
const KEY_SHARE_HEAD: [u8; 8] = [0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20];
const SUPPORTED_VERSIONS: [u8; 6] = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
const CCS_AND_DATA_HEAD: [u8; 9] = [0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03];
const EXTENSIONS_OFFSET: usize = 81;
const EXTENSIONS_END: usize = 127;

/// What `mtp_tls_parse_server_hello` learned.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ServerHelloInfo {
    /// The `xx` of the chosen `13 xx` suite.
    pub cipher_suite: u8,
    /// 1 if supported_versions came before key_share, else 0.
    pub extensions_swapped: i32,
    /// N, the fake application-data length.
    pub app_data_len: usize,
    /// Bytes of the whole flight (138 + N).
    pub total_len: usize,
}

/// The server random: HMAC(secret, client_random ‖ flight with 11..43 zero).
fn server_random(secret: &[u8; SECRET_LEN], client_random: &[u8; 32], flight: &[u8]) -> [u8; 32] {
    let before = flight.get(..RANDOM_OFFSET).unwrap_or_default();
    let after = flight.get(RANDOM_OFFSET + RANDOM_LEN..).unwrap_or_default();
    hmac_parts(secret, &[client_random, before, &[0; RANDOM_LEN], after])
}

/// Writes the 138 + N byte flight to `out` and returns its length. `random`
/// must be exactly 32 + N bytes (32 for the key share's private key, then
/// the N payload bytes); `cipher_suite` is 1, 2 or 3; N ≤ [`MAX_FAKE_APP_DATA`]. `swap_extensions`
/// puts supported_versions before key_share. Errors: `ERR_ARG`, `ERR_SPACE`.
#[allow(clippy::too_many_arguments)] // the §2.3 inputs, each distinct
pub fn build_server_hello(
    client_random: &[u8; 32],
    session_id: &[u8; 32],
    cipher_suite: u8,
    secret: &[u8; SECRET_LEN],
    app_data_len: usize,
    swap_extensions: bool,
    random: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    if app_data_len > MAX_FAKE_APP_DATA
        || random.len() != 32 + app_data_len
        || !(1..=3).contains(&cipher_suite)
    {
        return Err(ERR_ARG);
    }
    let total = SERVER_HELLO_FIXED_LEN + app_data_len;
    let Some(flight) = out.get_mut(..total) else {
        return Err(ERR_SPACE);
    };
    let (private, payload) = random.split_at(32);
    let mut private_key = [0u8; 32];
    private_key.copy_from_slice(private);
    let key_share = x25519_public_key(&private_key)?;
    let mut extensions = Vec::with_capacity(EXTENSIONS_END - EXTENSIONS_OFFSET);
    let key_share_ext = [&KEY_SHARE_HEAD[..], &key_share[..]].concat();
    if swap_extensions {
        extensions.extend_from_slice(&SUPPORTED_VERSIONS);
        extensions.extend_from_slice(&key_share_ext);
    } else {
        extensions.extend_from_slice(&key_share_ext);
        extensions.extend_from_slice(&SUPPORTED_VERSIONS);
    }
    let n = u16::try_from(app_data_len).map_err(|_| ERR_ARG)?;
    let parts: [&[u8]; 9] = [
        &HEAD,
        &[0; RANDOM_LEN],
        &[0x20],
        session_id,
        &[0x13, cipher_suite, 0x00, 0x00, 0x2e],
        &extensions,
        &CCS_AND_DATA_HEAD,
        &n.to_be_bytes(),
        payload,
    ];
    let mut at = 0;
    for part in parts {
        flight[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let digest = server_random(secret, client_random, flight);
    flight[RANDOM_OFFSET..RANDOM_OFFSET + RANDOM_LEN].copy_from_slice(&digest);
    Ok(total)
}

/// Checks a flight received by a client that sent `client_random` and
/// `session_id` with `secret`: the §2.3 layout (either extension order), then
/// the server random. `data` is what has arrived so far; trailing bytes after
/// the flight are allowed (they are later records). Errors: `ERR_NEED_MORE`
/// (fewer than 138, or than 138 + N, bytes), `ERR_BAD_SERVER_HELLO`,
/// `ERR_BAD_HMAC`.
pub fn parse_server_hello(
    data: &[u8],
    client_random: &[u8; 32],
    session_id: &[u8; 32],
    secret: &[u8; SECRET_LEN],
) -> Result<ServerHelloInfo, i32> {
    let Some(fixed) = data.get(..SERVER_HELLO_FIXED_LEN) else {
        return Err(ERR_NEED_MORE);
    };
    let at = |from: usize, len: usize| fixed.get(from..from + len).unwrap_or_default();
    let extensions = at(EXTENSIONS_OFFSET, EXTENSIONS_END - EXTENSIONS_OFFSET);
    let swapped =
        if extensions.starts_with(&KEY_SHARE_HEAD) && extensions.ends_with(&SUPPORTED_VERSIONS) {
            0
        } else if extensions.starts_with(&SUPPORTED_VERSIONS)
            && at(
                EXTENSIONS_OFFSET + SUPPORTED_VERSIONS.len(),
                KEY_SHARE_HEAD.len(),
            ) == KEY_SHARE_HEAD
        {
            1
        } else {
            return Err(ERR_BAD_SERVER_HELLO);
        };
    let suite = fixed.get(77).copied().unwrap_or(0);
    let layout_ok = at(0, HEAD.len()) == HEAD
        && at(43, 1) == [0x20]
        && at(SESSION_ID_OFFSET, 32) == session_id
        && at(76, 1) == [0x13]
        && (1..=3).contains(&suite)
        && at(78, 3) == [0x00, 0x00, 0x2e]
        && at(EXTENSIONS_END, CCS_AND_DATA_HEAD.len()) == CCS_AND_DATA_HEAD;
    if !layout_ok {
        return Err(ERR_BAD_SERVER_HELLO);
    }
    let app_data_len = super::be16(fixed, 136).unwrap_or(0);
    let total = SERVER_HELLO_FIXED_LEN + app_data_len;
    let Some(flight) = data.get(..total) else {
        return Err(ERR_NEED_MORE);
    };
    if server_random(secret, client_random, flight) != at(RANDOM_OFFSET, RANDOM_LEN) {
        return Err(ERR_BAD_HMAC);
    }
    Ok(ServerHelloInfo {
        cipher_suite: suite,
        extensions_swapped: swapped,
        app_data_len,
        total_len: total,
    })
}
