//! The proxy's init-header parse on untrusted bytes must not panic, and an
//! accepted header must carry an accepted tag. Input: byte 0 = flags (bit 0:
//! padded only), then up to 64 header bytes, then the secret list (any
//! length, so lists that are not a multiple of 16 are also tried).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::obfs2;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (header, secrets) = rest.split_at(rest.len().min(64));
    let secrets = &secrets[..secrets.len().min(16 * 16)];
    let padded_only = flags & 1 != 0;
    if let Ok(h) = obfs2::parse_header(header, secrets, padded_only) {
        assert!(matches!(h.tag, 0xefef_efef | 0xeeee_eeee | 0xdddd_dddd));
        assert!(!padded_only || h.tag == 0xdddd_dddd);
        assert!(h.secret_index < (secrets.len() / 16) as i32);
    }
});
