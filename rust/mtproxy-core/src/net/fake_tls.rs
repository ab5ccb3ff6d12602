//! Fake TLS (`ee` secrets): the proxy poses as a TLS 1.3 server (docs/PROTOCOL.md
//! §2). Sans-IO: the caller passes the bytes it has, the time and any
//! randomness; nothing here reads a clock or an RNG.
//!
//! - [`detect_client_hello`]: is this connection a fake-TLS hello, and how long
//!   is its first record;
//! - [`check_client_hello`]: the §2.2 checks in upstream's order, giving
//!   accept / relay-to-default-domain / relay-to-SNI-domain;
//! - [`ReplayCache`]: the per-process cache of seen client randoms;
//! - [`build_server_hello`] and, for the client side of the test kit,
//!   [`build_client_hello`] / [`parse_server_hello`];
//! - [`RecordReader`] / [`wrap_records`]: the record layer after the hello.
//!
//! Everything the check or the parsers read is bounds-checked first; every
//! malformed input has a defined outcome.
use crate::common::sha256::{padded_blocks, HmacKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

mod client_hello;
mod probe;
mod records;
mod replay_cache;
mod server_hello;

pub use client_hello::{build_client_hello, MAX_DOMAIN_LEN, MIN_CLIENT_HELLO};
pub use probe::{
    build_probe_hello, parse_probe_reply, profile_app_data_len, profile_from_replies,
    render_profile_stats, ProbeReply, TlsProfile, FALLBACK_APP_DATA_BASE, FALLBACK_APP_DATA_SPREAD,
    PROBE_CONNECTIONS, PROBE_DEADLINE_MS, PROBE_HELLO_LEN, PROBE_INTERVAL_S, PROBE_JITTER_S,
    PROBE_MAX_RECORDS, PROBE_QUIET_MS, PROBE_RANDOM_LEN,
};
pub use records::{wrap_records, wrapped_len, RecordReader, MAX_RECORD_PAYLOAD, MIN_FIRST_RECORD};
pub use replay_cache::{ReplayCache, MAX_REPLAY_ENTRIES, REPLAY_EXPIRY};
pub use server_hello::{
    build_server_hello, parse_server_hello, ServerHelloInfo, MAX_FAKE_APP_DATA,
    SERVER_HELLO_FIXED_LEN,
};

/// Not enough bytes yet (detection, ServerHello parsing).
pub const ERR_NEED_MORE: i32 = -1;
/// The first bytes are not a fake-TLS ClientHello record header.
pub const ERR_NOT_TLS: i32 = -2;
/// An argument out of its documented range.
pub const ERR_ARG: i32 = -3;
/// The output buffer is too small.
pub const ERR_SPACE: i32 = -4;
/// Record layer: the client's first 6 bytes are not the ChangeCipherSpec.
pub const ERR_BAD_CCS: i32 = -5;
/// Record layer: a record header other than `17 03 03`.
pub const ERR_BAD_RECORD: i32 = -6;
/// Record layer: the first application-data record is shorter than 64 bytes.
pub const ERR_FIRST_RECORD_SHORT: i32 = -7;
/// Client side: the ServerHello bytes do not have the §2.3 layout.
pub const ERR_BAD_SERVER_HELLO: i32 = -8;
/// Client side: the ServerHello's server random is not the expected HMAC.
pub const ERR_BAD_HMAC: i32 = -9;
/// The replay cache is empty (no oldest entry).
pub const ERR_EMPTY: i32 = -10;

/// The hello passed every check: serve it.
pub const VERDICT_ACCEPT: i32 = 0;
/// Relay the connection to the default (first) domain.
pub const VERDICT_RELAY_DEFAULT: i32 = 1;
/// Relay the connection to the domain its SNI named (`domain_index`).
pub const VERDICT_RELAY_SNI: i32 = 2;

/// No rejection (accepted).
pub const REJECT_NONE: i32 = 0;
/// No well-formed server_name extension (walk overran the record, bad inner
/// lengths, name type not 0, NUL in the name, no SNI at all).
pub const REJECT_NO_SNI: i32 = 1;
/// A well-formed SNI naming none of the allowed domains.
pub const REJECT_UNKNOWN_SNI: i32 = 2;
/// More bytes buffered than the record ("too much data").
pub const REJECT_TRAILING_DATA: i32 = 3;
/// A record longer than [`MAX_HELLO_RECORD`].
pub const REJECT_TOO_LONG: i32 = 4;
/// The client random's first 16 bytes are in the replay cache.
pub const REJECT_REPLAY: i32 = 5;
/// No secret's HMAC matches the client random.
pub const REJECT_BAD_HMAC: i32 = 6;
/// The timestamp is too far in the future or the past.
pub const REJECT_BAD_TIME: i32 = 7;
/// The first non-GREASE cipher suite is not `13 01/02/03` (or there is none).
pub const REJECT_BAD_CIPHER: i32 = 8;

/// Largest ClientHello record accepted, header included.
pub const MAX_HELLO_RECORD: usize = 4096;
/// Record header length.
pub const RECORD_HEADER_LEN: usize = 5;
/// Secret length (the 16 bytes after `ee`).
pub const SECRET_LEN: usize = 16;
/// Offset and length of the client/server random in a hello record.
pub const RANDOM_OFFSET: usize = 11;
pub const RANDOM_LEN: usize = 32;
/// Offset of the session id in a hello record.
pub const SESSION_ID_OFFSET: usize = 44;
/// Offset of the cipher-suite list length.
const CIPHER_SUITES_OFFSET: usize = 76;
/// Bytes of the HMAC that must equal the client random.
const HMAC_MATCH_LEN: usize = 28;
/// Clock skew allowed into the future / always allowed into the past.
const MAX_FUTURE_SKEW: i64 = 3;
const MAX_PAST_SKEW: i64 = 600;

/// The outcome of `mtp_tls_check_client_hello`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HelloCheck {
    /// `VERDICT_*` (C: `MTP_TLS_VERDICT_*`).
    pub verdict: i32,
    /// `REJECT_*` (C: `MTP_TLS_REJECT_*`; 0 when accepted).
    pub reason: i32,
    /// The secret whose HMAC matched, else -1.
    pub secret_index: i32,
    /// The allowed domain the SNI named, else -1.
    pub domain_index: i32,
    /// Record bytes 44..76.
    pub session_id: [u8; 32],
    /// Record bytes 11..43.
    pub client_random: [u8; 32],
    /// Second byte of the chosen `13 xx` suite when accepted, else 0.
    pub cipher_suite: u8,
}

/// Classifies the first bytes of a connection: `Ok(record_len)` (header
/// included) for `16 03 01` with a record length of at least 0x200 (docs/PROTOCOL.md
/// update: high byte ≥ 2), `ERR_NEED_MORE` while fewer than 5 bytes are in and
/// they still match, else `ERR_NOT_TLS`.
pub fn detect_client_hello(prefix: &[u8]) -> Result<usize, i32> {
    const MAGIC: [u8; 3] = [0x16, 0x03, 0x01];
    let magic_len = prefix.len().min(MAGIC.len());
    if prefix.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(ERR_NOT_TLS);
    }
    if prefix.get(3).is_some_and(|&high| high < 2) {
        return Err(ERR_NOT_TLS);
    }
    match prefix.get(3..5) {
        Some(&[high, low]) => Ok(RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([high, low]))),
        _ => Err(ERR_NEED_MORE),
    }
}

fn be16(data: &[u8], at: usize) -> Option<usize> {
    match data.get(at..at.checked_add(2)?) {
        Some(&[high, low]) => Some(usize::from(u16::from_be_bytes([high, low]))),
        _ => None,
    }
}

/// The server_name extension's data, if the extension walk finds one.
fn find_sni_extension(record: &[u8]) -> Option<&[u8]> {
    let suites_len = be16(record, CIPHER_SUITES_OFFSET)?;
    // Suites, then 2 bytes of compression methods, then the 2-byte
    // extensions length, which upstream does not check.
    let mut pos = CIPHER_SUITES_OFFSET + 2 + suites_len + 4;
    while pos.checked_add(4)? <= record.len() {
        let ext_type = be16(record, pos)?;
        let ext_len = be16(record, pos + 2)?;
        let data = record.get(pos + 4..pos + 4 + ext_len)?;
        if ext_type == 0 {
            return Some(data);
        }
        pos += 4 + ext_len;
    }
    None
}

/// The host name of a server_name extension, if well formed.
fn sni_name(ext: &[u8]) -> Option<&[u8]> {
    let list_len = be16(ext, 0)?;
    let name_len = be16(ext, 3)?;
    let name_type = *ext.get(2)?;
    let well_formed =
        ext.len() >= 5 && list_len == ext.len() - 2 && name_type == 0 && name_len == ext.len() - 5;
    let name = ext.get(5..)?;
    (well_formed && !name.contains(&0)).then_some(name)
}

/// The X25519 public key of `private` (RFC 7748: the scalar is clamped, then
/// multiplied with the base point), through aws-lc's fixed-base code, the
/// fastest of the crates measured (ARCHITECTURE.md). Errors: `ERR_ARG` if
/// the library refuses the key, which it does not for 32 bytes.
pub fn x25519_public_key(private: &[u8; 32]) -> Result<[u8; 32], i32> {
    use aws_lc_rs::agreement::{PrivateKey, X25519};
    let key = PrivateKey::from_private_key(&X25519, private).map_err(|_| ERR_ARG)?;
    let public = key.compute_public_key().map_err(|_| ERR_ARG)?;
    public.as_ref().try_into().map_err(|_| ERR_ARG)
}

/// HMAC-SHA256 under a 16-byte secret of the concatenation of `parts`.
fn hmac_parts(secret: &[u8; SECRET_LEN], parts: &[&[u8]]) -> [u8; 32] {
    // A key shorter than SHA-256's 64-byte block is zero-padded to it
    // (RFC 2104), which makes the infallible constructor usable.
    let mut block = [0u8; 64];
    block[..SECRET_LEN].copy_from_slice(secret);
    let mut mac = <Hmac<Sha256> as Mac>::new(&block.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The HMAC of a hello `record` with its random field (11..43) taken as zero.
fn hello_digest(secret: &[u8; SECRET_LEN], record: &[u8]) -> [u8; 32] {
    let before = record.get(..RANDOM_OFFSET).unwrap_or_default();
    let after = record.get(RANDOM_OFFSET + RANDOM_LEN..).unwrap_or_default();
    hmac_parts(secret, &[before, &[0; RANDOM_LEN], after])
}

/// The §2.2 step 6 rule, with saturating arithmetic (exact here: `ts` is a
/// u32, so a saturated bound compares the same way as the true one).
fn timestamp_ok(ts: u32, now: i64, oldest: i64) -> bool {
    let ts = i64::from(ts);
    ts <= now.saturating_add(MAX_FUTURE_SKEW)
        && (ts > oldest.saturating_add(MAX_FUTURE_SKEW) || ts > now.saturating_sub(MAX_PAST_SKEW))
}

/// The second byte of the first non-GREASE suite if it is `13 01/02/03`.
fn pick_cipher_suite(suites: &[u8]) -> Option<u8> {
    let is_grease = |pair: &[u8]| pair.iter().all(|&b| b & 0x0f == 0x0a);
    let first = suites.chunks_exact(2).find(|pair| !is_grease(pair))?;
    match *first {
        [0x13, suite @ 1..=3] => Some(suite),
        _ => None,
    }
}

fn u32_le(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(..4) {
        word.copy_from_slice(src);
    }
    u32::from_le_bytes(word)
}

/// Runs the §2.2 checks on one complete hello `record` (its header's length
/// must be `record.len()`, else `ERR_ARG`; a header that is not a hello gives
/// `ERR_NOT_TLS`), of which `buffered` bytes (≥ `record.len()`, else `ERR_ARG`)
/// are in the receive buffer. Order: SNI, size, replay (the random is
/// inserted into `cache` even if a later check fails), HMAC for each secret
/// in turn, timestamp against `now` and the cache's oldest entry, cipher
/// suite. Local-port-80 handling is left to the caller.
pub fn check_client_hello<D: AsRef<[u8]>>(
    record: &[u8],
    buffered: usize,
    secrets: &[[u8; SECRET_LEN]],
    domains: &[D],
    cache: &mut ReplayCache,
    now: i64,
) -> Result<HelloCheck, i32> {
    check_hello(record, buffered, secrets, None, domains, cache, now)
}

/// [`check_client_hello`] with each secret's HMAC key prepared once
/// ([`hello_keys`]), for a proxy that checks many hellos against many
/// secrets: two SHA-256 blocks less per secret tried. `first_try`: the
/// index to try before the others (the secret this client used last);
/// the outcome is the same, only the number of trials changes.
pub fn check_client_hello_keyed<D: AsRef<[u8]>>(
    record: &[u8],
    buffered: usize,
    keys: &[HmacKey],
    first_try: Option<usize>,
    domains: &[D],
    cache: &mut ReplayCache,
    now: i64,
) -> Result<HelloCheck, i32> {
    check_hello(record, buffered, keys, first_try, domains, cache, now)
}

/// The prepared HMAC keys of `secrets`, in order.
pub fn hello_keys(secrets: &[[u8; SECRET_LEN]]) -> Vec<HmacKey> {
    secrets.iter().map(|s| s.hmac_key()).collect()
}

/// A secret as the hello check uses it: its HMAC key.
trait HelloSecret {
    fn hmac_key(&self) -> HmacKey;
}

impl HelloSecret for [u8; SECRET_LEN] {
    fn hmac_key(&self) -> HmacKey {
        // A 16-byte key is shorter than SHA-256's block: always accepted.
        HmacKey::new(self).unwrap_or(HmacKey::new(&[]).expect("an empty key fits"))
    }
}

impl HelloSecret for HmacKey {
    fn hmac_key(&self) -> HmacKey {
        *self
    }
}

fn check_hello<D: AsRef<[u8]>, S: HelloSecret>(
    record: &[u8],
    buffered: usize,
    secrets: &[S],
    first_try: Option<usize>,
    domains: &[D],
    cache: &mut ReplayCache,
    now: i64,
) -> Result<HelloCheck, i32> {
    if detect_client_hello(record)? != record.len() || buffered < record.len() {
        return Err(ERR_ARG);
    }
    let mut out = HelloCheck {
        secret_index: -1,
        domain_index: -1,
        ..HelloCheck::default()
    };
    // A valid header makes the record at least 5 + 0x200 bytes long.
    let field = |at: usize| record.get(at..at + 32).unwrap_or(&[0; 32]);
    out.client_random.copy_from_slice(field(RANDOM_OFFSET));
    out.session_id.copy_from_slice(field(SESSION_ID_OFFSET));
    let reject = |mut out: HelloCheck, verdict, reason| {
        out.verdict = verdict;
        out.reason = reason;
        Ok(out)
    };

    let Some(name) = find_sni_extension(record).and_then(sni_name) else {
        return reject(out, VERDICT_RELAY_DEFAULT, REJECT_NO_SNI);
    };
    let Some(domain) = domains.iter().position(|d| d.as_ref() == name) else {
        return reject(out, VERDICT_RELAY_DEFAULT, REJECT_UNKNOWN_SNI);
    };
    out.domain_index = i32::try_from(domain).map_err(|_| ERR_ARG)?;
    if buffered != record.len() {
        return reject(out, VERDICT_RELAY_SNI, REJECT_TRAILING_DATA);
    }
    if record.len() > MAX_HELLO_RECORD {
        return reject(out, VERDICT_RELAY_SNI, REJECT_TOO_LONG);
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&out.client_random[..16]);
    if cache.lookup(&key, now) {
        return reject(out, VERDICT_RELAY_SNI, REJECT_REPLAY);
    }
    cache.insert(&key, now);

    // The hello with its random zeroed, padded once for every secret's MAC.
    let mut zeroed = record.to_vec();
    if let Some(random) = zeroed.get_mut(RANDOM_OFFSET..RANDOM_OFFSET + RANDOM_LEN) {
        random.fill(0);
    }
    let blocks = padded_blocks(&zeroed, 1);
    let first = first_try.filter(|&i| i < secrets.len());
    let mut order = first
        .into_iter()
        .chain((0..secrets.len()).filter(|&i| Some(i) != first));
    let matched = order.find_map(|index| {
        let digest = secrets.get(index)?.hmac_key().mac(&blocks);
        (digest[..HMAC_MATCH_LEN] == out.client_random[..HMAC_MATCH_LEN]).then_some((index, digest))
    });
    let Some((secret, digest)) = matched else {
        return reject(out, VERDICT_RELAY_SNI, REJECT_BAD_HMAC);
    };
    out.secret_index = i32::try_from(secret).map_err(|_| ERR_ARG)?;
    let ts = u32_le(&digest[HMAC_MATCH_LEN..]) ^ u32_le(&out.client_random[HMAC_MATCH_LEN..]);
    // The cache holds at least the entry just inserted.
    let oldest = cache.oldest_time().unwrap_or(now);
    if !timestamp_ok(ts, now, oldest) {
        return reject(out, VERDICT_RELAY_SNI, REJECT_BAD_TIME);
    }
    let suites_len = be16(record, CIPHER_SUITES_OFFSET).unwrap_or(0);
    let suites = record.get(CIPHER_SUITES_OFFSET + 2..CIPHER_SUITES_OFFSET + 2 + suites_len);
    let Some(suite) = suites.and_then(pick_cipher_suite) else {
        return reject(out, VERDICT_RELAY_SNI, REJECT_BAD_CIPHER);
    };
    out.cipher_suite = suite;
    reject(out, VERDICT_ACCEPT, REJECT_NONE)
}

#[cfg(test)]
mod tests;
