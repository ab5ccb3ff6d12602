//! Middle-end connection keys (upstream `net/net-crypto-aes.c`): the AES-256
//! key and IV of one direction of a proxy ↔ middle-end connection, derived
//! from both nonces, the addresses and the proxy secret (docs/PROTOCOL.md §4.4),
//! and loading that secret from its file (§5.2).
//!
//! The hashed string `s` is, in order: the server (middle-end) nonce, the
//! client (proxy) nonce, the client timestamp, the server IPv4, the client
//! port, `CLIENT` or `SERVER`, the client IPv4, the server port, the secret,
//! the server nonce again, then (IPv6 only) the client and the server IPv6
//! address, and the client nonce again. Integers are little-endian; an IPv4
//! address is its host-order `u32` (127.0.0.1 = 0x7f000001 → `01 00 00 7f`).
//! In the IPv6 form both IPv4 fields are written as zero.
//!
//! `key = MD5(s[1..])[..12] ‖ SHA1(s)`, `iv = MD5(s[2..])`. The hashes are fed
//! piece by piece, so `s` is never assembled.
use md5::{Digest, Md5};
use sha1::Sha1;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

/// Shortest accepted proxy secret, in bytes.
pub const SECRET_MIN_LEN: usize = 32;
/// Longest accepted proxy secret, in bytes.
pub const SECRET_MAX_LEN: usize = 256;

/// Everything about one connection that goes into its keys. "Server" is the
/// middle-end, "client" the proxy; addresses are as the proxy sees them
/// after NAT translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RpcKeyParams {
    pub nonce_server: [u8; 16],
    pub nonce_client: [u8; 16],
    /// The proxy's `crypto_ts` from its nonce packet.
    pub client_timestamp: i32,
    /// IPv4 addresses as host-order integers (ignored when `use_ipv6`).
    pub server_ip: u32,
    pub client_ip: u32,
    pub client_port: u16,
    pub server_port: u16,
    /// Whether the connection is IPv6 (then the IPv6 addresses are hashed).
    pub use_ipv6: bool,
    pub server_ipv6: [u8; 16],
    pub client_ipv6: [u8; 16],
}

/// Which direction of the connection the keys are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Proxy → middle-end ("CLIENT").
    Client,
    /// Middle-end → proxy ("SERVER").
    Server,
}

/// AES-256-CBC key material of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionKey {
    pub key: [u8; 32],
    pub iv: [u8; 16],
}

/// Why no keys were derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is not 32..=256 bytes long.
    SecretLength,
}

/// Why the proxy secret was not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretError {
    /// The file could not be opened or read (a directory, for one).
    Open,
    /// Fewer than 32 bytes.
    TooShort,
    /// More than 256 bytes.
    TooLong,
    /// The output buffer is shorter than the secret.
    Buffer,
}

/// The key and IV for `purpose` on the connection described by `params`.
pub fn derive_keys(
    params: &RpcKeyParams,
    secret: &[u8],
    purpose: KeyPurpose,
) -> Result<ConnectionKey, KeyError> {
    if !(SECRET_MIN_LEN..=SECRET_MAX_LEN).contains(&secret.len()) {
        return Err(KeyError::SecretLength);
    }
    let head = fixed_head(params, purpose);
    let ipv6 = ipv6_part(params);
    let ipv6: &[u8] = ipv6.as_ref().map_or(&[], |both| both);
    let rest: [&[u8]; 4] = [secret, &params.nonce_server, ipv6, &params.nonce_client];

    let key_md5 = digest::<Md5>(&head[1..], &rest);
    let key_sha1 = digest::<Sha1>(&head, &rest);
    let iv = digest::<Md5>(&head[2..], &rest);

    let mut key = [0u8; 32];
    key[..12].copy_from_slice(&key_md5[..12]);
    key[12..].copy_from_slice(&key_sha1);
    Ok(ConnectionKey { key, iv: iv.into() })
}

/// Bytes 0..54 of `s`: nonces, timestamp, addresses, ports and the purpose.
fn fixed_head(params: &RpcKeyParams, purpose: KeyPurpose) -> [u8; 54] {
    let (server_ip, client_ip) = if params.use_ipv6 {
        (0, 0)
    } else {
        (params.server_ip, params.client_ip)
    };
    let purpose: &[u8; 6] = match purpose {
        KeyPurpose::Client => b"CLIENT",
        KeyPurpose::Server => b"SERVER",
    };
    let mut head = [0u8; 54];
    head[0..16].copy_from_slice(&params.nonce_server);
    head[16..32].copy_from_slice(&params.nonce_client);
    head[32..36].copy_from_slice(&params.client_timestamp.to_le_bytes());
    head[36..40].copy_from_slice(&server_ip.to_le_bytes());
    head[40..42].copy_from_slice(&params.client_port.to_le_bytes());
    head[42..48].copy_from_slice(purpose);
    head[48..52].copy_from_slice(&client_ip.to_le_bytes());
    head[52..54].copy_from_slice(&params.server_port.to_le_bytes());
    head
}

/// The IPv6 insert: client address then server address (IPv6 form only).
fn ipv6_part(params: &RpcKeyParams) -> Option<[u8; 32]> {
    params.use_ipv6.then(|| {
        let mut both = [0u8; 32];
        both[..16].copy_from_slice(&params.client_ipv6);
        both[16..].copy_from_slice(&params.server_ipv6);
        both
    })
}

/// The hash of `first` followed by each of `rest`.
fn digest<D: Digest>(first: &[u8], rest: &[&[u8]]) -> md5::digest::Output<D> {
    let mut hasher = D::new();
    hasher.update(first);
    for part in rest {
        hasher.update(part);
    }
    hasher.finalize()
}

/// Reads the proxy secret file at `path` into `out`; returns its length.
///
/// The file is raw bytes, 32..=256 of them. At most 257 bytes are read
/// whatever the file's size, and `out` is written only on success.
pub fn load_proxy_secret(path: &Path, out: &mut [u8]) -> Result<usize, SecretError> {
    let mut file = File::open(path).map_err(|_| SecretError::Open)?;
    // One byte more than allowed tells "too long" from "exactly the maximum".
    let mut buf = [0u8; SECRET_MAX_LEN + 1];
    let mut filled = 0;
    while let Some(free) = buf.get_mut(filled..).filter(|free| !free.is_empty()) {
        match file.read(free) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Err(SecretError::Open),
        }
    }
    if filled < SECRET_MIN_LEN {
        return Err(SecretError::TooShort);
    }
    if filled > SECRET_MAX_LEN {
        return Err(SecretError::TooLong);
    }
    let (Some(dst), Some(src)) = (out.get_mut(..filled), buf.get(..filled)) else {
        return Err(SecretError::Buffer);
    };
    dst.copy_from_slice(src);
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Nonces 00..0f / 10..1f, ts 1600000000, ME 127.0.0.1:8888, proxy
    /// 10.0.0.2:40000. Expected values come from an independent Python
    /// (hashlib) oracle that builds `s` byte by byte from docs/PROTOCOL.md §4.4.
    fn params() -> RpcKeyParams {
        RpcKeyParams {
            nonce_server: core::array::from_fn(|i| i as u8),
            nonce_client: core::array::from_fn(|i| 16 + i as u8),
            client_timestamp: 1_600_000_000,
            server_ip: 0x7f00_0001,
            client_ip: 0x0a00_0002,
            client_port: 40000,
            server_port: 8888,
            ..RpcKeyParams::default()
        }
    }

    fn secret() -> Vec<u8> {
        (0..128u32).map(|i| (i * 7 + 1) as u8).collect()
    }

    #[test]
    fn ipv4_client_known_answer() {
        let keys = derive_keys(&params(), &secret(), KeyPurpose::Client).unwrap();
        assert_eq!(
            keys.key.to_vec(),
            hex("fd861205a4b011a379f469f4e512c038546953fef22b687d5817ec33ad54cd23")
        );
        assert_eq!(keys.iv.to_vec(), hex("ecc912562b5c2dc6d060a0aaff1f333a"));
    }

    #[test]
    fn head_layout_matches_the_spec() {
        // Bytes 32..54 of `s`: ts, 127.0.0.1 as 01 00 00 7f, port 40000,
        // "CLIENT", 10.0.0.2, port 8888.
        let head = fixed_head(&params(), KeyPurpose::Client);
        assert_eq!(
            head[32..].to_vec(),
            hex("00105e5f0100007f409c434c49454e540200000ab822")
        );
    }

    #[test]
    fn secret_length_is_checked() {
        for len in [0, 31, 257, 300] {
            let secret = vec![1u8; len];
            let got = derive_keys(&params(), &secret, KeyPurpose::Server);
            assert_eq!(got, Err(KeyError::SecretLength), "len {len}");
        }
        for len in [32, 256] {
            assert!(derive_keys(&params(), &vec![1u8; len], KeyPurpose::Server).is_ok());
        }
    }

    #[test]
    fn loading_checks_sizes_and_buffer() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("mtp-core-secret-{}", std::process::id()));
        let mut out = [0u8; SECRET_MAX_LEN];
        for (size, want) in [
            (31, Err(SecretError::TooShort)),
            (32, Ok(32)),
            (256, Ok(256)),
            (257, Err(SecretError::TooLong)),
        ] {
            std::fs::write(&path, vec![9u8; size]).unwrap();
            assert_eq!(load_proxy_secret(&path, &mut out), want, "size {size}");
        }
        std::fs::write(&path, [5u8; 40]).unwrap();
        assert_eq!(
            load_proxy_secret(&path, &mut out[..39]),
            Err(SecretError::Buffer)
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(load_proxy_secret(&path, &mut out), Err(SecretError::Open));
        assert_eq!(load_proxy_secret(&dir, &mut out), Err(SecretError::Open));
    }
}
