//! Contract of the fake-tls module (docs/PROTOCOL.md §2), sans-IO: ClientHello
//! detection and checks, the replay cache, the ServerHello flight, the record
//! layer after it, and a client side (hello builder, ServerHello check) for
//! tests. Time is unix seconds passed in; randomness is caller-supplied bytes.
//!
//! Every fallible function returns 0 or a negative `MTP_TLS_ERR_*` code and
//! writes its outputs only on success; a rejected hello is a success of the
//! check (the verdict is its output).
use crate::raw;
// `HelloCheck` and `ServerHelloInfo` are the contract's `mtp_tls_hello_check`
// and `mtp_tls_server_hello_info` (the core's repr(C) types; the header names
// them so).
use mtproxy_core::net::fake_tls::{
    self as core, HelloCheck, ProbeReply, ReplayCache, ServerHelloInfo, TlsProfile,
};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::fake_tls::*;

/// Opaque replay cache (bounded by the entry limit given at creation).
#[allow(non_camel_case_types)]
pub struct mtp_tls_replay_cache(ReplayCache);

/// Opaque inbound record decoder (constant memory).
#[allow(non_camel_case_types)]
pub struct mtp_tls_reader(core::RecordReader);

/// Writes `value` through `out` (null allowed: nothing written); returns 0.
///
/// # Safety
/// `out` is null or writable.
unsafe fn put<T>(out: *mut T, value: T) -> i32 {
    // SAFETY: null or writable by the caller's contract.
    if let Some(slot) = unsafe { out.as_mut() } {
        *slot = value;
    }
    0
}

/// Classifies the first `len` bytes of a connection: 0 and `*record_len`
/// (5 + BE16 length) for `16 03 01 hh` with hh ≥ 2; `MTP_TLS_ERR_NEED_MORE`
/// while fewer than 5 bytes still match; else `MTP_TLS_ERR_NOT_TLS`
/// (`MTP_TLS_ERR_ARG` for a null `data` with `len > 0`).
///
/// # Safety
/// `data` has `len` readable bytes (null if 0); `record_len` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_detect_client_hello(
    data: *const u8,
    len: usize,
    record_len: *mut usize,
) -> i32 {
    if data.is_null() && len > 0 {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    match core::detect_client_hello(unsafe { raw::bytes(data, len) }) {
        // SAFETY: forwarded caller contract.
        Ok(n) => unsafe { put(record_len, n) },
        Err(code) => code,
    }
}

/// Runs the §2.2 checks on one complete hello record of `record_len` bytes
/// (its header must say that length, else `MTP_TLS_ERR_ARG`; not a hello:
/// `MTP_TLS_ERR_NOT_TLS`), `buffered` (≥ `record_len`) being the bytes in the
/// receive buffer. Order: SNI against `domains`, trailing data, size ≤ 4096,
/// replay (the random is inserted into `cache` before the HMAC check), HMAC
/// against each of the `secret_count` 16-byte `secrets`, timestamp against
/// `now` and the cache's oldest entry, cipher suite. Writes `*out` and returns 0.
///
/// # Safety
/// `record`: `record_len` bytes; `secrets`: 16 × `secret_count` bytes;
/// `domains`: `domain_count` entries, each valid; `cache` from
/// `mtp_tls_replay_cache_new`; `out` writable. Null is allowed for empty
/// arrays; other nulls give `MTP_TLS_ERR_ARG`.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_check_client_hello(
    record: *const u8,
    record_len: usize,
    buffered: usize,
    secrets: *const u8,
    secret_count: usize,
    domains: *const mtp_tls_domain,
    domain_count: usize,
    cache: *mut mtp_tls_replay_cache,
    now: i64,
    out: *mut HelloCheck,
) -> i32 {
    // SAFETY: null or valid per the caller's contract.
    let (Some(cache), false) = (unsafe { cache.as_mut() }, out.is_null()) else {
        return MTP_TLS_ERR_ARG;
    };
    let Some(secret_bytes) = secret_count.checked_mul(core::SECRET_LEN) else {
        return MTP_TLS_ERR_ARG;
    };
    let null_with_len = (record.is_null() && record_len > 0)
        || (secrets.is_null() && secret_count > 0)
        || (domains.is_null() && domain_count > 0);
    if null_with_len {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: `secrets` holds 16 × `secret_count` bytes by the caller's contract.
    let secrets: Vec<[u8; 16]> = unsafe { raw::bytes(secrets, secret_bytes) }
        .chunks_exact(core::SECRET_LEN)
        .map(|s| s.try_into().unwrap_or([0; 16]))
        .collect();
    let domains = if domain_count == 0 {
        &[]
    } else {
        // SAFETY: non-null, `domain_count` entries by the caller's contract.
        unsafe { std::slice::from_raw_parts(domains, domain_count) }
    };
    let domains: Option<Vec<&[u8]>> = domains
        .iter()
        // SAFETY: each entry names `len` readable bytes by the caller's contract.
        .map(|d| (!d.data.is_null() || d.len == 0).then(|| unsafe { raw::bytes(d.data, d.len) }))
        .collect();
    let Some(domains) = domains else {
        return MTP_TLS_ERR_ARG;
    };
    // SAFETY: `record` holds `record_len` bytes by the caller's contract.
    let record = unsafe { raw::bytes(record, record_len) };
    match core::check_client_hello(record, buffered, &secrets, &domains, &mut cache.0, now) {
        // SAFETY: `out` is non-null and writable by the caller's contract.
        Ok(check) => unsafe { put(out, check) },
        Err(code) => code,
    }
}

/// A replay cache holding at most `max_entries` (1..=MTP_TLS_MAX_REPLAY_ENTRIES;
/// else NULL). Free with `mtp_tls_replay_cache_free`.
#[no_mangle]
pub extern "C" fn mtp_tls_replay_cache_new(max_entries: usize) -> *mut mtp_tls_replay_cache {
    ReplayCache::new(max_entries).map_or(std::ptr::null_mut(), |c| {
        Box::into_raw(Box::new(mtp_tls_replay_cache(c)))
    })
}

/// Frees a cache; NULL is a no-op.
///
/// # Safety
/// `cache` is null or from `mtp_tls_replay_cache_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_replay_cache_free(cache: *mut mtp_tls_replay_cache) {
    if !cache.is_null() {
        // SAFETY: allocated by `Box::into_raw` in `_new` and not yet freed.
        drop(unsafe { Box::from_raw(cache) });
    }
}

/// 1 if the 16-byte `key` is cached at time `now`, else 0 (entries older
/// than 172800 s are dropped first, keeping at least one). NULL: `MTP_TLS_ERR_ARG`.
///
/// # Safety
/// `cache` from `_new` (or null); `key` null or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_replay_cache_lookup(
    cache: *mut mtp_tls_replay_cache,
    key: *const u8,
    now: i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    match unsafe { (cache.as_mut(), raw::array::<16>(key)) } {
        (Some(cache), Some(key)) => i32::from(cache.0.lookup(key, now)),
        _ => MTP_TLS_ERR_ARG,
    }
}

/// Inserts `key` at time `now` (expiry first, then the oldest entry is
/// evicted if full; a present key is left unchanged). Returns 0.
///
/// # Safety
/// As `mtp_tls_replay_cache_lookup`.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_replay_cache_insert(
    cache: *mut mtp_tls_replay_cache,
    key: *const u8,
    now: i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    match unsafe { (cache.as_mut(), raw::array::<16>(key)) } {
        (Some(cache), Some(key)) => {
            cache.0.insert(key, now);
            0
        }
        _ => MTP_TLS_ERR_ARG,
    }
}

/// Number of entries (0 for NULL).
///
/// # Safety
/// `cache` from `_new` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_replay_cache_len(cache: *const mtp_tls_replay_cache) -> usize {
    // SAFETY: forwarded caller contract.
    unsafe { cache.as_ref() }.map_or(0, |c| c.0.len())
}

/// Writes the oldest entry's insert time; `MTP_TLS_ERR_EMPTY` if none.
///
/// # Safety
/// `cache` from `_new` (or null); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_replay_cache_oldest(
    cache: *const mtp_tls_replay_cache,
    out: *mut i64,
) -> i32 {
    // SAFETY: forwarded caller contract.
    match unsafe { cache.as_ref() } {
        Some(c) if !out.is_null() => {
            // SAFETY: `out` is non-null and writable by the caller's contract.
            c.0.oldest_time()
                .map_or(MTP_TLS_ERR_EMPTY, |t| unsafe { put(out, t) })
        }
        _ => MTP_TLS_ERR_ARG,
    }
}

/// Writes the 138 + N byte ServerHello flight of §2.3 to `out` (`*written`
/// = its length): `random` is exactly 32 + N bytes (the key share's X25519
/// private key, whose public key is sent, then the N fake payload bytes),
/// `cipher_suite` 1..3, N ≤ 16640, `swap_extensions` 0 or 1. Errors:
/// `MTP_TLS_ERR_ARG`, `MTP_TLS_ERR_SPACE`.
///
/// # Safety
/// `client_random`, `session_id` 32 bytes, `secret` 16 bytes (nulls give
/// `MTP_TLS_ERR_ARG`); `random`: `random_len` bytes; `out`: `out_cap`
/// writable bytes not overlapping the inputs; `written` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_build_server_hello(
    client_random: *const u8,
    session_id: *const u8,
    cipher_suite: u8,
    secret: *const u8,
    app_data_len: usize,
    swap_extensions: i32,
    random: *const u8,
    random_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let arrays = unsafe {
        (
            raw::array::<32>(client_random),
            raw::array::<32>(session_id),
            raw::array::<16>(secret),
        )
    };
    let (Some(client_random), Some(session_id), Some(secret), 0 | 1) =
        (arrays.0, arrays.1, arrays.2, swap_extensions)
    else {
        return MTP_TLS_ERR_ARG;
    };
    if (random.is_null() && random_len > 0) || (out.is_null() && out_cap > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    let (random, out) = unsafe { (raw::bytes(random, random_len), raw::bytes_mut(out, out_cap)) };
    let swap = swap_extensions == 1;
    match core::build_server_hello(
        client_random,
        session_id,
        cipher_suite,
        secret,
        app_data_len,
        swap,
        random,
        out,
    ) {
        // SAFETY: forwarded caller contract.
        Ok(n) => unsafe { put(written, n) },
        Err(code) => code,
    }
}

/// Client side: checks the flight in `data` (bytes received so far; later
/// bytes allowed) against the hello that sent `client_random` / `session_id`
/// under `secret`. Errors: `MTP_TLS_ERR_NEED_MORE`, `MTP_TLS_ERR_BAD_SERVER_HELLO`,
/// `MTP_TLS_ERR_BAD_HMAC`, `MTP_TLS_ERR_ARG`.
///
/// # Safety
/// `data`: `len` bytes; the arrays 32/32/16 bytes; `out` writable (nulls:
/// `MTP_TLS_ERR_ARG`).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_parse_server_hello(
    data: *const u8,
    len: usize,
    client_random: *const u8,
    session_id: *const u8,
    secret: *const u8,
    out: *mut ServerHelloInfo,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let arrays = unsafe {
        (
            raw::array::<32>(client_random),
            raw::array::<32>(session_id),
            raw::array::<16>(secret),
        )
    };
    let (Some(client_random), Some(session_id), Some(secret), false) = (
        arrays.0,
        arrays.1,
        arrays.2,
        out.is_null() || (data.is_null() && len > 0),
    ) else {
        return MTP_TLS_ERR_ARG;
    };
    // SAFETY: `data` has `len` readable bytes by the caller's contract.
    let data = unsafe { raw::bytes(data, len) };
    match core::parse_server_hello(data, client_random, session_id, secret) {
        // SAFETY: `out` is non-null and writable by the caller's contract.
        Ok(info) => unsafe { put(out, info) },
        Err(code) => code,
    }
}

/// Client side: writes a `total_len`-byte (517..4096) ClientHello naming
/// `domain` (1..255 bytes, no NUL) with `unix_time`, signed with `secret`,
/// that `mtp_tls_check_client_hello` accepts. `random` (64 bytes): session
/// id, GREASE, key share. Errors: `MTP_TLS_ERR_ARG`, `MTP_TLS_ERR_SPACE`.
///
/// # Safety
/// `secret` 16 bytes, `random` 64 bytes (nulls: `MTP_TLS_ERR_ARG`); `domain`:
/// `domain_len` bytes; `out`: `out_cap` writable bytes; `written` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_build_client_hello(
    secret: *const u8,
    domain: *const u8,
    domain_len: usize,
    unix_time: u32,
    random: *const u8,
    total_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (Some(secret), Some(random)) =
        (unsafe { (raw::array::<16>(secret), raw::array::<64>(random)) })
    else {
        return MTP_TLS_ERR_ARG;
    };
    if (domain.is_null() && domain_len > 0) || (out.is_null() && out_cap > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    let (domain, out) = unsafe { (raw::bytes(domain, domain_len), raw::bytes_mut(out, out_cap)) };
    match core::build_client_hello(secret, domain, unix_time, random, total_len, out) {
        // SAFETY: forwarded caller contract.
        Ok(n) => unsafe { put(written, n) },
        Err(code) => code,
    }
}

/// A record decoder: `expect_ccs` 1 for the proxy side (the client's
/// `14 03 03 00 01 01` first, first data record ≥ 64 bytes), 0 for the client
/// side (records only); other values give NULL.
#[no_mangle]
pub extern "C" fn mtp_tls_reader_new(expect_ccs: i32) -> *mut mtp_tls_reader {
    match expect_ccs {
        0 | 1 => Box::into_raw(Box::new(mtp_tls_reader(core::RecordReader::new(
            expect_ccs == 1,
        )))),
        _ => std::ptr::null_mut(),
    }
}

/// Frees a decoder; NULL is a no-op.
///
/// # Safety
/// `reader` is null or from `mtp_tls_reader_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_reader_free(reader: *mut mtp_tls_reader) {
    if !reader.is_null() {
        // SAFETY: allocated by `Box::into_raw` in `_new` and not yet freed.
        drop(unsafe { Box::from_raw(reader) });
    }
}

/// Consumes input and copies record payload bytes to `out` until the input
/// is used up or `out` is full (header bytes are consumed even when `out` is
/// full); `*consumed` / `*produced` say how much. Only headers are buffered
/// (≤ 11 bytes). A malformed byte fails the stream for good: a call that made
/// progress first returns that progress (stopping before the bad byte), the
/// next call returns the error (`MTP_TLS_ERR_BAD_CCS`, `_BAD_RECORD`,
/// `_FIRST_RECORD_SHORT`).
///
/// # Safety
/// `reader` from `_new` (null: `MTP_TLS_ERR_ARG`); `input`: `in_len` bytes;
/// `out`: `out_cap` writable bytes not overlapping `input`; `consumed` and
/// `produced` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_reader_feed(
    reader: *mut mtp_tls_reader,
    input: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    consumed: *mut usize,
    produced: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(reader) = (unsafe { reader.as_mut() }) else {
        return MTP_TLS_ERR_ARG;
    };
    if (input.is_null() && in_len > 0) || (out.is_null() && out_cap > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    match reader.0.feed(unsafe { raw::bytes(input, in_len) }, unsafe {
        raw::bytes_mut(out, out_cap)
    }) {
        // SAFETY: forwarded caller contract.
        Ok((used, made)) => unsafe { put(consumed, used) + put(produced, made) },
        Err(code) => code,
    }
}

/// Bytes `mtp_tls_wrap_records` writes for `payload_len` payload bytes
/// (SIZE_MAX if not representable).
#[no_mangle]
pub extern "C" fn mtp_tls_wrapped_len(payload_len: usize) -> usize {
    core::wrapped_len(payload_len)
}

/// Writes `payload` as `17 03 03 <BE16 len>` records of at most 1425 payload
/// bytes each (nothing for an empty payload); `*written` = bytes written.
/// `MTP_TLS_ERR_SPACE` if `out_cap < mtp_tls_wrapped_len(len)`.
///
/// # Safety
/// `payload`: `len` bytes; `out`: `out_cap` writable bytes not overlapping
/// it; `written` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_wrap_records(
    payload: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    if (payload.is_null() && len > 0) || (out.is_null() && out_cap > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    match core::wrap_records(unsafe { raw::bytes(payload, len) }, unsafe {
        raw::bytes_mut(out, out_cap)
    }) {
        // SAFETY: forwarded caller contract.
        Ok(n) => unsafe { put(written, n) },
        Err(code) => code,
    }
}

/// `public_key` = the X25519 public key of the 32-byte `private_key` (RFC
/// 7748, clamped scalar times the base point). Errors: `MTP_TLS_ERR_ARG`.
///
/// # Safety
/// `private_key` 32 readable bytes, `public_key` 32 writable bytes (nulls:
/// `MTP_TLS_ERR_ARG`).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_x25519_public_key(
    private_key: *const u8,
    public_key: *mut u8,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (Some(private), Some(public)) = (unsafe {
        (
            raw::array::<32>(private_key),
            raw::array_mut::<32>(public_key),
        )
    }) else {
        return MTP_TLS_ERR_ARG;
    };
    match core::x25519_public_key(private) {
        Ok(key) => {
            *public = key;
            0
        }
        Err(code) => code,
    }
}

/// Writes the 517-byte probe ClientHello for `domain` (1..255 bytes, no NUL)
/// to `out` (`*written` = 517): TLS 1.3, X25519 key share from `random[64..96]`,
/// client random `random[0..32]`, session id `random[32..64]`, GREASE from
/// `random[96..100]`, SNI, ALPN h2/http1.1. Errors: `MTP_TLS_ERR_ARG`,
/// `MTP_TLS_ERR_SPACE`.
///
/// # Safety
/// `domain`: `domain_len` bytes; `random`: 100 bytes; `out`: `out_cap`
/// writable bytes; `written` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_build_probe_hello(
    domain: *const u8,
    domain_len: usize,
    random: *const u8,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(random) = (unsafe { raw::array::<{ core::PROBE_RANDOM_LEN }>(random) }) else {
        return MTP_TLS_ERR_ARG;
    };
    if (domain.is_null() && domain_len > 0) || (out.is_null() && out_cap > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: forwarded caller contract.
    let (domain, out) = unsafe { (raw::bytes(domain, domain_len), raw::bytes_mut(out, out_cap)) };
    match core::build_probe_hello(domain, random, out) {
        // SAFETY: forwarded caller contract.
        Ok(n) => unsafe { put(written, n) },
        Err(code) => code,
    }
}

/// Parses what a domain sent after the probe hello with `session_id`: the
/// TLS 1.3 ServerHello (key_share and supported_versions only), an optional
/// ChangeCipherSpec, the complete `17 03 03` records. Errors:
/// `MTP_TLS_ERR_NEED_MORE` (no complete data record yet),
/// `MTP_TLS_ERR_BAD_SERVER_HELLO`, `MTP_TLS_ERR_ARG`.
///
/// # Safety
/// `data`: `len` bytes; `session_id` 32 bytes; `out` writable (nulls:
/// `MTP_TLS_ERR_ARG`).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_parse_probe_reply(
    data: *const u8,
    len: usize,
    session_id: *const u8,
    out: *mut ProbeReply,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let Some(session_id) = (unsafe { raw::array::<32>(session_id) }) else {
        return MTP_TLS_ERR_ARG;
    };
    if out.is_null() || (data.is_null() && len > 0) {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: `data` has `len` readable bytes by the caller's contract.
    let data = unsafe { raw::bytes(data, len) };
    match core::parse_probe_reply(data, session_id) {
        // SAFETY: `out` is non-null and writable by the caller's contract.
        Ok(reply) => unsafe { put(out, reply) },
        Err(code) => code,
    }
}

/// Folds `count` (≥ 1) probe replies into the profile learned at `now`
/// (upstream's rule over the flight lengths). Errors: `MTP_TLS_ERR_ARG`.
///
/// # Safety
/// `replies`: `count` readable replies; `out` writable (nulls: `MTP_TLS_ERR_ARG`).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_profile_from_replies(
    replies: *const ProbeReply,
    count: usize,
    now: i64,
    out: *mut TlsProfile,
) -> i32 {
    if replies.is_null() || out.is_null() {
        return MTP_TLS_ERR_ARG;
    }
    // SAFETY: `replies` has `count` readable elements by the caller's contract.
    let replies = unsafe { std::slice::from_raw_parts(replies, count) };
    match core::profile_from_replies(replies, now) {
        // SAFETY: `out` is non-null and writable by the caller's contract.
        Ok(profile) => unsafe { put(out, profile) },
        Err(code) => code,
    }
}

/// The fake record length for one ServerHello under `profile` (null: the
/// fallback), given a fresh random word `r`.
///
/// # Safety
/// `profile` null or readable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_profile_app_data_len(profile: *const TlsProfile, r: u32) -> usize {
    // SAFETY: null or readable by the caller's contract.
    let profile: TlsProfile = unsafe { profile.as_ref() }.copied().unwrap_or_default();
    core::profile_app_data_len(&profile, r)
}

/// Renders domain `domain`'s profile for the stats page (`prometheus` 0:
/// one `/stats` text line, 1: `/metrics` samples) at unix time `now`.
/// Writes what fits into `out` (`cap` bytes) and returns the full length.
///
/// # Safety
/// `domain`: `domain_len` bytes; `profile` readable; `out`: `cap` writable
/// bytes (nulls: nothing written, 0 returned for a null profile or a null
/// `domain` with `domain_len > 0`, as the C code does).
#[no_mangle]
pub unsafe extern "C" fn mtp_tls_render_profile_stats(
    domain: *const u8,
    domain_len: usize,
    profile: *const TlsProfile,
    now: i64,
    prometheus: i32,
    out: *mut u8,
    cap: usize,
) -> usize {
    // SAFETY: forwarded caller contract.
    let Some(&profile) = (unsafe { profile.as_ref() }) else {
        return 0;
    };
    if domain.is_null() && domain_len > 0 {
        return 0;
    }
    // SAFETY: forwarded caller contract.
    let (domain, out) = unsafe { (raw::bytes(domain, domain_len), raw::bytes_mut(out, cap)) };
    core::render_profile_stats(domain, &profile, now, prometheus != 0, out)
}
