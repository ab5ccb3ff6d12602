//! net-crypto-aes: C vs Rust middle-end key derivation (known answers from an
//! independent oracle, random parameters) and proxy-secret loading on the
//! same files; plus the C contract's argument checks through raw pointers.
use parity_tests::{c, config, rust};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

use c::net_crypto_aes as cn;
use rust::crypto::net_crypto_aes as rn;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The same parameters for both sides.
fn both(p: rn::RpcKeyParams) -> (cn::RpcKeyParams, rn::RpcKeyParams) {
    let c = cn::RpcKeyParams {
        nonce_server: p.nonce_server,
        nonce_client: p.nonce_client,
        client_timestamp: p.client_timestamp,
        server_ip: p.server_ip,
        client_ip: p.client_ip,
        client_port: p.client_port,
        server_port: p.server_port,
        use_ipv6: p.use_ipv6,
        server_ipv6: p.server_ipv6,
        client_ipv6: p.client_ipv6,
    };
    (c, p)
}

fn c_purpose(p: rn::KeyPurpose) -> cn::KeyPurpose {
    match p {
        rn::KeyPurpose::Client => cn::KeyPurpose::Client,
        rn::KeyPurpose::Server => cn::KeyPurpose::Server,
    }
}

/// Both sides' result as comparable text (same variant names on each side).
fn derive_both(p: rn::RpcKeyParams, secret: &[u8], purpose: rn::KeyPurpose) -> (String, String) {
    let (cp, rp) = both(p);
    (
        format!("{:?}", cn::derive_keys(&cp, secret, c_purpose(purpose))),
        format!("{:?}", rn::derive_keys(&rp, secret, purpose)),
    )
}

/// Known-answer inputs: nonces 00..0f / 10..1f, ME 127.0.0.1:8888, proxy
/// 10.0.0.2:40000, secret byte i = 7i+1. The expected values were computed
/// by a separate Python script with hashlib that appends each field of
/// docs/PROTOCOL.md §4.4 to a byte string with struct.pack('<i'/'<I'/'<H') (server
/// nonce, client nonce, timestamp, server IPv4 — asserted to pack 127.0.0.1
/// as 01 00 00 7f —, client port, purpose, client IPv4, server port, secret,
/// server nonce, [client IPv6, server IPv6], client nonce; IPv4 fields zero
/// in the IPv6 form), asserts the length 86+L(+32), and prints
/// md5(s[1:])[:12] + sha1(s) and md5(s[2:]).
fn kat_params() -> rn::RpcKeyParams {
    rn::RpcKeyParams {
        nonce_server: std::array::from_fn(|i| i as u8),
        nonce_client: std::array::from_fn(|i| 16 + i as u8),
        client_timestamp: 1_600_000_000,
        server_ip: 0x7f00_0001,
        client_ip: 0x0a00_0002,
        client_port: 40000,
        server_port: 8888,
        ..Default::default()
    }
}

fn kat_secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 7 + 1) as u8).collect()
}

const KAT_V4_CLIENT: (&str, &str) = (
    "fd861205a4b011a379f469f4e512c038546953fef22b687d5817ec33ad54cd23",
    "ecc912562b5c2dc6d060a0aaff1f333a",
);
const KAT_V4_SERVER: (&str, &str) = (
    "16a78f635e962ef0fa981c7811e4886369fd96b3b1eb6c4e101b82a53783f03f",
    "88a95edc6ac748b990732f61b7504c69",
);
/// IPv6 form: timestamp -5, proxy 2001:db8::2, ME 2001:db8::1, the first 32
/// bytes of the secret, CLIENT; the IPv4 fields stay set (and are ignored).
const KAT_V6_CLIENT: (&str, &str) = (
    "a9b8962386cdfa167ecfe1c240e7083a4a83aa94f47d092ad770ce3a5a1aae3e",
    "25628d79075c860343e20bc5d73ba673",
);

fn ipv6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = last;
    a
}

#[test]
fn known_answers_both_sides() {
    let v6 = rn::RpcKeyParams {
        client_timestamp: -5,
        use_ipv6: true,
        client_ipv6: ipv6(2),
        server_ipv6: ipv6(1),
        ..kat_params()
    };
    let secret = kat_secret();
    for (name, params, secret, purpose, (key, iv)) in [
        (
            "v4 client",
            kat_params(),
            &secret[..],
            rn::KeyPurpose::Client,
            KAT_V4_CLIENT,
        ),
        (
            "v4 server",
            kat_params(),
            &secret[..],
            rn::KeyPurpose::Server,
            KAT_V4_SERVER,
        ),
        (
            "v6 client",
            v6,
            &secret[..32],
            rn::KeyPurpose::Client,
            KAT_V6_CLIENT,
        ),
    ] {
        let (cp, rp) = both(params);
        let c_keys = cn::derive_keys(&cp, secret, c_purpose(purpose)).unwrap();
        let r_keys = rn::derive_keys(&rp, secret, purpose).unwrap();
        assert_eq!(
            (c_keys.key.to_vec(), c_keys.iv.to_vec()),
            (hex(key), hex(iv)),
            "C {name}"
        );
        assert_eq!(
            (r_keys.key.to_vec(), r_keys.iv.to_vec()),
            (hex(key), hex(iv)),
            "Rust {name}"
        );
    }
}

#[test]
fn c_contract_rejects_bad_arguments() {
    use mtproxy_sys::bindings_cref as ffi;
    let params = ffi::mtp_rpc_key_params::default();
    let secret = [0u8; 64];
    let (mut key, mut iv) = ([0xaau8; 32], [0xaau8; 16]);
    let call = |p: *const ffi::mtp_rpc_key_params,
                s: *const u8,
                len: usize,
                purpose: i32,
                k: *mut u8,
                i: *mut u8| {
        // SAFETY: every non-null pointer is valid for what the contract reads/writes.
        unsafe { ffi::mtp_rpc_derive_keys(p, s, len, purpose, k, i) }
    };
    let (k, i) = (key.as_mut_ptr(), iv.as_mut_ptr());
    let null = std::ptr::null_mut::<u8>();
    assert_eq!(
        call(&params, secret.as_ptr(), 64, 2, k, i),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(&params, secret.as_ptr(), 64, -1, k, i),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(std::ptr::null(), secret.as_ptr(), 64, 0, k, i),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(&params, std::ptr::null(), 64, 0, k, i),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(&params, secret.as_ptr(), 64, 0, null, i),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(&params, secret.as_ptr(), 64, 1, k, null),
        ffi::MTP_RPC_KEY_ERR_ARG
    );
    assert_eq!(
        call(&params, std::ptr::null(), 0, 0, k, i),
        ffi::MTP_RPC_KEY_ERR_SECRET_LEN
    );
    assert_eq!(
        (key, iv),
        ([0xaa; 32], [0xaa; 16]),
        "outputs untouched on error"
    );

    let mut len = 7usize;
    let path = c"/nonexistent";
    // SAFETY: null or valid pointers as the contract describes.
    unsafe {
        assert_eq!(
            ffi::mtp_load_proxy_secret(std::ptr::null(), k, 32, &mut len),
            ffi::MTP_SECRET_ERR_ARG
        );
        assert_eq!(
            ffi::mtp_load_proxy_secret(path.as_ptr(), null, 32, &mut len),
            ffi::MTP_SECRET_ERR_ARG
        );
        assert_eq!(
            ffi::mtp_load_proxy_secret(path.as_ptr(), k, 32, std::ptr::null_mut()),
            ffi::MTP_SECRET_ERR_ARG
        );
        assert_eq!(
            ffi::mtp_load_proxy_secret(path.as_ptr(), null, 0, &mut len),
            ffi::MTP_SECRET_ERR_OPEN
        );
    }
    assert_eq!(len, 7);
}

/// A file in the temp directory, unique to this process and test, removed
/// on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, contents: Option<&[u8]>) -> Self {
        let path =
            std::env::temp_dir().join(format!("mtp-parity-secret-{}-{tag}", std::process::id()));
        if let Some(bytes) = contents {
            std::fs::write(&path, bytes).unwrap();
        }
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Both sides' outcome of loading `path` into a `cap`-byte buffer, with the
/// buffer contents (to check nothing is written on failure).
fn load_both(path: &Path, cap: usize) -> (String, String) {
    let (mut c_out, mut r_out) = (vec![0xeeu8; cap], vec![0xeeu8; cap]);
    let c_res = cn::load_proxy_secret(path, &mut c_out);
    let r_res = rn::load_proxy_secret(path, &mut r_out);
    (
        format!("{c_res:?} {c_out:?}"),
        format!("{r_res:?} {r_out:?}"),
    )
}

#[test]
fn loading_agrees_on_every_size() {
    for size in [0usize, 1, 31, 32, 33, 128, 255, 256, 257, 258, 10_000] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 13 + 5) as u8).collect();
        let file = TempFile::new(&format!("size{size}"), Some(&bytes));
        for cap in [0, 31, 32, 128, 256, 300] {
            let (c_out, r_out) = load_both(&file.0, cap);
            assert_eq!(c_out, r_out, "size {size} cap {cap}");
        }
        let (c_out, _) = load_both(&file.0, 256);
        let want = match size {
            0..=31 => "Err(TooShort)".to_string(),
            32..=256 => format!("Ok({size})"),
            _ => "Err(TooLong)".to_string(),
        };
        assert!(c_out.starts_with(&want), "size {size}: {c_out}");
    }
}

#[test]
fn loading_missing_files_and_directories_fails_alike() {
    let missing = TempFile::new("missing", None);
    let dir = std::env::temp_dir();
    for path in [missing.0.as_path(), dir.as_path(), Path::new("")] {
        let (c_out, r_out) = load_both(path, 256);
        assert_eq!(c_out, r_out, "{path:?}");
        assert!(c_out.starts_with("Err(Open)"), "{path:?}: {c_out}");
    }
}

fn any_params() -> impl Strategy<Value = rn::RpcKeyParams> {
    (
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<i32>()),
        (any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>()),
        (any::<bool>(), any::<[u8; 16]>(), any::<[u8; 16]>()),
    )
        .prop_map(
            |((ns, nc, ts), (sip, cip, cport, sport), (v6, sip6, cip6))| rn::RpcKeyParams {
                nonce_server: ns,
                nonce_client: nc,
                client_timestamp: ts,
                server_ip: sip,
                client_ip: cip,
                client_port: cport,
                server_port: sport,
                use_ipv6: v6,
                server_ipv6: sip6,
                client_ipv6: cip6,
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn derivation_matches(
        params in any_params(),
        secret in parity_tests::bytes(300),
        server in any::<bool>(),
    ) {
        let purpose = if server { rn::KeyPurpose::Server } else { rn::KeyPurpose::Client };
        let (c_out, r_out) = derive_both(params, &secret, purpose);
        prop_assert_eq!(c_out, r_out);
    }

    #[test]
    fn ipv6_form_ignores_ipv4_fields(params in any_params(), secret in parity_tests::bytes(256)) {
        prop_assume!(secret.len() >= 32);
        let v6 = rn::RpcKeyParams { use_ipv6: true, ..params };
        let zeroed = rn::RpcKeyParams { server_ip: 0, client_ip: 0, ..v6 };
        let (c_a, r_a) = derive_both(v6, &secret, rn::KeyPurpose::Client);
        let (c_b, r_b) = derive_both(zeroed, &secret, rn::KeyPurpose::Client);
        prop_assert_eq!(&c_a, &r_a);
        prop_assert_eq!(&c_a, &c_b);
        prop_assert_eq!(r_a, r_b);
    }

    #[test]
    fn loading_random_files_matches(contents in parity_tests::bytes(400), cap in 0usize..300) {
        let file = TempFile::new(&format!("rand{}", contents.len()), Some(&contents));
        let (c_out, r_out) = load_both(&file.0, cap);
        prop_assert_eq!(c_out, r_out);
    }
}
