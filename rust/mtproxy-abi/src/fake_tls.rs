//! Plain data of the fake-tls contract (see the shim in mtproxy-ffi for the
//! functions and the opaque cache and reader handles): error codes,
//! verdicts, rejection reasons, sizes and probe policy, and the domain,
//! check, ServerHello, probe-reply and profile records, with their
//! conversions to the core types.
use mtproxy_core::net::fake_tls as tls;

/// Not enough bytes yet.
pub const MTP_TLS_ERR_NEED_MORE: i32 = tls::ERR_NEED_MORE;
/// Not a fake-TLS ClientHello record header (`16 03 01`, length ≥ 0x200).
pub const MTP_TLS_ERR_NOT_TLS: i32 = tls::ERR_NOT_TLS;
/// A null pointer or an argument out of its documented range.
pub const MTP_TLS_ERR_ARG: i32 = tls::ERR_ARG;
/// The output buffer is too small.
pub const MTP_TLS_ERR_SPACE: i32 = tls::ERR_SPACE;
/// Record layer: the client's first 6 bytes are not `14 03 03 00 01 01`.
pub const MTP_TLS_ERR_BAD_CCS: i32 = tls::ERR_BAD_CCS;
/// Record layer: a record header other than `17 03 03`.
pub const MTP_TLS_ERR_BAD_RECORD: i32 = tls::ERR_BAD_RECORD;
/// Record layer: the client's first data record is shorter than 64 bytes.
pub const MTP_TLS_ERR_FIRST_RECORD_SHORT: i32 = tls::ERR_FIRST_RECORD_SHORT;
/// Client side: the ServerHello flight does not have the §2.3 layout.
pub const MTP_TLS_ERR_BAD_SERVER_HELLO: i32 = tls::ERR_BAD_SERVER_HELLO;
/// Client side: the server random is not the expected HMAC.
pub const MTP_TLS_ERR_BAD_HMAC: i32 = tls::ERR_BAD_HMAC;
/// The replay cache is empty.
pub const MTP_TLS_ERR_EMPTY: i32 = tls::ERR_EMPTY;

/// Verdicts: serve / relay to the default domain / relay to the SNI domain.
pub const MTP_TLS_VERDICT_ACCEPT: i32 = tls::VERDICT_ACCEPT;
pub const MTP_TLS_VERDICT_RELAY_DEFAULT: i32 = tls::VERDICT_RELAY_DEFAULT;
pub const MTP_TLS_VERDICT_RELAY_SNI: i32 = tls::VERDICT_RELAY_SNI;

/// Rejection reasons, in check order. NO_SNI and UNKNOWN_SNI relay to the
/// default domain, the others to the SNI domain.
pub const MTP_TLS_REJECT_NONE: i32 = tls::REJECT_NONE;
/// No well-formed server_name extension.
pub const MTP_TLS_REJECT_NO_SNI: i32 = tls::REJECT_NO_SNI;
/// The SNI names none of the allowed domains (exact, case-sensitive).
pub const MTP_TLS_REJECT_UNKNOWN_SNI: i32 = tls::REJECT_UNKNOWN_SNI;
/// More bytes buffered than the record.
pub const MTP_TLS_REJECT_TRAILING_DATA: i32 = tls::REJECT_TRAILING_DATA;
/// Record longer than 4096 bytes.
pub const MTP_TLS_REJECT_TOO_LONG: i32 = tls::REJECT_TOO_LONG;
/// Client random seen before.
pub const MTP_TLS_REJECT_REPLAY: i32 = tls::REJECT_REPLAY;
/// No secret's HMAC matches.
pub const MTP_TLS_REJECT_BAD_HMAC: i32 = tls::REJECT_BAD_HMAC;
/// Timestamp more than 3 s ahead, or too old (§2.2 step 6).
pub const MTP_TLS_REJECT_BAD_TIME: i32 = tls::REJECT_BAD_TIME;
/// The first non-GREASE cipher suite is not 13 01/02/03.
pub const MTP_TLS_REJECT_BAD_CIPHER: i32 = tls::REJECT_BAD_CIPHER;

/// Replay-cache entry lifetime in seconds, and the largest entry limit.
pub const MTP_TLS_REPLAY_EXPIRY: i32 = tls::REPLAY_EXPIRY as i32;
pub const MTP_TLS_MAX_REPLAY_ENTRIES: i32 = tls::MAX_REPLAY_ENTRIES as i32;
/// Largest ClientHello record (header included) and the size the builder
/// makes at least.
pub const MTP_TLS_MAX_HELLO_RECORD: i32 = tls::MAX_HELLO_RECORD as i32;
pub const MTP_TLS_MIN_CLIENT_HELLO: i32 = tls::MIN_CLIENT_HELLO as i32;
/// ServerHello flight: 138 + N bytes, N ≤ 16640.
pub const MTP_TLS_SERVER_HELLO_FIXED_LEN: i32 = tls::SERVER_HELLO_FIXED_LEN as i32;
pub const MTP_TLS_MAX_FAKE_APP_DATA: i32 = tls::MAX_FAKE_APP_DATA as i32;
/// Largest payload of an outbound record.
pub const MTP_TLS_MAX_RECORD_PAYLOAD: i32 = tls::MAX_RECORD_PAYLOAD as i32;
/// Domain probe (§2.4): hello length, random bytes it takes, records of a
/// flight a reply describes.
pub const MTP_TLS_PROBE_HELLO_LEN: i32 = tls::PROBE_HELLO_LEN as i32;
pub const MTP_TLS_PROBE_RANDOM_LEN: i32 = tls::PROBE_RANDOM_LEN as i32;
pub const MTP_TLS_PROBE_MAX_RECORDS: i32 = tls::PROBE_MAX_RECORDS as i32;
/// Probe policy: connections per domain per round, the start-up round's
/// deadline, the quiet time that ends a flight, the re-probe interval and
/// its random extra (seconds).
pub const MTP_TLS_PROBE_CONNECTIONS: i32 = tls::PROBE_CONNECTIONS as i32;
pub const MTP_TLS_PROBE_DEADLINE_MS: i32 = tls::PROBE_DEADLINE_MS as i32;
pub const MTP_TLS_PROBE_QUIET_MS: i32 = tls::PROBE_QUIET_MS as i32;
pub const MTP_TLS_PROBE_INTERVAL_S: i32 = tls::PROBE_INTERVAL_S as i32;
pub const MTP_TLS_PROBE_JITTER_S: i32 = tls::PROBE_JITTER_S as i32;
/// Fake record length with no learned profile: BASE + r % SPREAD.
pub const MTP_TLS_FALLBACK_APP_DATA_BASE: i32 = tls::FALLBACK_APP_DATA_BASE as i32;
pub const MTP_TLS_FALLBACK_APP_DATA_SPREAD: i32 = tls::FALLBACK_APP_DATA_SPREAD as i32;

/// One allowed domain name (bytes, no terminator needed).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_tls_domain {
    pub data: *const u8,
    pub len: usize,
}

/// An empty name (null pointer, length 0).
impl Default for mtp_tls_domain {
    fn default() -> Self {
        mtp_tls_domain {
            data: core::ptr::null(),
            len: 0,
        }
    }
}

/// Borrows the bytes: the pointer is valid as long as `name` is.
impl From<&[u8]> for mtp_tls_domain {
    fn from(name: &[u8]) -> Self {
        mtp_tls_domain {
            data: name.as_ptr(),
            len: name.len(),
        }
    }
}

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_tls_hello_check` from it.
pub use mtproxy_core::net::fake_tls::HelloCheck as mtp_tls_hello_check;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_tls_server_hello_info` from it.
pub use mtproxy_core::net::fake_tls::ServerHelloInfo as mtp_tls_server_hello_info;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_tls_probe_reply` from it.
pub use mtproxy_core::net::fake_tls::ProbeReply as mtp_tls_probe_reply;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_tls_profile` from it.
pub use mtproxy_core::net::fake_tls::TlsProfile as mtp_tls_profile;
