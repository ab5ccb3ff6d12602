//! Learning what a fronting domain's TLS 1.3 first flight looks like, so the
//! fake ServerHello can look the same (docs/PROTOCOL.md §2.4).
//!
//! Sans-IO, like the rest of the module: the runtime connects to the domain,
//! sends [`build_probe_hello`], reads what comes back and hands the bytes to
//! [`parse_probe_reply`]; [`profile_from_replies`] folds the replies of one
//! probe round into a [`TlsProfile`], and [`profile_app_data_len`] picks the
//! fake record length for each ServerHello.
//!
//! A Telegram client accepts exactly one application-data record in the
//! ServerHello flight (it checks the HMAC over ServerHello, ChangeCipherSpec
//! and one `17 03 03` record, and reads every later record as proxy data).
//! A domain that sends its encrypted flight as several records therefore
//! cannot be copied record for record; the fake record then has the same
//! number of bytes on the wire as the domain's whole flight (the payloads
//! plus the headers of the records after the first), capped at the TLS
//! record limit.
use super::server_hello::MAX_FAKE_APP_DATA;
use super::{be16, x25519_public_key, ERR_ARG, ERR_BAD_SERVER_HELLO, ERR_NEED_MORE, ERR_SPACE};

/// Length of the probe ClientHello: the size Chrome and Telegram's clients
/// send, padded to it with the padding extension.
pub const PROBE_HELLO_LEN: usize = 517;
/// Random bytes a probe hello takes: client random (32), session id (32),
/// X25519 private key (32), GREASE seeds (4; three are used).
pub const PROBE_RANDOM_LEN: usize = 100;
/// Application-data records of one flight that a reply describes.
pub const PROBE_MAX_RECORDS: usize = 8;
/// Connections per domain in one probe round (as upstream).
pub const PROBE_CONNECTIONS: usize = 20;
/// A probe round at start-up gives up after this long (start-up waits).
pub const PROBE_DEADLINE_MS: u64 = 3000;
/// After a complete record, a flight is over when the domain is quiet this long.
pub const PROBE_QUIET_MS: u64 = 150;
/// Probes are repeated every `INTERVAL + r % JITTER` seconds.
pub const PROBE_INTERVAL_S: u64 = 4 * 3600;
pub const PROBE_JITTER_S: u64 = 1800;
/// The fallback fake record length when nothing was learned: `BASE + r %
/// SPREAD` (upstream's "default response settings").
pub const FALLBACK_APP_DATA_BASE: usize = 2500;
pub const FALLBACK_APP_DATA_SPREAD: usize = 1120;

/// What one probe connection saw of a domain's first flight (§2.4).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProbeReply {
    /// 1 if the ServerHello put supported_versions before key_share.
    pub extensions_swapped: i32,
    /// The `xx` of the `13 xx` suite the server chose.
    pub cipher_suite: u8,
    /// Complete application-data records seen (at most 8, `PROBE_MAX_RECORDS`).
    pub record_count: usize,
    /// Their payload lengths, in order (unused entries 0).
    pub record_lens: [usize; PROBE_MAX_RECORDS],
    /// Bytes of one record carrying the whole encrypted flight: the payloads
    /// plus the 5-byte headers of the records after the first, capped at
    /// 16,640 (`MAX_FAKE_APP_DATA`).
    pub flight_len: usize,
}

/// How the fake ServerHello looks for one domain: learned from a probe
/// (`learned` 1) or the fallback (all zero).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TlsProfile {
    /// 1 when learned from a probe, 0 for the fallback.
    pub learned: i32,
    /// 1 to put supported_versions before key_share.
    pub extensions_swapped: i32,
    /// N, the fake application-data length (learned profiles).
    pub app_data_len: usize,
    /// 1 to send N−1, N or N+1 (probability ¼, ½, ¼) instead of N.
    pub randomize: i32,
    /// Records the domain's flight had (reported in the stats).
    pub record_count: usize,
    /// Unix time of the probe that produced it (0 for the fallback).
    pub learned_at: i64,
}

/// The fake record length for one ServerHello under `profile`; `r` is a
/// fresh random word.
pub fn profile_app_data_len(profile: &TlsProfile, r: u32) -> usize {
    let r = r as usize;
    if profile.learned == 0 {
        return FALLBACK_APP_DATA_BASE + r % FALLBACK_APP_DATA_SPREAD;
    }
    let n = profile.app_data_len;
    let picked = if profile.randomize == 0 {
        n
    } else {
        match r % 4 {
            0 => n.saturating_sub(1),
            3 => n.saturating_add(1),
            _ => n,
        }
    };
    picked.clamp(1, MAX_FAKE_APP_DATA)
}

/// Folds the replies of one probe round into a profile learned at `now`
/// (upstream's rule over the flight lengths: all equal → that length, fixed;
/// a spread of at most 3 → the largest minus one, randomised; otherwise the
/// rounded mean, randomised). The extension order and record count are the
/// first reply's. Errors: `ERR_ARG` for no replies.
pub fn profile_from_replies(replies: &[ProbeReply], now: i64) -> Result<TlsProfile, i32> {
    let first = replies.first().ok_or(ERR_ARG)?;
    let lens = replies.iter().map(|r| r.flight_len);
    let (min, max) = lens
        .clone()
        .fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
    let sum: usize = lens.sum();
    let count = replies.len();
    let (app_data_len, randomize) = if min == max {
        (max, 0)
    } else if max - min <= 3 {
        (max - 1, 1)
    } else {
        ((sum + count / 2) / count, 1)
    };
    Ok(TlsProfile {
        learned: 1,
        extensions_swapped: first.extensions_swapped,
        // A one-byte flight randomised down would be empty.
        app_data_len: app_data_len.clamp(2, MAX_FAKE_APP_DATA - 1),
        randomize,
        record_count: first.record_count,
        learned_at: now,
    })
}

/// Writes the 517-byte probe ClientHello for `domain` (1..=255 bytes, no
/// NUL) to `out`: TLS 1.3 with a real X25519 key share, GREASE, SNI, ALPN
/// `h2` / `http/1.1`, the suites and extensions of a current Chrome.
/// Returns [`PROBE_HELLO_LEN`]. Errors: `ERR_ARG`, `ERR_SPACE`.
pub fn build_probe_hello(
    domain: &[u8],
    random: &[u8; PROBE_RANDOM_LEN],
    out: &mut [u8],
) -> Result<usize, i32> {
    if domain.is_empty() || domain.len() > super::MAX_DOMAIN_LEN || domain.contains(&0) {
        return Err(ERR_ARG);
    }
    let out = out.get_mut(..PROBE_HELLO_LEN).ok_or(ERR_SPACE)?;
    let grease = |i: usize| (random[96 + i] & 0xf0) | 0x0a;
    // As Chrome: one GREASE group in supported_groups and key_share, another
    // in supported_versions, and two GREASE extensions of different types
    // (a repeated extension type is refused by real servers).
    let (g0, g1, g2) = (grease(0), grease(1), grease(2));
    let mut private = [0u8; 32];
    private.copy_from_slice(&random[64..96]);
    let key_share = x25519_public_key(&private)?;
    let n = domain.len();
    let be16b = |v: usize| u16::try_from(v).unwrap_or(u16::MAX).to_be_bytes();

    let mut ext: Vec<u8> = Vec::with_capacity(PROBE_HELLO_LEN);
    ext.extend_from_slice(&[g0, g0, 0x00, 0x00]);
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&be16b(n + 5));
    ext.extend_from_slice(&be16b(n + 3));
    ext.push(0x00);
    ext.extend_from_slice(&be16b(n));
    ext.extend_from_slice(domain);
    ext.extend_from_slice(&[
        0x00, 0x17, 0x00, 0x00, // extended_master_secret
        0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info
        0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, g1, g1, 0x00, 0x1d, 0x00, 0x17, 0x00,
        0x18, // supported_groups: GREASE, x25519, P-256, P-384
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats
        0x00, 0x23, 0x00, 0x00, // session_ticket
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, b'h', b'2', 0x08, b'h', b't', b't', b'p', b'/',
        b'1', b'.', b'1', // ALPN
        0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, // status_request
        0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08,
        0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01, // signature_algorithms
        0x00, 0x12, 0x00, 0x00, // signed_certificate_timestamp
        0x00, 0x33, 0x00, 0x2b, 0x00, 0x29, g1, g1, 0x00, 0x01, 0x00, 0x00, 0x1d, 0x00,
        0x20, // key_share: GREASE (1 byte), x25519
    ]);
    ext.extend_from_slice(&key_share);
    ext.extend_from_slice(&[
        0x00,
        0x2d,
        0x00,
        0x02,
        0x01,
        0x01, // psk_key_exchange_modes
        0x00,
        0x2b,
        0x00,
        0x07,
        0x06,
        g2,
        g2,
        0x03,
        0x04,
        0x03,
        0x03, // supported_versions
        0x00,
        0x1b,
        0x00,
        0x03,
        0x02,
        0x00,
        0x02, // compress_certificate: brotli
        g0 ^ 0x10,
        g0 ^ 0x10,
        0x00,
        0x01,
        0x00, // GREASE extension
    ]);
    // Record header 5, handshake header 4, version 2, random 32, session id
    // 33, suites 2 + 32, compression 2, extensions length 2: 114 bytes.
    const HEAD_LEN: usize = 114;
    let padding = PROBE_HELLO_LEN
        .checked_sub(HEAD_LEN + ext.len() + 4)
        .ok_or(ERR_ARG)?;
    ext.extend_from_slice(&[0x00, 0x15]);
    ext.extend_from_slice(&be16b(padding));
    ext.resize(ext.len() + padding, 0);

    let mut hello: Vec<u8> = Vec::with_capacity(PROBE_HELLO_LEN);
    hello.extend_from_slice(&[0x16, 0x03, 0x01]);
    hello.extend_from_slice(&be16b(PROBE_HELLO_LEN - 5));
    hello.extend_from_slice(&[0x01, 0x00]);
    hello.extend_from_slice(&be16b(PROBE_HELLO_LEN - 9));
    hello.extend_from_slice(&[0x03, 0x03]);
    hello.extend_from_slice(&random[..32]);
    hello.push(0x20);
    hello.extend_from_slice(&random[32..64]);
    hello.extend_from_slice(&[
        0x00, 0x20, g0, g0, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c,
        0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00,
        0x2f, 0x00, 0x35,
    ]);
    hello.extend_from_slice(&[0x01, 0x00]);
    hello.extend_from_slice(&be16b(ext.len()));
    hello.extend_from_slice(&ext);
    if hello.len() != PROBE_HELLO_LEN {
        return Err(ERR_ARG);
    }
    out.copy_from_slice(&hello);
    Ok(PROBE_HELLO_LEN)
}

/// The special random of a HelloRetryRequest (RFC 8446 §4.1.3).
pub(super) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Checks the ServerHello record at the start of `data`: a TLS 1.3
/// ServerHello (not a retry request) echoing `session_id`, suite `13 xx`,
/// exactly the extensions key_share (x25519) and supported_versions (03 04).
/// Returns (record length, swapped, suite).
fn parse_server_hello_record(data: &[u8], session_id: &[u8; 32]) -> Result<(usize, i32, u8), i32> {
    let header = data.get(..5).ok_or(ERR_NEED_MORE)?;
    if header[..3] != [0x16, 0x03, 0x03] {
        return Err(ERR_BAD_SERVER_HELLO);
    }
    let record_len = 5 + be16(header, 3).ok_or(ERR_NEED_MORE)?;
    let record = data.get(..record_len).ok_or(ERR_NEED_MORE)?;
    let body = &record[5..];
    let layout_ok = body.first() == Some(&0x02)
        && body
            .get(1..4)
            .map(|l| l[0] == 0 && be16(l, 1) == Some(body.len() - 4))
            == Some(true)
        && body.get(4..6) == Some(&[0x03, 0x03][..])
        && body.get(6..38).is_some_and(|random| random != HRR_RANDOM)
        && body.get(38) == Some(&0x20)
        && body.get(39..71) == Some(&session_id[..])
        && body.get(71) == Some(&0x13)
        && body.get(73) == Some(&0x00);
    if !layout_ok {
        return Err(ERR_BAD_SERVER_HELLO);
    }
    let suite = body[72];
    let ext_len = be16(body, 74).ok_or(ERR_BAD_SERVER_HELLO)?;
    let exts = body
        .get(76..)
        .filter(|e| e.len() == ext_len)
        .ok_or(ERR_BAD_SERVER_HELLO)?;
    const KEY_SHARE: [u8; 8] = [0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20];
    const VERSIONS: [u8; 6] = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
    let swapped = if exts.len() == 46 && exts.starts_with(&KEY_SHARE) && exts.ends_with(&VERSIONS) {
        0
    } else if exts.len() == 46 && exts.starts_with(&VERSIONS) && exts[6..14] == KEY_SHARE {
        1
    } else {
        return Err(ERR_BAD_SERVER_HELLO);
    };
    Ok((record_len, swapped, suite))
}

/// Parses the bytes a domain sent after the probe hello with `session_id`:
/// the ServerHello record, an optional ChangeCipherSpec, then the complete
/// `17 03 03` records present (at most [`PROBE_MAX_RECORDS`]; a trailing
/// partial record is not counted). Errors: `ERR_NEED_MORE` (no complete
/// application-data record yet), `ERR_BAD_SERVER_HELLO` (anything else: not
/// TLS 1.3, a retry request, other extensions, an alert).
pub fn parse_probe_reply(data: &[u8], session_id: &[u8; 32]) -> Result<ProbeReply, i32> {
    let (mut at, swapped, suite) = parse_server_hello_record(data, session_id)?;
    const CCS: [u8; 6] = [0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    match data.get(at..at + CCS.len()) {
        Some(ccs) if ccs == CCS => at += CCS.len(),
        Some(other) if other[0] == 0x14 => return Err(ERR_BAD_SERVER_HELLO),
        Some(_) => {}
        None if data.len() > at && data[at] != 0x14 && data[at] != 0x17 => {
            return Err(ERR_BAD_SERVER_HELLO)
        }
        None => return Err(ERR_NEED_MORE),
    }
    let mut reply = ProbeReply {
        extensions_swapped: swapped,
        cipher_suite: suite,
        ..ProbeReply::default()
    };
    let mut wire = 0usize;
    while reply.record_count < PROBE_MAX_RECORDS {
        let Some(header) = data.get(at..at + 5) else {
            if data.get(at).is_some_and(|&b| b != 0x17) {
                return Err(ERR_BAD_SERVER_HELLO);
            }
            break;
        };
        if header[..3] != [0x17, 0x03, 0x03] {
            return Err(ERR_BAD_SERVER_HELLO);
        }
        let len = be16(header, 3).unwrap_or(0);
        if len == 0 || data.len() < at + 5 + len {
            break;
        }
        reply.record_lens[reply.record_count] = len;
        wire += if reply.record_count == 0 {
            len
        } else {
            5 + len
        };
        reply.record_count += 1;
        at += 5 + len;
    }
    if reply.record_count == 0 {
        return Err(ERR_NEED_MORE);
    }
    reply.flight_len = wire.min(MAX_FAKE_APP_DATA);
    Ok(reply)
}

/// Renders one domain's profile for the stats page: `/stats` text
/// (`prometheus` false) as one `fake_tls_profile_<domain>` line, or
/// Prometheus samples labelled with the domain. Bytes of the name other
/// than `A-Z a-z 0-9 . -` become `_`. Writes what fits into `out` and
/// returns the full length.
pub fn render_profile_stats(
    domain: &[u8],
    profile: &TlsProfile,
    now: i64,
    prometheus: bool,
    out: &mut [u8],
) -> usize {
    let name: String = domain
        .iter()
        .take(255)
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect();
    let learned = profile.learned != 0;
    let age = now.saturating_sub(profile.learned_at).max(0);
    let text = match (prometheus, learned) {
        (false, false) => format!("fake_tls_profile_{name}\tfallback\n"),
        (false, true) => format!(
            "fake_tls_profile_{name}\tlearned age={age} len={} random={} records={} order={}\n",
            profile.app_data_len,
            profile.randomize,
            profile.record_count,
            if profile.extensions_swapped != 0 {
                "supported_versions,key_share"
            } else {
                "key_share,supported_versions"
            }
        ),
        (true, false) => format!("mtproxy_fake_tls_profile_learned{{domain=\"{name}\"}} 0\n"),
        (true, true) => format!(
            "mtproxy_fake_tls_profile_learned{{domain=\"{name}\"}} 1\n\
             mtproxy_fake_tls_profile_age_seconds{{domain=\"{name}\"}} {age}\n\
             mtproxy_fake_tls_profile_app_data_len{{domain=\"{name}\"}} {}\n",
            profile.app_data_len
        ),
    };
    let n = text.len().min(out.len());
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    text.len()
}
