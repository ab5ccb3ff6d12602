use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::obfs2;
use std::ptr::{null, null_mut};

const SECRET: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

/// H[56..64) for H = 0x40..0x7f with tag 0xdddddddd, DC 2 (oracle: OpenSSL
/// CLI AES-256-CTR under SHA256(H[8..40) ‖ SECRET), IV H[40..56)).
const TAIL: [u8; 8] = [0xda, 0xac, 0xbd, 0x2c, 0xa7, 0xde, 0x43, 0xf9];

fn random() -> [u8; 64] {
    std::array::from_fn(|i| 0x40 + i as u8)
}

pub const CHECKS: &[Check] = &[
    ("client header", || {
        let built = obfs2::build_client_header(&random(), Some(&SECRET), obfs2::TAG_PADDED, 2)
            .map_err(|e| format!("build: {e}"))?;
        expect_eq("tail", built.header[56..].to_vec(), TAIL.to_vec())?;
        expect_eq(
            "read key head",
            built.encrypt.key[..4].to_vec(),
            vec![0x83, 0xa2, 0xd9, 0x70],
        )
    }),
    ("server parse", || {
        let mut header = random();
        header[56..].copy_from_slice(&TAIL);
        let list = [[1u8; 16], SECRET].concat();
        let got = obfs2::parse_header(&header, &list, true).map(|h| (h.secret_index, h.tag, h.dc));
        expect_eq("parse", got, Ok((1, obfs2::TAG_PADDED, 2)))?;
        let short = obfs2::parse_header(&header[..63], &list, false).map(|_| ());
        expect_eq("short", short, Err(obfs2::ERR_SHORT))
    }),
    ("secret forms", || {
        let s = obfs2::parse_secret(b"7gARIjNEVWZ3iJmqu8zd7v9leGFtcGxlLmNvbQ")
            .map_err(|e| format!("parse: {e}"))?;
        expect_eq(
            "format",
            obfs2::format_secret(&s),
            Ok("ee00112233445566778899aabbccddeeff6578616d706c652e636f6d".to_string()),
        )
    }),
    ("null pointers and small buffers", || {
        let s = obfs2::parse_secret(b"00112233445566778899aabbccddeeff")
            .map_err(|e| format!("parse: {e}"))?;
        let s = raw::mtp_obfs2_secret::from(s);
        let mut buf = [0u8; 32];
        let mut len = 0usize;
        // SAFETY: valid pointers with the sizes passed, or null where the
        // contract allows it (each call must fail without writing).
        let codes = unsafe {
            [
                raw::mtp_obfs2_format_secret(&s, buf.as_mut_ptr(), buf.len(), &mut len),
                raw::mtp_obfs2_parse_secret(null(), 0, null_mut()),
                raw::mtp_obfs2_parse_header(random().as_ptr(), 64, null(), 1, 0, null_mut()),
                raw::mtp_obfs2_build_client_header(null(), null(), 0, 0, null_mut()),
            ]
        };
        expect_eq("codes", codes, [obfs2::ERR_ARG; 4])?;
        expect_eq("untouched", len, 0)
    }),
];
