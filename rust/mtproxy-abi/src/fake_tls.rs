//! Plain data of the fake-tls contract (see the shim in mtproxy-ffi for the
//! functions and the opaque cache and reader handles): error codes,
//! verdicts, rejection reasons, sizes and probe policy, and the domain,
//! check, ServerHello, probe-reply and profile records, with their
//! conversions to the core types.
use mtproxy_core::net::fake_tls as tls;

/// Not enough bytes yet.
pub const MTP_TLS_ERR_NEED_MORE: i32 = -1;
/// Not a fake-TLS ClientHello record header (`16 03 01`, length ≥ 0x200).
pub const MTP_TLS_ERR_NOT_TLS: i32 = -2;
/// A null pointer or an argument out of its documented range.
pub const MTP_TLS_ERR_ARG: i32 = -3;
/// The output buffer is too small.
pub const MTP_TLS_ERR_SPACE: i32 = -4;
/// Record layer: the client's first 6 bytes are not `14 03 03 00 01 01`.
pub const MTP_TLS_ERR_BAD_CCS: i32 = -5;
/// Record layer: a record header other than `17 03 03`.
pub const MTP_TLS_ERR_BAD_RECORD: i32 = -6;
/// Record layer: the client's first data record is shorter than 64 bytes.
pub const MTP_TLS_ERR_FIRST_RECORD_SHORT: i32 = -7;
/// Client side: the ServerHello flight does not have the §2.3 layout.
pub const MTP_TLS_ERR_BAD_SERVER_HELLO: i32 = -8;
/// Client side: the server random is not the expected HMAC.
pub const MTP_TLS_ERR_BAD_HMAC: i32 = -9;
/// The replay cache is empty.
pub const MTP_TLS_ERR_EMPTY: i32 = -10;

/// Verdicts: serve / relay to the default domain / relay to the SNI domain.
pub const MTP_TLS_VERDICT_ACCEPT: i32 = 0;
pub const MTP_TLS_VERDICT_RELAY_DEFAULT: i32 = 1;
pub const MTP_TLS_VERDICT_RELAY_SNI: i32 = 2;

/// Rejection reasons, in check order. NO_SNI and UNKNOWN_SNI relay to the
/// default domain, the others to the SNI domain.
pub const MTP_TLS_REJECT_NONE: i32 = 0;
/// No well-formed server_name extension.
pub const MTP_TLS_REJECT_NO_SNI: i32 = 1;
/// The SNI names none of the allowed domains (exact, case-sensitive).
pub const MTP_TLS_REJECT_UNKNOWN_SNI: i32 = 2;
/// More bytes buffered than the record.
pub const MTP_TLS_REJECT_TRAILING_DATA: i32 = 3;
/// Record longer than 4096 bytes.
pub const MTP_TLS_REJECT_TOO_LONG: i32 = 4;
/// Client random seen before.
pub const MTP_TLS_REJECT_REPLAY: i32 = 5;
/// No secret's HMAC matches.
pub const MTP_TLS_REJECT_BAD_HMAC: i32 = 6;
/// Timestamp more than 3 s ahead, or too old (§2.2 step 6).
pub const MTP_TLS_REJECT_BAD_TIME: i32 = 7;
/// The first non-GREASE cipher suite is not 13 01/02/03.
pub const MTP_TLS_REJECT_BAD_CIPHER: i32 = 8;

/// Replay-cache entry lifetime in seconds, and the largest entry limit.
pub const MTP_TLS_REPLAY_EXPIRY: i32 = 172_800;
pub const MTP_TLS_MAX_REPLAY_ENTRIES: i32 = 1 << 22;
/// Largest ClientHello record (header included) and the size the builder
/// makes at least.
pub const MTP_TLS_MAX_HELLO_RECORD: i32 = 4096;
pub const MTP_TLS_MIN_CLIENT_HELLO: i32 = 517;
/// ServerHello flight: 138 + N bytes, N ≤ 16640.
pub const MTP_TLS_SERVER_HELLO_FIXED_LEN: i32 = 138;
pub const MTP_TLS_MAX_FAKE_APP_DATA: i32 = 16_640;
/// Largest payload of an outbound record.
pub const MTP_TLS_MAX_RECORD_PAYLOAD: i32 = 1425;
/// Domain probe (§2.4): hello length, random bytes it takes, records of a
/// flight a reply describes.
pub const MTP_TLS_PROBE_HELLO_LEN: i32 = 517;
pub const MTP_TLS_PROBE_RANDOM_LEN: i32 = 100;
pub const MTP_TLS_PROBE_MAX_RECORDS: i32 = 8;
/// Probe policy: connections per domain per round, the start-up round's
/// deadline, the quiet time that ends a flight, the re-probe interval and
/// its random extra (seconds).
pub const MTP_TLS_PROBE_CONNECTIONS: i32 = 20;
pub const MTP_TLS_PROBE_DEADLINE_MS: i32 = 3000;
pub const MTP_TLS_PROBE_QUIET_MS: i32 = 150;
pub const MTP_TLS_PROBE_INTERVAL_S: i32 = 4 * 3600;
pub const MTP_TLS_PROBE_JITTER_S: i32 = 1800;
/// Fake record length with no learned profile: BASE + r % SPREAD.
pub const MTP_TLS_FALLBACK_APP_DATA_BASE: i32 = 2500;
pub const MTP_TLS_FALLBACK_APP_DATA_SPREAD: i32 = 1120;

const _: () = assert!(
    MTP_TLS_ERR_NEED_MORE == tls::ERR_NEED_MORE
        && MTP_TLS_ERR_NOT_TLS == tls::ERR_NOT_TLS
        && MTP_TLS_ERR_ARG == tls::ERR_ARG
        && MTP_TLS_ERR_SPACE == tls::ERR_SPACE
        && MTP_TLS_ERR_BAD_CCS == tls::ERR_BAD_CCS
        && MTP_TLS_ERR_BAD_RECORD == tls::ERR_BAD_RECORD
        && MTP_TLS_ERR_FIRST_RECORD_SHORT == tls::ERR_FIRST_RECORD_SHORT
        && MTP_TLS_ERR_BAD_SERVER_HELLO == tls::ERR_BAD_SERVER_HELLO
        && MTP_TLS_ERR_BAD_HMAC == tls::ERR_BAD_HMAC
        && MTP_TLS_ERR_EMPTY == tls::ERR_EMPTY
        && MTP_TLS_VERDICT_RELAY_SNI == tls::VERDICT_RELAY_SNI
        && MTP_TLS_REJECT_BAD_CIPHER == tls::REJECT_BAD_CIPHER
        && MTP_TLS_REPLAY_EXPIRY as i64 == tls::REPLAY_EXPIRY
        && MTP_TLS_MAX_REPLAY_ENTRIES as usize == tls::MAX_REPLAY_ENTRIES
        && MTP_TLS_MAX_HELLO_RECORD as usize == tls::MAX_HELLO_RECORD
        && MTP_TLS_MIN_CLIENT_HELLO as usize == tls::MIN_CLIENT_HELLO
        && MTP_TLS_SERVER_HELLO_FIXED_LEN as usize == tls::SERVER_HELLO_FIXED_LEN
        && MTP_TLS_MAX_FAKE_APP_DATA as usize == tls::MAX_FAKE_APP_DATA
        && MTP_TLS_MAX_RECORD_PAYLOAD as usize == tls::MAX_RECORD_PAYLOAD
        && MTP_TLS_PROBE_HELLO_LEN as usize == tls::PROBE_HELLO_LEN
        && MTP_TLS_PROBE_RANDOM_LEN as usize == tls::PROBE_RANDOM_LEN
        && MTP_TLS_PROBE_MAX_RECORDS as usize == tls::PROBE_MAX_RECORDS
        && MTP_TLS_PROBE_CONNECTIONS as usize == tls::PROBE_CONNECTIONS
        && MTP_TLS_PROBE_DEADLINE_MS as u64 == tls::PROBE_DEADLINE_MS
        && MTP_TLS_PROBE_QUIET_MS as u64 == tls::PROBE_QUIET_MS
        && MTP_TLS_PROBE_INTERVAL_S as u64 == tls::PROBE_INTERVAL_S
        && MTP_TLS_PROBE_JITTER_S as u64 == tls::PROBE_JITTER_S
        && MTP_TLS_FALLBACK_APP_DATA_BASE as usize == tls::FALLBACK_APP_DATA_BASE
        && MTP_TLS_FALLBACK_APP_DATA_SPREAD as usize == tls::FALLBACK_APP_DATA_SPREAD
);

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
