//! obfs2: NULL pointers, empty inputs and output capacities at the raw
//! contract functions, the C copy and the Rust FFI called with one list of
//! arguments, each result checked against the value the C code's checks
//! give and the two sides' lists compared.
use mtproxy_sys::bindings::{
    mtp_obfs2_client_header, mtp_obfs2_secret, mtp_obfs2_server_header, MTP_OBFS2_ERR_ARG,
    MTP_OBFS2_ERR_BAD_SECRET, MTP_OBFS2_ERR_FORBIDDEN, MTP_OBFS2_ERR_NO_MATCH, MTP_OBFS2_ERR_SHORT,
    MTP_OBFS2_SECRET_FAKE_TLS, MTP_OBFS2_SECRET_PLAIN,
};
use parity_tests::Calls;
use std::ptr::{null, null_mut};

const ARG: i32 = MTP_OBFS2_ERR_ARG;
const BAD: i32 = MTP_OBFS2_ERR_BAD_SECRET;
const SHORT: i32 = MTP_OBFS2_ERR_SHORT;
const KEY: [u8; 16] = [7; 16];
/// Random bytes no rule forbids as a client header start.
const RANDOM: [u8; 64] = [0x42; 64];
/// The padded-intermediate tag.
const PADDED: u32 = 0xdddd_dddd;

/// A client header for `secret` (NULL: secret-less), built through `$b`.
macro_rules! built {
    ($b:ident, $secret:expr) => {{
        let mut h = mtp_obfs2_client_header::default();
        // SAFETY: 64 readable random bytes, a 16-byte secret or NULL, a
        // writable header.
        let rc = unsafe {
            $b::mtp_obfs2_build_client_header(RANDOM.as_ptr(), $secret, PADDED, 2, &mut h)
        };
        assert_eq!(rc, 0);
        h.header
    }};
}

/// Every argument case of the four functions through `$b`. Cases a mutant
/// answers wrongly without crashing come before the ones it crashes on.
macro_rules! cases {
    ($b:ident, $side:expr) => {{
        use mtproxy_sys::$b as b;
        let mut got = Calls($side, Vec::new());

        let text = b"00112233445566778899aabbccddeeff";
        let mut s = mtp_obfs2_secret::default();
        // SAFETY: `text` is readable for its length; a NULL text comes with
        // lengths the contract treats as empty; `s` is writable.
        unsafe {
            got.check(
                "parse out NULL",
                b::mtp_obfs2_parse_secret(text.as_ptr(), 32, null_mut()),
                ARG,
            );
            got.check(
                "parse NULL,0",
                b::mtp_obfs2_parse_secret(null(), 0, &mut s),
                BAD,
            );
            got.check(
                "parse NULL,1",
                b::mtp_obfs2_parse_secret(null(), 1, &mut s),
                BAD,
            );
            got.check(
                "parse NULL,32",
                b::mtp_obfs2_parse_secret(null(), 32, &mut s),
                BAD,
            );
            got.check(
                "parse empty",
                b::mtp_obfs2_parse_secret(text.as_ptr(), 0, &mut s),
                BAD,
            );
            got.check(
                "parse ok",
                b::mtp_obfs2_parse_secret(text.as_ptr(), 32, &mut s),
                0,
            );
        }
        got.check("parsed kind", s.kind, MTP_OBFS2_SECRET_PLAIN);

        let mut plain = mtp_obfs2_secret::default();
        plain.kind = MTP_OBFS2_SECRET_PLAIN;
        plain.key = KEY;
        let mut bad_kind = plain;
        bad_kind.kind = 9;
        let mut tls = plain;
        tls.kind = MTP_OBFS2_SECRET_FAKE_TLS;
        tls.domain[..5].copy_from_slice(b"a.com");
        tls.domain_len = 5;
        let mut out = vec![0xaau8; 64];
        let o = out.as_mut_ptr();
        let mut len = 0usize;
        // SAFETY: `o` is readable and writable for 64 bytes, more than any
        // `cap` passed with it; NULL outputs only come with caps the checks
        // refuse; `len` is writable.
        unsafe {
            got.check(
                "format out_len NULL bad kind",
                b::mtp_obfs2_format_secret(&bad_kind, o, 33, null_mut()),
                ARG,
            );
            got.check(
                "format bad kind out NULL",
                b::mtp_obfs2_format_secret(&bad_kind, null_mut(), 0, &mut len),
                BAD,
            );
            got.check(
                "format cap 0",
                b::mtp_obfs2_format_secret(&plain, o, 0, &mut len),
                ARG,
            );
            got.check(
                "format cap 31",
                b::mtp_obfs2_format_secret(&plain, o, 31, &mut len),
                ARG,
            );
            got.check(
                "format cap 32",
                b::mtp_obfs2_format_secret(&plain, o, 32, &mut len),
                ARG,
            );
            got.check(
                "tls cap 44",
                b::mtp_obfs2_format_secret(&tls, o, 44, &mut len),
                ARG,
            );
            got.check("len untouched", len as i64, 0);
            got.check(
                "out untouched",
                out.iter().filter(|&&x| x == 0xaa).count() as i64,
                64,
            );
            got.check(
                "format out NULL,0",
                b::mtp_obfs2_format_secret(&plain, null_mut(), 0, &mut len),
                ARG,
            );
            got.check(
                "format out NULL,33",
                b::mtp_obfs2_format_secret(&plain, null_mut(), 33, &mut len),
                ARG,
            );
            got.check(
                "format secret NULL",
                b::mtp_obfs2_format_secret(null(), o, 33, &mut len),
                ARG,
            );
            got.check(
                "format out_len NULL",
                b::mtp_obfs2_format_secret(&plain, o, 33, null_mut()),
                ARG,
            );
            got.check(
                "format cap 33",
                b::mtp_obfs2_format_secret(&plain, o, 33, &mut len),
                0,
            );
            got.check("len", len as i64, 32);
            got.check("nul at 32", out[32], 0);
            got.check(
                "tls cap 45",
                b::mtp_obfs2_format_secret(&tls, o, 45, &mut len),
                0,
            );
            got.check("tls len", len as i64, 44);
        }

        let mut ch = mtp_obfs2_client_header::default();
        let forbidden = [0xefu8; 64];
        // SAFETY: the random arrays are 64 bytes, KEY 16, `ch` writable;
        // NULL where the contract refuses or (secret) allows it.
        unsafe {
            got.check(
                "build out NULL forbidden",
                b::mtp_obfs2_build_client_header(forbidden.as_ptr(), null(), PADDED, 2, null_mut()),
                ARG,
            );
            got.check(
                "build forbidden",
                b::mtp_obfs2_build_client_header(forbidden.as_ptr(), null(), PADDED, 2, &mut ch),
                MTP_OBFS2_ERR_FORBIDDEN,
            );
            got.check(
                "build random NULL",
                b::mtp_obfs2_build_client_header(null(), KEY.as_ptr(), PADDED, 2, &mut ch),
                ARG,
            );
            got.check(
                "build out NULL",
                b::mtp_obfs2_build_client_header(
                    RANDOM.as_ptr(),
                    KEY.as_ptr(),
                    PADDED,
                    2,
                    null_mut(),
                ),
                ARG,
            );
            got.check(
                "build secret NULL",
                b::mtp_obfs2_build_client_header(RANDOM.as_ptr(), null(), PADDED, 2, &mut ch),
                0,
            );
        }

        let keyed = built!(b, KEY.as_ptr());
        let keyless = built!(b, null());
        let huge = usize::MAX / 16;
        let mut sh = mtp_obfs2_server_header::default();
        let hdr = |h: *const u8,
                   len: usize,
                   secrets: *const u8,
                   n: usize,
                   out: *mut mtp_obfs2_server_header| {
            // SAFETY: `h` is NULL or readable for `len` bytes; `secrets` is
            // NULL or readable for 16 * n bytes wherever the call gets past
            // the argument and header checks (the huge counts come with a
            // NULL header); `out` is NULL or writable.
            unsafe { b::mtp_obfs2_parse_header(h, len, secrets, n, 1, out) }
        };
        got.check(
            "hdr out NULL, header NULL",
            hdr(null(), 64, null(), 0, null_mut()),
            ARG,
        );
        got.check(
            "hdr len 63",
            hdr(keyed.as_ptr(), 63, KEY.as_ptr(), 1, &mut sh),
            SHORT,
        );
        got.check(
            "hdr len 0",
            hdr(keyed.as_ptr(), 0, KEY.as_ptr(), 1, &mut sh),
            SHORT,
        );
        got.check(
            "hdr secrets NULL,0",
            hdr(keyless.as_ptr(), 64, null(), 0, &mut sh),
            0,
        );
        got.check("index", sh.secret_index, -1);
        got.check(
            "hdr secrets NULL,1",
            hdr(keyless.as_ptr(), 64, null(), 1, &mut sh),
            ARG,
        );
        got.check(
            "hdr keyed",
            hdr(keyed.as_ptr(), 64, KEY.as_ptr(), 1, &mut sh),
            0,
        );
        got.check("index", sh.secret_index, 0);
        got.check(
            "hdr n max",
            hdr(null(), 64, KEY.as_ptr(), huge, &mut sh),
            SHORT,
        );
        got.check(
            "hdr n max+1",
            hdr(null(), 64, KEY.as_ptr(), huge + 1, &mut sh),
            ARG,
        );
        got.check(
            "hdr n max+1 out NULL",
            hdr(null(), 64, KEY.as_ptr(), huge + 1, null_mut()),
            ARG,
        );
        got.check(
            "hdr n max+1 secrets NULL",
            hdr(null(), 64, null(), huge + 1, &mut sh),
            ARG,
        );
        got.check(
            "hdr header NULL,0",
            hdr(null(), 0, null(), 0, &mut sh),
            SHORT,
        );
        got.check(
            "hdr out NULL",
            hdr(keyed.as_ptr(), 64, KEY.as_ptr(), 1, null_mut()),
            ARG,
        );
        got.check(
            "hdr header NULL,64",
            hdr(null(), 64, KEY.as_ptr(), 1, &mut sh),
            SHORT,
        );
        got.check(
            "hdr len 64",
            hdr(keyed.as_ptr(), 64, KEY.as_ptr(), 1, &mut sh),
            0,
        );
        got.check(
            "hdr no match",
            hdr(RANDOM.as_ptr(), 64, KEY.as_ptr(), 0, &mut sh),
            MTP_OBFS2_ERR_NO_MATCH,
        );
        got.1
    }};
}

/// Each required pointer NULL alone is ERR_ARG, a NULL text is an empty
/// one, a NULL output or a capacity one short of the text is ERR_ARG, the
/// kind is judged before the output, and the secret-count and
/// header-length limits sit at their exact edges.
#[test]
fn null_and_empty_arguments_agree() {
    let c = cases!(bindings_cref, "C");
    let r = cases!(bindings, "Rust");
    assert_eq!(c, r, "C vs Rust");
}
