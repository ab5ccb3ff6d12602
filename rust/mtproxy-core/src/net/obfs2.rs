//! Obfuscated2 (docs/PROTOCOL.md §1): the secret forms users paste into links, and
//! the 64-byte init header a client sends first: parsed by the proxy against
//! its secrets, built by a client (for the test kit).
//!
//! Key derivation (§1.3), with `H` the decrypted header, `S` the 16-byte
//! secret and `R` = `H[8..56)` reversed:
//! - read (client→proxy): key `SHA256(H[8..40) ‖ S)`, IV `H[40..56)`;
//! - write (proxy→client): key `SHA256(R[0..32) ‖ S)`, IV `R[32..48)`;
//! - without any configured secret the key material is used as the key.
//!
//! Both directions are AES-256-CTR with a 128-bit big-endian counter that
//! starts at the IV. The proxy decrypts the header with the read cipher, so
//! its read stream is 64 bytes (4 blocks) in when the first transport byte
//! arrives; the write stream starts at the IV.
use crate::common::sha256::sha256_two_chunks;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes256Enc;

/// Bytes of a raw secret.
pub const SECRET_LEN: usize = 16;
/// Bytes of the init header.
pub const HEADER_LEN: usize = 64;
/// Longest fake-TLS domain in a secret (a DNS name's limit).
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest secret text `format_secret` produces: `ee`, 32 hex, hex(domain).
pub const MAX_SECRET_TEXT_LEN: usize = 2 * (1 + SECRET_LEN + MAX_DOMAIN_LEN);

/// Transport tags (§1.2).
pub const TAG_ABRIDGED: u32 = 0xefef_efef;
pub const TAG_INTERMEDIATE: u32 = 0xeeee_eeee;
pub const TAG_PADDED: u32 = 0xdddd_dddd;

/// Secret kinds: `<32 hex>`, `dd<32 hex>`, `ee<32 hex><hex(domain)>`.
pub const SECRET_PLAIN: i32 = 0;
pub const SECRET_PADDED: i32 = 1;
pub const SECRET_FAKE_TLS: i32 = 2;

/// A secret text in none of the accepted forms, or a secret to format with a
/// bad kind or domain.
pub const ERR_BAD_SECRET: i32 = -1;
/// Fewer than 64 header bytes.
pub const ERR_SHORT: i32 = -2;
/// No secret decrypts the header to an accepted tag.
pub const ERR_NO_MATCH: i32 = -3;
/// Client random bytes a proxy or Telegram server could misclassify (§1.5);
/// draw new ones.
pub const ERR_FORBIDDEN: i32 = -4;
/// A packed secret list whose length is not a multiple of 16, or (FFI) a
/// null pointer / too small output buffer.
pub const ERR_ARG: i32 = -5;

/// Offset of the encrypted tail of the header: tag, DC id, 2 random bytes.
const TAIL_START: usize = 56;
/// The tail lies in the 4th keystream block, at bytes 8..16 of it.
const TAIL_BLOCK: u128 = 3;
const TAIL_IN_BLOCK: usize = 8;

/// A decoded secret as pasted by a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    pub kind: i32,
    pub key: [u8; SECRET_LEN],
    /// The fake-TLS domain in `domain[..domain_len]`; empty for other kinds.
    pub domain: [u8; MAX_DOMAIN_LEN],
    pub domain_len: usize,
}

/// Key and initial counter block of one AES-256-CTR direction.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtrKey {
    pub key: [u8; 32],
    pub iv: [u8; 16],
}

/// A header the proxy accepted: the index of the matching secret (-1 when
/// no secrets were given), the tag, the DC id and both directions' keys.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerHeader {
    /// Index of the matching secret, -1 when no secrets were given.
    pub secret_index: i32,
    pub tag: u32,
    pub dc: i16,
    /// Client→proxy; the proxy has used the first 64 keystream bytes of it.
    pub read: CtrKey,
    /// Proxy→client; unused so far.
    pub write: CtrKey,
}

/// A client's header as sent and its keys (`encrypt` = the proxy's `read`,
/// `decrypt` = the proxy's `write`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHeader {
    pub header: [u8; HEADER_LEN],
    /// The client has used the first 64 keystream bytes of it.
    pub encrypt: CtrKey,
    pub decrypt: CtrKey,
}

/// All zeros (an output record before the contract fills it).
impl Default for ClientHeader {
    fn default() -> Self {
        ClientHeader {
            header: [0; HEADER_LEN],
            encrypt: CtrKey::default(),
            decrypt: CtrKey::default(),
        }
    }
}

/// Parses a secret as users paste it (surrounding space, \t, \n, \f, \r ignored):
/// hex (either case) if that decodes to a valid secret, else base64
/// (standard or URL-safe alphabet, `=` padding optional). The decoded bytes
/// must be 16 bytes (plain), 0xdd + 16 (padded) or 0xee + 16 + a domain of
/// 1..=253 bytes of `[A-Za-z0-9.-]` (fake TLS).
pub fn parse_secret(text: &[u8]) -> Result<Secret, i32> {
    let text = text.trim_ascii();
    let mut buf = [0u8; 1 + SECRET_LEN + MAX_DOMAIN_LEN];
    if let Some(n) = decode_hex(text, &mut buf) {
        if let Some(secret) = classify_secret(&buf[..n]) {
            return Ok(secret);
        }
    }
    decode_base64(text, &mut buf)
        .and_then(|n| classify_secret(&buf[..n]))
        .ok_or(ERR_BAD_SECRET)
}

/// The link form of `key` as `kind` (with `domain` for fake TLS); `None`
/// for a kind or domain [`format_secret`] refuses.
pub fn link_secret(key: &[u8; SECRET_LEN], kind: i32, domain: &[u8]) -> Option<String> {
    let mut secret = Secret {
        kind,
        key: *key,
        domain: [0; MAX_DOMAIN_LEN],
        domain_len: domain.len(),
    };
    secret
        .domain
        .get_mut(..domain.len())?
        .copy_from_slice(domain);
    format_secret(&secret).ok()
}

/// The hex link form (lowercase) of `secret`; ignores the domain unless the
/// kind is fake TLS.
pub fn format_secret(secret: &Secret) -> Result<String, i32> {
    let prefix = match secret.kind {
        SECRET_PLAIN => "",
        SECRET_PADDED => "dd",
        SECRET_FAKE_TLS => "ee",
        _ => return Err(ERR_BAD_SECRET),
    };
    let domain: &[u8] = if secret.kind == SECRET_FAKE_TLS {
        match secret.domain.get(..secret.domain_len) {
            Some(d) if valid_domain(d) => d,
            _ => return Err(ERR_BAD_SECRET),
        }
    } else {
        &[]
    };
    let mut out = String::with_capacity(MAX_SECRET_TEXT_LEN);
    out.push_str(prefix);
    for &b in secret.key.iter().chain(domain) {
        out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(b & 15)]));
    }
    Ok(out)
}

/// The proxy's side: finds the first of `secrets` (packed, 16 bytes each)
/// that decrypts `header[56..60)` to a transport tag (only 0xdddddddd when
/// `padded_only`, the `-D` mode) and derives both directions' keys. With no
/// secrets, the secret-less derivation is used. Only `header[..64]` is read.
pub fn parse_header(header: &[u8], secrets: &[u8], padded_only: bool) -> Result<ServerHeader, i32> {
    let header: &[u8; HEADER_LEN] = header.first_chunk().ok_or(ERR_SHORT)?;
    if secrets.len() % SECRET_LEN != 0 {
        return Err(ERR_ARG);
    }
    if secrets.is_empty() {
        return try_secret(header, None, -1, padded_only).ok_or(ERR_NO_MATCH);
    }
    secrets
        .chunks_exact(SECRET_LEN)
        .zip(0..)
        .find_map(|(secret, index)| try_secret(header, Some(secret), index, padded_only))
        .ok_or(ERR_NO_MATCH)
}

/// One candidate: a SHA-256 and one AES block; the write key only on a match.
fn try_secret(
    header: &[u8; HEADER_LEN],
    secret: Option<&[u8]>,
    secret_index: i32,
    padded_only: bool,
) -> Option<ServerHeader> {
    let read = read_key(header, secret);
    let [t0, t1, t2, t3, d0, d1, _, _] = decrypt_tail(header, &read);
    let tag = u32::from_le_bytes([t0, t1, t2, t3]);
    let accepted = if padded_only {
        tag == TAG_PADDED
    } else {
        matches!(tag, TAG_ABRIDGED | TAG_INTERMEDIATE | TAG_PADDED)
    };
    accepted.then(|| ServerHeader {
        secret_index,
        tag,
        dc: i16::from_le_bytes([d0, d1]),
        read,
        write: write_key(header, secret),
    })
}

/// The client's side: puts `tag` and `dc` into the 64 `random` bytes,
/// derives the keys (with `secret`, or secret-less) and encrypts the tail.
/// [`ERR_FORBIDDEN`] when the random bytes break the §1.5 rules (also a
/// `16 03 01` start with a length byte ≥ 2, which current proxies read as
/// fake TLS); the caller draws new random bytes. Any tag is accepted, so a
/// test kit can build invalid headers.
pub fn build_client_header(
    random: &[u8; HEADER_LEN],
    secret: Option<&[u8; SECRET_LEN]>,
    tag: u32,
    dc: i16,
) -> Result<ClientHeader, i32> {
    if forbidden_start(random) {
        return Err(ERR_FORBIDDEN);
    }
    let mut header = *random;
    header[TAIL_START..TAIL_START + 4].copy_from_slice(&tag.to_le_bytes());
    header[TAIL_START + 4..TAIL_START + 6].copy_from_slice(&dc.to_le_bytes());
    let secret = secret.map(|s| &s[..]);
    let encrypt = read_key(&header, secret);
    let decrypt = write_key(&header, secret);
    let encrypted_tail = decrypt_tail(&header, &encrypt);
    header[TAIL_START..].copy_from_slice(&encrypted_tail);
    Ok(ClientHeader {
        header,
        encrypt,
        decrypt,
    })
}

/// §1.5: first bytes a client must not send.
fn forbidden_start(h: &[u8; HEADER_LEN]) -> bool {
    let first = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    const FORBIDDEN_FIRST_WORDS: [u32; 7] = [
        0x4441_4548, // "HEAD"
        0x5453_4f50, // "POST"
        0x2054_4547, // "GET "
        0x4954_504f, // "OPTI"
        0x0201_0316, // TLS handshake record, length 0x02xx
        TAG_PADDED,
        TAG_INTERMEDIATE,
    ];
    let tls_like = h[..3] == [0x16, 0x03, 0x01] && h[3] >= 2;
    h[0] == 0xef || FORBIDDEN_FIRST_WORDS.contains(&first) || tls_like || h[4..8] == [0; 4]
}

/// Key and IV for client→proxy.
fn read_key(h: &[u8; HEADER_LEN], secret: Option<&[u8]>) -> CtrKey {
    let mut material = [0u8; 32];
    material.copy_from_slice(&h[8..40]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&h[40..56]);
    CtrKey {
        key: derive(material, secret),
        iv,
    }
}

/// Key and IV for proxy→client: the same bytes reversed.
fn write_key(h: &[u8; HEADER_LEN], secret: Option<&[u8]>) -> CtrKey {
    let mut material = [0u8; 32];
    for (dst, src) in material.iter_mut().zip(h[24..56].iter().rev()) {
        *dst = *src;
    }
    let mut iv = [0u8; 16];
    for (dst, src) in iv.iter_mut().zip(h[8..24].iter().rev()) {
        *dst = *src;
    }
    CtrKey {
        key: derive(material, secret),
        iv,
    }
}

fn derive(material: [u8; 32], secret: Option<&[u8]>) -> [u8; 32] {
    secret.map_or(material, |s| sha256_two_chunks(&material, s))
}

/// `h[56..64)` XOR the keystream at offsets 56..64 of `key`'s stream.
fn decrypt_tail(h: &[u8; HEADER_LEN], key: &CtrKey) -> [u8; 8] {
    let counter = u128::from_be_bytes(key.iv).wrapping_add(TAIL_BLOCK);
    let mut block = counter.to_be_bytes().into();
    // Encryption only: no decryption key schedule for a one-block trial.
    Aes256Enc::new(&key.key.into()).encrypt_block(&mut block);
    let mut tail = [0u8; 8];
    for (i, t) in tail.iter_mut().enumerate() {
        *t = h[TAIL_START + i] ^ block[TAIL_IN_BLOCK + i];
    }
    tail
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Hex text into `out`; `None` unless every byte is a hex digit, the length is
/// even and the result fits.
fn decode_hex(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if text.len() % 2 != 0 || text.len() / 2 > out.len() {
        return None;
    }
    for (pair, dst) in text.chunks_exact(2).zip(out.iter_mut()) {
        *dst = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
    }
    Some(text.len() / 2)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Base64 text into `out`; either alphabet, padding optional but correct if
/// present; leftover low bits of the last character are ignored.
fn decode_base64(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let pad = text.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 || (pad > 0 && text.len() % 4 != 0) {
        return None;
    }
    let body = text.get(..text.len() - pad)?;
    if body.len() % 4 == 1 || body.len() / 4 * 3 > out.len() {
        return None;
    }
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &c in body {
        acc = (acc << 6 | u32::from(base64_value(c)?)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decoded secret bytes into a [`Secret`], if they have one of the forms.
fn classify_secret(bytes: &[u8]) -> Option<Secret> {
    let mut secret = Secret {
        kind: SECRET_PLAIN,
        key: [0; SECRET_LEN],
        domain: [0; MAX_DOMAIN_LEN],
        domain_len: 0,
    };
    let key = match bytes {
        key if key.len() == SECRET_LEN => key,
        [0xdd, key @ ..] if key.len() == SECRET_LEN => {
            secret.kind = SECRET_PADDED;
            key
        }
        [0xee, rest @ ..] if rest.len() > SECRET_LEN => {
            let (key, domain) = rest.split_at(SECRET_LEN);
            if !valid_domain(domain) {
                return None;
            }
            secret.kind = SECRET_FAKE_TLS;
            secret.domain[..domain.len()].copy_from_slice(domain);
            secret.domain_len = domain.len();
            key
        }
        _ => return None,
    };
    secret.key.copy_from_slice(key);
    Some(secret)
}

fn valid_domain(domain: &[u8]) -> bool {
    (1..=MAX_DOMAIN_LEN).contains(&domain.len())
        && domain
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const SECRET: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];

    /// Bytes 0x40..0x80: allowed by §1.5.
    fn random() -> [u8; HEADER_LEN] {
        std::array::from_fn(|i| 0x40 + i as u8)
    }

    // Independent oracle (OpenSSL CLI + Python hashlib) for H = 0x40..0x7f
    // with tag 0xdddddddd and DC 2 at 56..62: the §1.3 keys, and the tail
    // after AES-256-CTR encryption of all 64 bytes from counter block IV.
    const READ_KEY: &str = "83a2d97099d28b3893ad228a82e5d60402f372ba0e69f64e67b6d8f6f0b14cd8";
    const WRITE_KEY: &str = "24a0d5d0a12ee771fdb9c26de315b808d7a51d42271d7a10f0955c0b3f7390f2";
    const TAIL: &str = "daacbd2ca7de43f9";

    #[test]
    fn client_header_known_answer() {
        let built = build_client_header(&random(), Some(&SECRET), TAG_PADDED, 2).unwrap();
        assert_eq!(built.header[..56], random()[..56]);
        assert_eq!(built.header[56..].to_vec(), unhex(TAIL));
        assert_eq!(built.encrypt.key.to_vec(), unhex(READ_KEY));
        assert_eq!(
            built.encrypt.iv.to_vec(),
            unhex("68696a6b6c6d6e6f7071727374757677")
        );
        assert_eq!(built.decrypt.key.to_vec(), unhex(WRITE_KEY));
        assert_eq!(
            built.decrypt.iv.to_vec(),
            unhex("57565554535251504f4e4d4c4b4a4948")
        );
        let parsed = parse_header(&built.header, &SECRET, true).unwrap();
        assert_eq!(
            (parsed.secret_index, parsed.tag, parsed.dc),
            (0, TAG_PADDED, 2)
        );
        assert_eq!((parsed.read, parsed.write), (built.encrypt, built.decrypt));
    }

    #[test]
    fn secretless_known_answer() {
        let built = build_client_header(&random(), None, TAG_PADDED, 2).unwrap();
        assert_eq!(built.header[56..].to_vec(), unhex("8cc1af92535a09f6"));
        assert_eq!(built.encrypt.key[..], random()[8..40]);
        let parsed = parse_header(&built.header, &[], false).unwrap();
        assert_eq!((parsed.secret_index, parsed.dc), (-1, 2));
        let mut reversed = random()[24..56].to_vec();
        reversed.reverse();
        assert_eq!(parsed.write.key.to_vec(), reversed);
    }

    #[test]
    fn counter_wraps_at_128_bits() {
        let mut r = random();
        r[40..56].fill(0xff);
        let built = build_client_header(&r, Some(&SECRET), TAG_PADDED, 2).unwrap();
        assert_eq!(built.header[56..].to_vec(), unhex("d5adbce9eb6c4cf2"));
    }

    #[test]
    fn later_secret_matches_and_restrictions_apply() {
        let other = [7u8; 16];
        let built = build_client_header(&random(), Some(&SECRET), TAG_ABRIDGED, -2).unwrap();
        let both = [other, SECRET].concat();
        let parsed = parse_header(&built.header, &both, false).unwrap();
        assert_eq!(
            (parsed.secret_index, parsed.tag, parsed.dc),
            (1, TAG_ABRIDGED, -2)
        );
        assert_eq!(parse_header(&built.header, &both, true), Err(ERR_NO_MATCH));
        assert_eq!(
            parse_header(&built.header, &other, false),
            Err(ERR_NO_MATCH)
        );
        assert_eq!(
            parse_header(&built.header[..63], &both, false),
            Err(ERR_SHORT)
        );
        assert_eq!(
            parse_header(&built.header, &both[..17], false),
            Err(ERR_ARG)
        );
    }

    #[test]
    fn forbidden_random_starts() {
        let starts: [&[u8]; 9] = [
            b"\xef",
            b"HEAD",
            b"POST",
            b"GET ",
            b"OPTI",
            b"\x16\x03\x01\x02",
            b"\x16\x03\x01\x07",
            b"\xdd\xdd\xdd\xdd",
            b"\xee\xee\xee\xee",
        ];
        for start in starts {
            let mut r = random();
            r[..start.len()].copy_from_slice(start);
            assert_eq!(
                build_client_header(&r, None, TAG_PADDED, 1),
                Err(ERR_FORBIDDEN)
            );
        }
        let mut r = random();
        r[4..8].fill(0);
        assert_eq!(
            build_client_header(&r, None, TAG_PADDED, 1),
            Err(ERR_FORBIDDEN)
        );
        r[..4].copy_from_slice(b"\x16\x03\x01\x01");
        r[4] = 1;
        assert!(build_client_header(&r, None, TAG_PADDED, 1).is_ok());
    }

    #[test]
    fn secret_forms() {
        let hex = "00112233445566778899aabbccddeeff";
        let plain = parse_secret(hex.as_bytes()).unwrap();
        assert_eq!(
            (plain.kind, plain.key, plain.domain_len),
            (SECRET_PLAIN, SECRET, 0)
        );
        let padded = parse_secret(format!(" DD{}\n", hex.to_uppercase()).as_bytes()).unwrap();
        assert_eq!((padded.kind, padded.key), (SECRET_PADDED, SECRET));
        let tls_hex = format!("ee{hex}{}", "6578616d706c652e636f6d"); // example.com
        let tls = parse_secret(tls_hex.as_bytes()).unwrap();
        assert_eq!(tls.kind, SECRET_FAKE_TLS);
        assert_eq!(&tls.domain[..tls.domain_len], b"example.com");
        assert_eq!(format_secret(&tls).unwrap(), tls_hex);
        assert_eq!(format_secret(&padded).unwrap(), format!("dd{hex}"));
        // base64 of 0xee ‖ SECRET ‖ "example.com", both alphabets.
        for b64 in [
            "7gARIjNEVWZ3iJmqu8zd7v9leGFtcGxlLmNvbQ==",
            "7gARIjNEVWZ3iJmqu8zd7v9leGFtcGxlLmNvbQ",
        ] {
            assert_eq!(parse_secret(b64.as_bytes()), Ok(tls));
        }
        assert_eq!(parse_secret(b"3QARIjNEVWZ3iJmqu8zd7v8="), Ok(padded));
        assert_eq!(parse_secret(b"ABEiM0RVZneImaq7zN3u_w"), Ok(plain));
        assert_eq!(parse_secret(b"ABEiM0RVZneImaq7zN3u/w=="), Ok(plain));
    }

    #[test]
    fn bad_secrets() {
        let hex = "00112233445566778899aabbccddeeff";
        let bad = [
            String::new(),
            hex[..30].to_string(),
            format!("{hex}00"),
            format!("ab{hex}"),
            format!("ee{hex}"),
            format!("ee{hex}2f"),                   // '/' in the domain
            format!("ee{hex}{}", "61".repeat(254)), // domain too long
            "ABEiM0RVZneImaq7zN3u/w=".to_string(),  // wrong padding
            "ABEiM0RVZneImaq7zN3u/w===".to_string(),
            "ABEiM0RVZneImaq7zN3u/w!!".to_string(),
        ];
        for text in bad {
            assert_eq!(parse_secret(text.as_bytes()), Err(ERR_BAD_SECRET), "{text}");
        }
        let long = format!("ee{hex}{}", "61".repeat(253));
        assert_eq!(parse_secret(long.as_bytes()).unwrap().domain_len, 253);
        let mut plain = parse_secret(hex.as_bytes()).unwrap();
        plain.kind = 3;
        assert_eq!(format_secret(&plain), Err(ERR_BAD_SECRET));
        plain.kind = SECRET_FAKE_TLS;
        assert_eq!(format_secret(&plain), Err(ERR_BAD_SECRET));
        plain.domain_len = 300;
        assert_eq!(format_secret(&plain), Err(ERR_BAD_SECRET));
    }
}
