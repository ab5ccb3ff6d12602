// Safe wrappers for the net-crypto-aes contract; same API as
// mtproxy_core::crypto::net_crypto_aes.

// The plain data types are the core's own: one definition for both sides.
pub use mtproxy_core::crypto::net_crypto_aes::{
    ConnectionKey, KeyError, KeyPurpose, RpcKeyParams, SecretError, SECRET_MAX_LEN, SECRET_MIN_LEN,
};

#[inline]
pub fn derive_keys(
    params: &RpcKeyParams,
    secret: &[u8],
    purpose: KeyPurpose,
) -> Result<ConnectionKey, KeyError> {
    let secret = input(secret);
    let raw = ffi::mtp_rpc_key_params::from(params);
    let purpose = match purpose {
        KeyPurpose::Client => ffi::MTP_RPC_PURPOSE_CLIENT,
        KeyPurpose::Server => ffi::MTP_RPC_PURPOSE_SERVER,
    };
    let mut out = ConnectionKey {
        key: [0; 32],
        iv: [0; 16],
    };
    // SAFETY: every pointer comes from a live value of the size the contract
    // reads or writes.
    let code = unsafe {
        ffi::mtp_rpc_derive_keys(
            &raw,
            secret.as_ptr(),
            secret.len(),
            purpose,
            out.key.as_mut_ptr(),
            out.iv.as_mut_ptr(),
        )
    };
    // MTP_RPC_KEY_ERR_ARG cannot happen through this wrapper.
    match code {
        0 => Ok(out),
        _ => Err(KeyError::SecretLength),
    }
}

#[inline]
pub fn load_proxy_secret(path: &std::path::Path, out: &mut [u8]) -> Result<usize, SecretError> {
    use std::os::unix::ffi::OsStrExt;
    // A path with a NUL byte cannot name a file (the core's open fails too).
    let path =
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| SecretError::Open)?;
    let mut len = 0usize;
    // SAFETY: a NUL-terminated path, `out.len()` writable bytes, one usize.
    let code =
        unsafe { ffi::mtp_load_proxy_secret(path.as_ptr(), out.as_mut_ptr(), out.len(), &mut len) };
    match code {
        0 => Ok(len),
        ffi::MTP_SECRET_ERR_OPEN => Err(SecretError::Open),
        ffi::MTP_SECRET_ERR_TOO_SHORT => Err(SecretError::TooShort),
        ffi::MTP_SECRET_ERR_TOO_LONG => Err(SecretError::TooLong),
        // MTP_SECRET_ERR_ARG cannot happen through this wrapper.
        _ => Err(SecretError::Buffer),
    }
}
