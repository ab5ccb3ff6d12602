use super::{expect_eq, Check};
use mtproxy_sys::bindings as ffi;
use mtproxy_sys::c::net_crypto_aes::{derive_keys, load_proxy_secret, KeyPurpose, RpcKeyParams};

/// Known answer (see parity-tests/tests/net_crypto_aes.rs): nonces 00..0f /
/// 10..1f, ts 1600000000, ME 127.0.0.1:8888, proxy 10.0.0.2:40000, secret
/// byte i = 7i+1 (128 bytes), purpose CLIENT.
const KEY: [u8; 32] = *b"\xfd\x86\x12\x05\xa4\xb0\x11\xa3\x79\xf4\x69\xf4\xe5\x12\xc0\x38\
                         \x54\x69\x53\xfe\xf2\x2b\x68\x7d\x58\x17\xec\x33\xad\x54\xcd\x23";
const IV: [u8; 16] = *b"\xec\xc9\x12\x56\x2b\x5c\x2d\xc6\xd0\x60\xa0\xaa\xff\x1f\x33\x3a";

fn secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 7 + 1) as u8).collect()
}

pub const CHECKS: &[Check] = &[
    ("IPv4 CLIENT keys", || {
        let params = RpcKeyParams {
            nonce_server: std::array::from_fn(|i| i as u8),
            nonce_client: std::array::from_fn(|i| 16 + i as u8),
            client_timestamp: 1_600_000_000,
            server_ip: 0x7f00_0001,
            client_ip: 0x0a00_0002,
            client_port: 40000,
            server_port: 8888,
            ..Default::default()
        };
        let keys =
            derive_keys(&params, &secret(), KeyPurpose::Client).map_err(|e| format!("{e:?}"))?;
        expect_eq("key", keys.key, KEY)?;
        expect_eq("iv", keys.iv, IV)?;
        expect_eq(
            "short secret",
            derive_keys(&params, &[0; 31], KeyPurpose::Server).is_err(),
            true,
        )
    }),
    ("proxy secret file", || {
        let path =
            std::env::temp_dir().join(format!("mtproxy-selftest-secret-{}", std::process::id()));
        std::fs::write(&path, secret()).map_err(|e| e.to_string())?;
        let mut out = [0u8; 256];
        let loaded = load_proxy_secret(&path, &mut out);
        let small = load_proxy_secret(&path, &mut out[..100]);
        let _ = std::fs::remove_file(&path);
        expect_eq("load", loaded, Ok(128))?;
        expect_eq("contents", out[..128].to_vec(), secret())?;
        expect_eq("small buffer", small.is_err(), true)
    }),
    ("argument checks", || {
        let params = ffi::mtp_rpc_key_params::default();
        let (mut key, mut iv, mut len) = ([0u8; 32], [0u8; 16], 0usize);
        // SAFETY: null and valid pointers exactly as the contract allows.
        unsafe {
            let bad_purpose = ffi::mtp_rpc_derive_keys(
                &params,
                key.as_ptr(),
                32,
                5,
                key.as_mut_ptr(),
                iv.as_mut_ptr(),
            );
            expect_eq("bad purpose", bad_purpose, ffi::MTP_RPC_KEY_ERR_ARG)?;
            let null_params = ffi::mtp_rpc_derive_keys(
                std::ptr::null(),
                key.as_ptr(),
                32,
                0,
                key.as_mut_ptr(),
                iv.as_mut_ptr(),
            );
            expect_eq("null params", null_params, ffi::MTP_RPC_KEY_ERR_ARG)?;
            let null_path =
                ffi::mtp_load_proxy_secret(std::ptr::null(), key.as_mut_ptr(), 32, &mut len);
            expect_eq("null path", null_path, ffi::MTP_SECRET_ERR_ARG)
        }
    }),
];
