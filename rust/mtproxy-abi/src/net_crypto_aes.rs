//! Plain data of the net-crypto-aes contract (see the shim in mtproxy-ffi
//! for the functions): purposes, error codes and the key-parameter struct,
//! with its conversions to and from the core type.
use mtproxy_core::crypto::net_crypto_aes::RpcKeyParams;

/// Keys for the proxy → middle-end direction (hashes the string "CLIENT").
pub const MTP_RPC_PURPOSE_CLIENT: i32 = 0;
/// Keys for the middle-end → proxy direction (hashes the string "SERVER").
pub const MTP_RPC_PURPOSE_SERVER: i32 = 1;

/// The secret is not 32..=256 bytes long.
pub const MTP_RPC_KEY_ERR_SECRET_LEN: i32 = -1;
/// A null pointer (other than a zero-length secret) or an unknown purpose.
pub const MTP_RPC_KEY_ERR_ARG: i32 = -2;

/// The secret file cannot be opened or read (a directory, for one).
pub const MTP_SECRET_ERR_OPEN: i32 = -1;
/// The secret file has fewer than 32 bytes.
pub const MTP_SECRET_ERR_TOO_SHORT: i32 = -2;
/// The secret file has more than 256 bytes.
pub const MTP_SECRET_ERR_TOO_LONG: i32 = -3;
/// `cap` is smaller than the secret.
pub const MTP_SECRET_ERR_BUFFER: i32 = -4;
/// A null `path`, `out_len`, or `out` with `cap > 0`.
pub const MTP_SECRET_ERR_ARG: i32 = -5;

/// One proxy ↔ middle-end connection as seen by the proxy ("server" is the
/// middle-end, "client" the proxy). IPv4 addresses are host-order integers
/// (127.0.0.1 is 0x7f000001). With `use_ipv6 != 0` the IPv4 fields are ignored
/// (hashed as zero) and the two IPv6 addresses (network byte order) are used.
/// No padding: every field sits at a multiple of its alignment (84 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_rpc_key_params {
    pub nonce_server: [u8; 16],
    pub nonce_client: [u8; 16],
    pub client_timestamp: i32,
    pub server_ip: u32,
    pub client_ip: u32,
    pub client_port: u16,
    pub server_port: u16,
    pub use_ipv6: i32,
    pub server_ipv6: [u8; 16],
    pub client_ipv6: [u8; 16],
}

impl From<&mtp_rpc_key_params> for RpcKeyParams {
    fn from(p: &mtp_rpc_key_params) -> Self {
        RpcKeyParams {
            nonce_server: p.nonce_server,
            nonce_client: p.nonce_client,
            client_timestamp: p.client_timestamp,
            server_ip: p.server_ip,
            client_ip: p.client_ip,
            client_port: p.client_port,
            server_port: p.server_port,
            use_ipv6: p.use_ipv6 != 0,
            server_ipv6: p.server_ipv6,
            client_ipv6: p.client_ipv6,
        }
    }
}

impl From<&RpcKeyParams> for mtp_rpc_key_params {
    fn from(p: &RpcKeyParams) -> Self {
        mtp_rpc_key_params {
            nonce_server: p.nonce_server,
            nonce_client: p.nonce_client,
            client_timestamp: p.client_timestamp,
            server_ip: p.server_ip,
            client_ip: p.client_ip,
            client_port: p.client_port,
            server_port: p.server_port,
            use_ipv6: i32::from(p.use_ipv6),
            server_ipv6: p.server_ipv6,
            client_ipv6: p.client_ipv6,
        }
    }
}
