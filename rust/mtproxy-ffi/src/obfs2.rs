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
// `ServerHeader` and `ClientHeader` are the contract's
// `mtp_obfs2_server_header` and `mtp_obfs2_client_header` (the core's repr(C)
// types; the header names them so).
use mtproxy_core::net::obfs2::{self, ClientHeader, ServerHeader};

/// The codes and records of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::obfs2::*;

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
    out: *mut ServerHeader,
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
            *out = parsed;
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
    out: *mut ClientHeader,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (random, secret, out) = unsafe { (raw::array(random), raw::array(secret), out.as_mut()) };
    let (Some(random), Some(out)) = (random, out) else {
        return MTP_OBFS2_ERR_ARG;
    };
    match obfs2::build_client_header(random, secret, tag, dc) {
        Ok(built) => {
            *out = built;
            0
        }
        Err(code) => code,
    }
}
