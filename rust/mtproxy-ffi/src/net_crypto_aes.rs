//! Contract of the net-crypto-aes module: AES key/IV derivation for
//! proxy ↔ middle-end connections (MD5/SHA1 over nonces, addresses and the
//! proxy secret) and loading the proxy secret file.
use crate::raw;
use mtproxy_core::crypto::net_crypto_aes::{self as keys, KeyError, KeyPurpose, SecretError};
use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::net_crypto_aes::*;

/// Derives the 32-byte AES key and 16-byte IV of one connection direction:
/// `key = MD5(s[1..])[0..12] ‖ SHA1(s)`, `iv = MD5(s[2..])` over the string
/// `s` built from `p`, the purpose and the secret. Returns 0 or a negative
/// `MTP_RPC_KEY_ERR_*`; outputs are written only on success.
///
/// # Safety
/// `p` must be null or point to a `mtp_rpc_key_params`; `secret` to
/// `secret_len` readable bytes; `key_out` to 32 and `iv_out` to 16 writable
/// bytes (or be null).
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_derive_keys(
    p: *const mtp_rpc_key_params,
    secret: *const u8,
    secret_len: usize,
    purpose: i32,
    key_out: *mut u8,
    iv_out: *mut u8,
) -> i32 {
    // SAFETY: each pointer is null or valid as described by the contract.
    let (params, key_out, iv_out) =
        unsafe { (p.as_ref(), raw::array_mut(key_out), raw::array_mut(iv_out)) };
    let purpose = match purpose {
        MTP_RPC_PURPOSE_CLIENT => KeyPurpose::Client,
        MTP_RPC_PURPOSE_SERVER => KeyPurpose::Server,
        _ => return MTP_RPC_KEY_ERR_ARG,
    };
    let (Some(params), Some(key_out), Some(iv_out)) = (params, key_out, iv_out) else {
        return MTP_RPC_KEY_ERR_ARG;
    };
    if secret.is_null() && secret_len > 0 {
        return MTP_RPC_KEY_ERR_ARG;
    }
    // SAFETY: `secret_len` readable bytes by the contract.
    let secret = unsafe { raw::bytes(secret, secret_len) };
    match keys::derive_keys(&params.into(), secret, purpose) {
        Ok(derived) => {
            *key_out = derived.key;
            *iv_out = derived.iv;
            0
        }
        Err(KeyError::SecretLength) => MTP_RPC_KEY_ERR_SECRET_LEN,
    }
}

/// Reads the proxy secret file (raw bytes, 32..=256 of them; at most 257
/// bytes are read whatever the file size) into `out` (`cap` bytes) and stores
/// its length in `*out_len`. Returns 0 or a negative `MTP_SECRET_ERR_*`;
/// outputs are written only on success.
///
/// # Safety
/// `path` must be null or a NUL-terminated string; `out` must point to `cap`
/// writable bytes (may be null if `cap` is 0); `out_len` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_load_proxy_secret(
    path: *const c_char,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    if path.is_null() || out_len.is_null() || (out.is_null() && cap > 0) {
        return MTP_SECRET_ERR_ARG;
    }
    // SAFETY: a non-null NUL-terminated string by the contract.
    let path = Path::new(OsStr::from_bytes(
        unsafe { CStr::from_ptr(path) }.to_bytes(),
    ));
    // SAFETY: `cap` writable bytes by the contract.
    match keys::load_proxy_secret(path, unsafe { raw::bytes_mut(out, cap) }) {
        Ok(len) => {
            // SAFETY: non-null and writable by the contract.
            unsafe { out_len.write(len) };
            0
        }
        Err(SecretError::Open) => MTP_SECRET_ERR_OPEN,
        Err(SecretError::TooShort) => MTP_SECRET_ERR_TOO_SHORT,
        Err(SecretError::TooLong) => MTP_SECRET_ERR_TOO_LONG,
        Err(SecretError::Buffer) => MTP_SECRET_ERR_BUFFER,
    }
}
