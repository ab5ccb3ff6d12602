//! A ClientHello that [`super::check_client_hello`] accepts, for the client
//! side of the test kit. Layout (offsets from the record start):
//!
//! ```text
//! 0   16 03 01 LL LL             record header, LL = total - 5
//! 5   01 LL LL LL 03 03          ClientHello, length total - 9, version
//! 11  random (32)                HMAC digest, last 4 bytes xor LE32(time)
//! 43  20 + session id (32)       random[0..32]
//! 76  00 08 GG GG 13 01 13 02 13 03   GG = (random[0] & 0xf0) | 0x0a
//! 86  01 00                      one compression method (null)
//! 88  BE16(total - 90)           extensions length
//! 90  server_name, supported_versions (03 04), key_share (x25519,
//!     random[32..64]), padding (type 21) filling up to `total`
//! ```
use super::{hello_digest, ERR_ARG, ERR_SPACE, MAX_HELLO_RECORD, RANDOM_OFFSET, SECRET_LEN};

/// Smallest hello the builder makes (tdlib's size).
pub const MIN_CLIENT_HELLO: usize = 517;
/// Longest SNI host name accepted.
pub const MAX_DOMAIN_LEN: usize = 255;
/// Bytes of the hello without the SNI name and the padding's data.
const FIXED_LEN: usize = 152;

/// Writes a `total_len`-byte hello (517..=4096) naming `domain` (1..=255
/// bytes, no NUL) and carrying `unix_time`, signed with `secret`; `random`
/// gives the session id (0..32), the GREASE value and the key share (32..64).
/// Returns `total_len`. Errors: `ERR_ARG`, `ERR_SPACE` (`out` too small).
pub fn build_client_hello(
    secret: &[u8; SECRET_LEN],
    domain: &[u8],
    unix_time: u32,
    random: &[u8; 64],
    total_len: usize,
    out: &mut [u8],
) -> Result<usize, i32> {
    if !(MIN_CLIENT_HELLO..=MAX_HELLO_RECORD).contains(&total_len)
        || domain.is_empty()
        || domain.len() > MAX_DOMAIN_LEN
        || domain.contains(&0)
    {
        return Err(ERR_ARG);
    }
    let Some(hello) = out.get_mut(..total_len) else {
        return Err(ERR_SPACE);
    };
    let be16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    let be24 = |n: usize| {
        let [_, b1, b2, b3] = u32::try_from(n).unwrap_or(0).to_be_bytes();
        [b1, b2, b3]
    };
    let name_len = domain.len();
    let padding_len = total_len - FIXED_LEN - name_len;
    let grease = (random[0] & 0xf0) | 0x0a;
    let (session_id, key_share) = random.split_at(32);
    let parts: [&[u8]; 20] = [
        &[0x16, 0x03, 0x01],
        &be16(total_len - 5),
        &[0x01],
        &be24(total_len - 9),
        &[0x03, 0x03],
        &[0; 32],
        &[0x20],
        session_id,
        &[
            0x00, 0x08, grease, grease, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
        ],
        &[0x01, 0x00],
        &be16(total_len - 90),
        &[0x00, 0x00],
        &be16(name_len + 5),
        &be16(name_len + 3),
        &[0x00],
        &be16(name_len),
        domain,
        &[
            0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04, // supported_versions
            0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, // key_share
        ],
        key_share,
        &[0x00, 0x15],
    ];
    let mut at = 0;
    for part in parts {
        hello[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    hello[at..at + 2].copy_from_slice(&be16(padding_len));
    hello[at + 2..].fill(0);
    let digest = hello_digest(secret, hello);
    let random_field = &mut hello[RANDOM_OFFSET..RANDOM_OFFSET + 32];
    random_field.copy_from_slice(&digest);
    for (byte, time_byte) in random_field[28..].iter_mut().zip(unix_time.to_le_bytes()) {
        *byte ^= time_byte;
    }
    Ok(total_len)
}
