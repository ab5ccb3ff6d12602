//! Contract of the obfs2 module: obfuscated2 secrets as users paste them and
//! the 64-byte init header (docs/PROTOCOL.md §1). Transport tags: 0xefefefef
//! abridged, 0xeeeeeeee intermediate, 0xdddddddd padded intermediate.
//!
//! Each direction is AES-256-CTR with `key` and a 128-bit big-endian counter
//! starting at `iv`. The proxy's read stream (= the client's encrypt stream)
//! has already used its first 64 keystream bytes on the header: a caller
//! building the cipher must skip 64 bytes (counter `iv + 4`). The write
//! stream starts at `iv`.
use crate::raw;
use mtproxy_core::net::obfs2::{self, ClientHeader, CtrKey, Secret, ServerHeader};

/// Kind of a secret: `<32 hex>`.
pub const MTP_OBFS2_SECRET_PLAIN: i32 = 0;
/// Kind of a secret: `dd<32 hex>` (padded intermediate).
pub const MTP_OBFS2_SECRET_PADDED: i32 = 1;
/// Kind of a secret: `ee<32 hex><hex(domain)>` (fake TLS).
pub const MTP_OBFS2_SECRET_FAKE_TLS: i32 = 2;
/// Bytes of the init header.
pub const MTP_OBFS2_HEADER_LEN: i32 = 64;
/// Bytes of a raw secret.
pub const MTP_OBFS2_SECRET_LEN: i32 = 16;
/// Longest domain of a fake-TLS secret.
pub const MTP_OBFS2_MAX_DOMAIN_LEN: i32 = 253;
/// Longest text `mtp_obfs2_format_secret` writes, without its NUL.
pub const MTP_OBFS2_MAX_SECRET_TEXT_LEN: i32 = 540;

/// Secret text in none of the accepted forms, or a secret to format with an
/// unknown kind or an invalid domain.
pub const MTP_OBFS2_ERR_BAD_SECRET: i32 = -1;
/// Fewer than 64 header bytes.
pub const MTP_OBFS2_ERR_SHORT: i32 = -2;
/// No secret decrypts the header to an accepted tag.
pub const MTP_OBFS2_ERR_NO_MATCH: i32 = -3;
/// The client's random bytes start in a way servers could misclassify; the
/// caller retries with new random bytes.
pub const MTP_OBFS2_ERR_FORBIDDEN: i32 = -4;
/// A required pointer is NULL, or the output buffer is too small.
pub const MTP_OBFS2_ERR_ARG: i32 = -5;

const _: () = assert!(
    MTP_OBFS2_SECRET_PLAIN == obfs2::SECRET_PLAIN
        && MTP_OBFS2_SECRET_PADDED == obfs2::SECRET_PADDED
        && MTP_OBFS2_SECRET_FAKE_TLS == obfs2::SECRET_FAKE_TLS
        && MTP_OBFS2_HEADER_LEN as usize == obfs2::HEADER_LEN
        && MTP_OBFS2_SECRET_LEN as usize == obfs2::SECRET_LEN
        && MTP_OBFS2_MAX_DOMAIN_LEN as usize == obfs2::MAX_DOMAIN_LEN
        && MTP_OBFS2_MAX_SECRET_TEXT_LEN as usize == obfs2::MAX_SECRET_TEXT_LEN
        && MTP_OBFS2_ERR_BAD_SECRET == obfs2::ERR_BAD_SECRET
        && MTP_OBFS2_ERR_SHORT == obfs2::ERR_SHORT
        && MTP_OBFS2_ERR_NO_MATCH == obfs2::ERR_NO_MATCH
        && MTP_OBFS2_ERR_FORBIDDEN == obfs2::ERR_FORBIDDEN
        && MTP_OBFS2_ERR_ARG == obfs2::ERR_ARG
);

/// A parsed secret; `domain[0..domain_len)` is the fake-TLS domain (no NUL),
/// `domain_len` is 0 for the other kinds.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct mtp_obfs2_secret {
    pub kind: i32,
    pub key: [u8; 16],
    pub domain: [u8; 253],
    pub domain_len: usize,
}

/// Key and initial counter block of one AES-256-CTR direction.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct mtp_obfs2_ctr_key {
    pub key: [u8; 32],
    pub iv: [u8; 16],
}

/// A header the proxy accepted: the index of the matching secret (-1 when
/// no secrets were given), the tag, the DC id and both directions' keys.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct mtp_obfs2_server_header {
    pub secret_index: i32,
    pub tag: u32,
    pub dc: i16,
    pub read: mtp_obfs2_ctr_key,
    pub write: mtp_obfs2_ctr_key,
}

/// A client's header as sent and its keys (`encrypt` = the proxy's `read`,
/// `decrypt` = the proxy's `write`).
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct mtp_obfs2_client_header {
    pub header: [u8; 64],
    pub encrypt: mtp_obfs2_ctr_key,
    pub decrypt: mtp_obfs2_ctr_key,
}

impl From<Secret> for mtp_obfs2_secret {
    fn from(s: Secret) -> Self {
        let (kind, key, domain, domain_len) = (s.kind, s.key, s.domain, s.domain_len);
        mtp_obfs2_secret {
            kind,
            key,
            domain,
            domain_len,
        }
    }
}

impl From<&mtp_obfs2_secret> for Secret {
    fn from(s: &mtp_obfs2_secret) -> Self {
        let (kind, key, domain, domain_len) = (s.kind, s.key, s.domain, s.domain_len);
        Secret {
            kind,
            key,
            domain,
            domain_len,
        }
    }
}

impl From<CtrKey> for mtp_obfs2_ctr_key {
    fn from(k: CtrKey) -> Self {
        mtp_obfs2_ctr_key {
            key: k.key,
            iv: k.iv,
        }
    }
}

impl From<ServerHeader> for mtp_obfs2_server_header {
    fn from(h: ServerHeader) -> Self {
        let (secret_index, tag, dc) = (h.secret_index, h.tag, h.dc);
        let (read, write) = (h.read.into(), h.write.into());
        mtp_obfs2_server_header {
            secret_index,
            tag,
            dc,
            read,
            write,
        }
    }
}

impl From<ClientHeader> for mtp_obfs2_client_header {
    fn from(h: ClientHeader) -> Self {
        let (encrypt, decrypt) = (h.encrypt.into(), h.decrypt.into());
        mtp_obfs2_client_header {
            header: h.header,
            encrypt,
            decrypt,
        }
    }
}

/// Parses `len` bytes of secret text (surrounding space, \t, \n, \f, \r ignored):
/// hex (either case) if that decodes to a valid secret, else base64
/// (standard or URL-safe alphabet, `=` padding optional). The bytes must be
/// 16 bytes (plain), 0xdd + 16 (padded) or 0xee + 16 + a domain of 1..253
/// bytes of `[A-Za-z0-9.-]` (fake TLS). Returns 0 or
/// `MTP_OBFS2_ERR_BAD_SECRET` (`MTP_OBFS2_ERR_ARG` for a NULL `out`).
///
/// # Safety
/// `text` must point to `len` readable bytes (may be NULL if `len` is 0);
/// `out` must be NULL or point to a writable `mtp_obfs2_secret`.
#[no_mangle]
pub unsafe extern "C" fn mtp_obfs2_parse_secret(
    text: *const u8,
    len: usize,
    out: *mut mtp_obfs2_secret,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (text, out) = unsafe { (raw::bytes(text, len), out.as_mut()) };
    let Some(out) = out else {
        return MTP_OBFS2_ERR_ARG;
    };
    match obfs2::parse_secret(text) {
        Ok(secret) => {
            *out = secret.into();
            0
        }
        Err(code) => code,
    }
}

/// Writes the lowercase hex link form of `*secret` (`""`, `dd` or `ee`
/// prefix, 32 hex digits, hex of the domain for fake TLS) plus a NUL to
/// `out` and its length without the NUL to `*out_len`. Returns 0,
/// `MTP_OBFS2_ERR_BAD_SECRET` for an unknown kind or an invalid fake-TLS
/// domain, or `MTP_OBFS2_ERR_ARG` for NULL pointers or `cap` too small
/// (`MTP_OBFS2_MAX_SECRET_TEXT_LEN + 1` is always enough).
///
/// # Safety
/// `secret` must be NULL or valid; `out` must point to `cap` writable bytes;
/// `out_len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_obfs2_format_secret(
    secret: *const mtp_obfs2_secret,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (secret, buf, out_len) =
        unsafe { (secret.as_ref(), raw::bytes_mut(out, cap), out_len.as_mut()) };
    let (Some(secret), Some(out_len)) = (secret, out_len) else {
        return MTP_OBFS2_ERR_ARG;
    };
    let text = match obfs2::format_secret(&secret.into()) {
        Ok(text) => text,
        Err(code) => return code,
    };
    let Some(dst) = buf.get_mut(..=text.len()) else {
        return MTP_OBFS2_ERR_ARG;
    };
    dst[..text.len()].copy_from_slice(text.as_bytes());
    dst[text.len()] = 0;
    *out_len = text.len();
    0
}

/// The proxy's parse of the 64-byte init header (only `header[0..64)` is
/// read): tries the `n_secrets` packed 16-byte `secrets` in order and takes
/// the first that decrypts bytes 56..59 to a transport tag (only 0xdddddddd
/// if `padded_only` is nonzero, the `-D` mode); with `n_secrets` 0 the
/// secret-less derivation is used. Returns 0, `MTP_OBFS2_ERR_SHORT`
/// (`header_len` < 64), `MTP_OBFS2_ERR_NO_MATCH` or `MTP_OBFS2_ERR_ARG`.
/// Costs one SHA-256 and one AES block per rejected secret.
///
/// # Safety
/// `header` must point to `header_len` readable bytes, `secrets` to
/// `16 * n_secrets` (each may be NULL if its length is 0); `out` must be NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_obfs2_parse_header(
    header: *const u8,
    header_len: usize,
    secrets: *const u8,
    n_secrets: usize,
    padded_only: i32,
    out: *mut mtp_obfs2_server_header,
) -> i32 {
    let secrets_len = n_secrets.checked_mul(obfs2::SECRET_LEN);
    // SAFETY: forwarded caller contract.
    let out = unsafe { out.as_mut() };
    let (Some(out), Some(secrets_len)) = (out, secrets_len) else {
        return MTP_OBFS2_ERR_ARG;
    };
    if secrets.is_null() && n_secrets > 0 {
        return MTP_OBFS2_ERR_ARG;
    }
    // A missing or short header is refused before the secrets are touched,
    // as in the C code: no slice is made of a list that is never read.
    if header.is_null() || header_len < obfs2::HEADER_LEN {
        return MTP_OBFS2_ERR_SHORT;
    }
    // SAFETY: forwarded caller contract.
    let (header, secrets) = unsafe {
        (
            raw::bytes(header, header_len),
            raw::bytes(secrets, secrets_len),
        )
    };
    match obfs2::parse_header(header, secrets, padded_only != 0) {
        Ok(parsed) => {
            *out = parsed.into();
            0
        }
        Err(code) => code,
    }
}

/// A client's init header: the 64 `random` bytes with `tag` at 56..59 and
/// `dc` at 60..61, bytes 56..63 encrypted under the client's keys derived
/// with the 16-byte `secret` (NULL: secret-less). Returns 0,
/// `MTP_OBFS2_ERR_FORBIDDEN` when the random bytes start in a forbidden way
/// (retry with new ones), or `MTP_OBFS2_ERR_ARG` for NULL `random` / `out`.
///
/// # Safety
/// `random` must be NULL or point to 64 readable bytes, `secret` NULL or 16
/// readable bytes, `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_obfs2_build_client_header(
    random: *const u8,
    secret: *const u8,
    tag: u32,
    dc: i16,
    out: *mut mtp_obfs2_client_header,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (random, secret, out) = unsafe { (raw::array(random), raw::array(secret), out.as_mut()) };
    let (Some(random), Some(out)) = (random, out) else {
        return MTP_OBFS2_ERR_ARG;
    };
    match obfs2::build_client_header(random, secret, tag, dc) {
        Ok(built) => {
            *out = built.into();
            0
        }
        Err(code) => code,
    }
}
