//! obfs2: C vs Rust on secret texts, init headers against secret lists, and
//! client headers built on one side and parsed on the other.
use parity_tests::{bytes, c, config, rust};
use proptest::prelude::*;

use c::obfs2 as co;
use rust::net::obfs2 as ro;

/// Either side's `Secret` as a tuple (the domain only up to its length).
macro_rules! secret {
    ($s:expr) => {{
        let s = &$s;
        (
            s.kind,
            s.key,
            s.domain[..s.domain_len.min(253)].to_vec(),
            s.domain_len,
        )
    }};
}

const SECRET: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn base64(b: &[u8], url: bool, pad: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &x| a << 8 | u32::from(x)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if pad {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

// Oracle values (Python hashlib + `openssl enc -aes-256-ctr`) for the header
// H = bytes 0x40..0x7f with tag 0xdddddddd and DC 2 put at 56..62: the keys
// of docs/PROTOCOL.md §1.3 and H[56..64) after CTR encryption from counter 0.
const READ_KEY: &str = "83a2d97099d28b3893ad228a82e5d60402f372ba0e69f64e67b6d8f6f0b14cd8";
const WRITE_KEY: &str = "24a0d5d0a12ee771fdb9c26de315b808d7a51d42271d7a10f0955c0b3f7390f2";
const TAIL: &str = "daacbd2ca7de43f9";
const SECRETLESS_TAIL: &str = "8cc1af92535a09f6";

fn kat_random() -> [u8; 64] {
    std::array::from_fn(|i| 0x40 + i as u8)
}

#[test]
fn known_answers_both_sides() {
    macro_rules! check {
        ($m:ident) => {{
            let built =
                $m::build_client_header(&kat_random(), Some(&SECRET), $m::TAG_PADDED, 2).unwrap();
            assert_eq!(hex(&built.header[56..]), TAIL);
            assert_eq!(built.header[..56], kat_random()[..56]);
            assert_eq!(hex(&built.encrypt.key), READ_KEY);
            assert_eq!(hex(&built.encrypt.iv), "68696a6b6c6d6e6f7071727374757677");
            assert_eq!(hex(&built.decrypt.key), WRITE_KEY);
            assert_eq!(hex(&built.decrypt.iv), "57565554535251504f4e4d4c4b4a4948");
            let list = [[9u8; 16], SECRET].concat();
            let parsed = $m::parse_header(&built.header, &list, true).unwrap();
            assert_eq!(
                (parsed.secret_index, parsed.tag, parsed.dc),
                (1, 0xdddd_dddd, 2)
            );
            assert_eq!(hex(&parsed.read.key), READ_KEY);
            assert_eq!(hex(&parsed.write.key), WRITE_KEY);
            let bare = $m::build_client_header(&kat_random(), None, $m::TAG_PADDED, 2).unwrap();
            assert_eq!(hex(&bare.header[56..]), SECRETLESS_TAIL);
            let parsed = $m::parse_header(&bare.header, &[], false).unwrap();
            assert_eq!((parsed.secret_index, parsed.dc), (-1, 2));
            assert_eq!(parsed.read.key[..], kat_random()[8..40]);
            assert_eq!(
                parse_err!($m, &bare.header, &SECRET, false),
                $m::ERR_NO_MATCH
            );
        }};
    }
    macro_rules! parse_err {
        ($m:ident, $h:expr, $s:expr, $f:expr) => {
            $m::parse_header($h, $s, $f).map(|_| ()).unwrap_err()
        };
    }
    check!(co);
    check!(ro);
}

#[test]
fn secret_forms_both_sides() {
    let tls = format!("ee{}{}", hex(&SECRET), hex(b"example.com"));
    let one_letter = format!("ee{}{}", hex(&SECRET), hex(b"a"));
    let cases: [(&str, i32, &[u8]); 7] = [
        ("00112233445566778899aabbccddeeff", 0, b""),
        (&one_letter, 2, b"a"),
        (" DD00112233445566778899AABBCCDDEEFF\r\n", 1, b""),
        (&tls, 2, b"example.com"),
        (
            "7gARIjNEVWZ3iJmqu8zd7v9leGFtcGxlLmNvbQ==",
            2,
            b"example.com",
        ),
        ("3QARIjNEVWZ3iJmqu8zd7v8", 1, b""),
        ("ABEiM0RVZneImaq7zN3u_w==", 0, b""),
    ];
    for (text, kind, domain) in cases {
        let c = co::parse_secret(text.as_bytes()).unwrap();
        let r = ro::parse_secret(text.as_bytes()).unwrap();
        assert_eq!(
            secret!(c),
            (kind, SECRET, domain.to_vec(), domain.len()),
            "{text}"
        );
        assert_eq!(secret!(r), secret!(c), "{text}");
        let canonical = co::format_secret(&c).unwrap();
        assert_eq!(ro::format_secret(&r).unwrap(), canonical);
        let prefix = ["", "dd", "ee"][kind as usize];
        assert_eq!(
            canonical,
            format!("{prefix}{}{}", hex(&SECRET), hex(domain))
        );
    }
}

/// Each rule of the forbidden client-header starts at its edge: the bytes
/// that make a start forbidden, and one byte changed that makes it allowed,
/// on both sides.
#[test]
fn forbidden_header_starts_at_their_edges() {
    let cases: [(&[u8], bool); 14] = [
        (b"\xef", true),
        (b"\xee\xef", false),
        (b"HEAD", true),
        (b"HEAE", false),
        (b"\x16\x03\x01\x02", true),
        (b"\x16\x03\x01\xff", true),
        (b"\x16\x03\x01\x01", false),
        (b"\x16\x03\x02\x02", false),
        (b"\x16\x04\x01\x02", false),
        (b"\x17\x03\x01\x02", false),
        (b"\x16\x00\x00\x00", false),
        (b"\x00\x03\x01\x02", false),
        (b"\x01\x02\x03\x04\0\0\0\0", true),
        (b"\x01\x02\x03\x04\0\0\0\x01", false),
    ];
    for (start, forbidden) in cases {
        let mut random = [0x42u8; 64];
        random[..start.len()].copy_from_slice(start);
        let c = co::build_client_header(&random, Some(&SECRET), ro::TAG_PADDED, 2);
        let r = ro::build_client_header(&random, Some(&SECRET), ro::TAG_PADDED, 2);
        assert_eq!(c.is_err(), forbidden, "C: {start:02x?}");
        assert_eq!(c, r, "{start:02x?}");
    }
}

#[test]
fn hostile_headers_and_lists() {
    let built = ro::build_client_header(&kat_random(), Some(&SECRET), ro::TAG_ABRIDGED, 1).unwrap();
    for len in 0..64 {
        assert_eq!(
            co::parse_header(&built.header[..len], &SECRET, false).map(|_| ()),
            Err(co::ERR_SHORT)
        );
        assert_eq!(
            ro::parse_header(&built.header[..len], &SECRET, false).map(|_| ()),
            Err(ro::ERR_SHORT)
        );
    }
    // Longer input: only the first 64 bytes count.
    let mut long = built.header.to_vec();
    long.extend_from_slice(&[0xaa; 100]);
    assert_eq!(
        co::parse_header(&long, &SECRET, false),
        ro::parse_header(&long, &SECRET, false)
    );
    assert!(ro::parse_header(&long, &SECRET, false).is_ok());
    // Abridged tag under -D: rejected on both sides.
    assert_eq!(
        co::parse_header(&built.header, &SECRET, true).map(|_| ()),
        Err(co::ERR_NO_MATCH)
    );
    assert_eq!(
        ro::parse_header(&built.header, &SECRET, true).map(|_| ()),
        Err(ro::ERR_NO_MATCH)
    );
    assert_eq!(
        co::parse_header(&built.header, &SECRET[..15], false).map(|_| ()),
        Err(co::ERR_ARG)
    );
    assert_eq!(
        ro::parse_header(&built.header, &SECRET[..15], false).map(|_| ()),
        Err(ro::ERR_ARG)
    );
    // A tag outside the three is never accepted.
    let odd = ro::build_client_header(&kat_random(), Some(&SECRET), 0xefef_efee, 1).unwrap();
    assert_eq!(
        co::parse_header(&odd.header, &SECRET, false).map(|_| ()),
        Err(co::ERR_NO_MATCH)
    );
    assert_eq!(
        ro::parse_header(&odd.header, &SECRET, false).map(|_| ()),
        Err(ro::ERR_NO_MATCH)
    );
}

#[test]
fn hostile_secret_texts() {
    let h = hex(&SECRET);
    let bad = [
        String::new(),
        "   ".to_string(),
        h[..31].to_string(),
        format!("{h}0"),
        format!("dd{h}00"),
        format!("ee{h}"),
        format!("ee{h}00"),
        format!("ee{h}{}", "61".repeat(254)),
        format!("ee{h}{}", "2e".repeat(300)),
        "=".repeat(4),
        "A===".to_string(),
        "ABEiM0RVZneImaq7zN3u/w=".to_string(),
        "ABEiM0RVZneImaq7zN3u/w=x".to_string(),
        "A".repeat(100_000),
        // Vertical tab is not trimmed (found by fuzzing: the sides differed).
        format!("\x0b{h}"),
    ];
    for text in bad {
        assert_eq!(
            co::parse_secret(text.as_bytes()).map(|_| ()),
            Err(co::ERR_BAD_SECRET),
            "{text}"
        );
        assert_eq!(
            ro::parse_secret(text.as_bytes()).map(|_| ()),
            Err(ro::ERR_BAD_SECRET),
            "{text}"
        );
    }
}

/// A valid secret as raw bytes: 16, 0xdd + 16 or 0xee + 16 + domain.
fn any_secret_bytes() -> impl Strategy<Value = Vec<u8>> {
    let domain =
        proptest::collection::vec(proptest::sample::select(b"abcXYZ019.-".to_vec()), 1..=253);
    (0..3u8, any::<[u8; 16]>(), domain).prop_map(|(kind, key, domain)| match kind {
        0 => key.to_vec(),
        1 => [&[0xdd][..], &key].concat(),
        _ => [&[0xee][..], &key, &domain].concat(),
    })
}

/// Some text encoding of `raw`, selected by `how`.
fn encode(raw: &[u8], how: u8) -> String {
    match how % 6 {
        0 => hex(raw),
        1 => hex(raw).to_uppercase(),
        2 => format!("\t{}  ", hex(raw)),
        3 => base64(raw, false, true),
        4 => base64(raw, true, false),
        _ => base64(raw, true, true),
    }
}

fn any_random() -> impl Strategy<Value = [u8; 64]> {
    any::<[u8; 32]>().prop_flat_map(|a| {
        any::<[u8; 32]>().prop_map(move |b| {
            let mut r = [0u8; 64];
            r[..32].copy_from_slice(&a);
            r[32..].copy_from_slice(&b);
            r
        })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secrets_agree_on_valid_forms(raw in any_secret_bytes(), how in any::<u8>()) {
        let text = encode(&raw, how);
        let c = co::parse_secret(text.as_bytes()).map(|s| secret!(s));
        let r = ro::parse_secret(text.as_bytes()).map(|s| secret!(s));
        prop_assert!(r.is_ok(), "{}", text);
        prop_assert_eq!(&c, &r);
        let r = ro::parse_secret(text.as_bytes()).unwrap();
        let c = co::parse_secret(text.as_bytes()).unwrap();
        prop_assert_eq!(ro::format_secret(&r).unwrap(), hex(&raw));
        prop_assert_eq!(co::format_secret(&c).unwrap(), hex(&raw));
    }

    #[test]
    fn secrets_agree_on_garbage(text in bytes(600)) {
        prop_assert_eq!(
            co::parse_secret(&text).map(|s| secret!(s)),
            ro::parse_secret(&text).map(|s| secret!(s))
        );
    }

    #[test]
    fn secrets_agree_on_near_misses(raw in any_secret_bytes(), how in any::<u8>(), at in any::<usize>(), to in any::<u8>()) {
        let mut text = encode(&raw, how).into_bytes();
        let i = at % text.len();
        text[i] = to;
        prop_assert_eq!(
            co::parse_secret(&text).map(|s| secret!(s)),
            ro::parse_secret(&text).map(|s| secret!(s))
        );
    }

    #[test]
    fn formatting_agrees(kind in -1..4i32, key in any::<[u8; 16]>(), domain in bytes(253), extra in 0..260usize) {
        let domain_len = if extra > 250 { extra } else { domain.len() };
        // One record for both sides (the core's type): the domain bytes
        // first, zeros after them, and a length that may exceed them.
        let mut domain_bytes = [0u8; 253];
        domain_bytes[..domain.len()].copy_from_slice(&domain);
        let s = ro::Secret { kind, key, domain: domain_bytes, domain_len };
        prop_assert_eq!(co::format_secret(&s), ro::format_secret(&s));
    }

    #[test]
    fn headers_agree_on_random_bytes(header in bytes(70), secrets in proptest::collection::vec(any::<[u8; 16]>(), 0..4), padded_only in any::<bool>()) {
        let list = secrets.concat();
        prop_assert_eq!(
            co::parse_header(&header, &list, padded_only),
            ro::parse_header(&header, &list, padded_only)
        );
    }

    #[test]
    fn client_builds_agree(random in any_random(), secret in proptest::option::of(any::<[u8; 16]>()), tag in any::<u32>(), dc in any::<i16>(), start in 0..12usize) {
        // Also hit the forbidden starts often.
        let starts: [&[u8]; 12] = [b"", b"", b"", b"\xef", b"HEAD", b"POST", b"GET ", b"OPTI", b"\x16\x03\x01", b"\xdd\xdd\xdd\xdd", b"\xee\xee\xee\xee", b"\x01\x02\x03\x04\0\0\0\0"];
        let mut random = random;
        random[..starts[start].len()].copy_from_slice(starts[start]);
        prop_assert_eq!(
            co::build_client_header(&random, secret.as_ref(), tag, dc),
            ro::build_client_header(&random, secret.as_ref(), tag, dc)
        );
    }

    #[test]
    fn client_and_server_pair_up_across_languages(
        random in any_random(),
        secrets in proptest::collection::vec(any::<[u8; 16]>(), 1..6),
        pick in any::<usize>(),
        tag in proptest::sample::select(vec![ro::TAG_ABRIDGED, ro::TAG_INTERMEDIATE, ro::TAG_PADDED]),
        dc in any::<i16>(),
        secretless in any::<bool>(),
        c_builds in any::<bool>(),
    ) {
        let index = pick % secrets.len();
        let secret = (!secretless).then_some(&secrets[index]);
        let list = if secretless { Vec::new() } else { secrets.concat() };
        let built = if c_builds {
            co::build_client_header(&random, secret, tag, dc)
        } else {
            ro::build_client_header(&random, secret, tag, dc)
        };
        let Ok(built) = built else {
            prop_assert_eq!(built.unwrap_err(), ro::ERR_FORBIDDEN);
            return Ok(());
        };
        let parsed = if c_builds {
            ro::parse_header(&built.header, &list, false)
        } else {
            co::parse_header(&built.header, &list, false)
        };
        // An earlier secret may decrypt to a tag by chance (2^-30); then the
        // keys differ and this would fail loudly, which is fine at that rate.
        let want = ro::ServerHeader {
            secret_index: if secretless { -1 } else { index as i32 },
            tag,
            dc,
            read: built.encrypt,
            write: built.decrypt,
        };
        prop_assert_eq!(parsed, Ok(want));
    }
}

mod args;
