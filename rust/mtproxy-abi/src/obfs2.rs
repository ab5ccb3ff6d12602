//! Plain data of the obfs2 contract (see the shim in mtproxy-ffi for the
//! functions): secret kinds, sizes, error codes and the secret, key and
//! header records, with their conversions to the core types.
use mtproxy_core::net::obfs2::{self, Secret};

/// Kind of a secret: `<32 hex>`.
pub const MTP_OBFS2_SECRET_PLAIN: i32 = obfs2::SECRET_PLAIN;
/// Kind of a secret: `dd<32 hex>` (padded intermediate).
pub const MTP_OBFS2_SECRET_PADDED: i32 = obfs2::SECRET_PADDED;
/// Kind of a secret: `ee<32 hex><hex(domain)>` (fake TLS).
pub const MTP_OBFS2_SECRET_FAKE_TLS: i32 = obfs2::SECRET_FAKE_TLS;
/// Bytes of the init header.
pub const MTP_OBFS2_HEADER_LEN: i32 = obfs2::HEADER_LEN as i32;
/// Bytes of a raw secret.
pub const MTP_OBFS2_SECRET_LEN: i32 = obfs2::SECRET_LEN as i32;
/// Longest domain of a fake-TLS secret.
pub const MTP_OBFS2_MAX_DOMAIN_LEN: i32 = obfs2::MAX_DOMAIN_LEN as i32;
/// Longest text `mtp_obfs2_format_secret` writes, without its NUL.
pub const MTP_OBFS2_MAX_SECRET_TEXT_LEN: i32 = obfs2::MAX_SECRET_TEXT_LEN as i32;

/// Secret text in none of the accepted forms, or a secret to format with an
/// unknown kind or an invalid domain.
pub const MTP_OBFS2_ERR_BAD_SECRET: i32 = obfs2::ERR_BAD_SECRET;
/// Fewer than 64 header bytes.
pub const MTP_OBFS2_ERR_SHORT: i32 = obfs2::ERR_SHORT;
/// No secret decrypts the header to an accepted tag.
pub const MTP_OBFS2_ERR_NO_MATCH: i32 = obfs2::ERR_NO_MATCH;
/// The client's random bytes start in a way servers could misclassify; the
/// caller retries with new random bytes.
pub const MTP_OBFS2_ERR_FORBIDDEN: i32 = obfs2::ERR_FORBIDDEN;
/// A required pointer is NULL, or the output buffer is too small.
pub const MTP_OBFS2_ERR_ARG: i32 = obfs2::ERR_ARG;

/// A parsed secret; `domain[0..domain_len)` is the fake-TLS domain (no NUL),
/// `domain_len` is 0 for the other kinds.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_obfs2_secret {
    pub kind: i32,
    pub key: [u8; 16],
    pub domain: [u8; 253],
    pub domain_len: usize,
}

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_obfs2_ctr_key` from it.
pub use mtproxy_core::net::obfs2::CtrKey as mtp_obfs2_ctr_key;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_obfs2_server_header` from it.
pub use mtproxy_core::net::obfs2::ServerHeader as mtp_obfs2_server_header;

/// Defined once, as the core's `repr(C)` type: `cargo xtask gen` writes the
/// header's `mtp_obfs2_client_header` from it.
pub use mtproxy_core::net::obfs2::ClientHeader as mtp_obfs2_client_header;

/// All zeros (kind `MTP_OBFS2_SECRET_PLAIN`, no domain), as C's `= {0}`.
impl Default for mtp_obfs2_secret {
    fn default() -> Self {
        mtp_obfs2_secret {
            kind: 0,
            key: [0; 16],
            domain: [0; 253],
            domain_len: 0,
        }
    }
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
