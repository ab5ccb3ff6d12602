//! resolver: C vs Rust (and std's parsers as a third opinion) on address
//! literals, plus resolution of literals, bad names and "localhost" (from
//! /etc/hosts). No test here sends a DNS query: random names that would need
//! one are skipped.
//!
//! std agrees with our strict syntax on everything tested here: IPv4 without
//! leading zeros, 1-4 hex digits per group, `::` standing for at least one
//! group, an embedded IPv4 only at the end, no brackets or zone ids.
use parity_tests::{c, config, rust};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use c::resolver as cc;
use rust::common::resolver as rc;

/// The fields of either side's struct (same names on both), for comparing.
macro_rules! fields {
    ($addr:expr) => {{
        let addr = &$addr;
        (addr.family, addr.ipv4, addr.ipv6)
    }};
}

type Fields = (i32, u32, [u8; 16]);

fn c_resolve(name: &[u8], family: i32) -> Result<Fields, i32> {
    cc::resolve_host(name, family).map(|a| fields!(a))
}

fn r_resolve(name: &[u8], family: i32) -> Result<Fields, i32> {
    rc::resolve_host(name, family).map(|a| fields!(a))
}

fn std_ipv4(text: &[u8]) -> Option<u32> {
    Ipv4Addr::from_str(std::str::from_utf8(text).ok()?)
        .ok()
        .map(u32::from)
}

fn std_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    Ipv6Addr::from_str(std::str::from_utf8(text).ok()?)
        .ok()
        .map(|a| a.octets())
}

/// The model of a name the resolver would look up (never done on random input).
fn needs_lookup(name: &[u8]) -> bool {
    let host_name = (1..=253).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    host_name && std_ipv4(name).is_none() && std_ipv6(name).is_none()
}

#[test]
fn known_answers_both_sides() {
    assert_eq!(cc::parse_ipv4(b"127.0.0.1"), Ok(0x7f00_0001));
    assert_eq!(rc::parse_ipv4(b"127.0.0.1"), Ok(0x7f00_0001));
    assert_eq!(cc::parse_ipv4(b"149.154.175.50"), Ok(0x959a_af32));
    assert_eq!(rc::parse_ipv4(b"149.154.175.50"), Ok(0x959a_af32));
    // RFC 4291 §2.2 examples, each with its equivalent spellings.
    let doc = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0x00, 0x20, 0x0c, 0x41, 0x7a,
    ];
    let multicast = [0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01];
    let mut loopback = [0u8; 16];
    loopback[15] = 1;
    let compat = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 1, 68, 3];
    let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 129, 144, 52, 38];
    for (text, want) in [
        (&b"2001:DB8:0:0:8:800:200C:417A"[..], doc),
        (b"2001:db8::8:800:200c:417a", doc),
        (b"FF01:0:0:0:0:0:0:101", multicast),
        (b"FF01::101", multicast),
        (b"0:0:0:0:0:0:0:1", loopback),
        (b"::1", loopback),
        (b"0:0:0:0:0:0:0:0", [0; 16]),
        (b"::", [0; 16]),
        (b"0:0:0:0:0:0:13.1.68.3", compat),
        (b"::13.1.68.3", compat),
        (b"0:0:0:0:0:FFFF:129.144.52.38", mapped),
        (b"::FFFF:129.144.52.38", mapped),
    ] {
        assert_eq!(cc::parse_ipv6(text), Ok(want), "C {text:?}");
        assert_eq!(rc::parse_ipv6(text), Ok(want), "Rust {text:?}");
        assert_eq!(std_ipv6(text), Some(want), "std {text:?}");
    }
}

#[test]
fn constants_agree() {
    assert_eq!(
        [
            cc::ERR_SYNTAX,
            cc::ERR_NOT_FOUND,
            cc::ERR_BAD_NAME,
            cc::ERR_ARG
        ],
        [
            rc::ERR_SYNTAX,
            rc::ERR_NOT_FOUND,
            rc::ERR_BAD_NAME,
            rc::ERR_ARG
        ]
    );
    assert_eq!(
        [cc::FAMILY_ANY, cc::FAMILY_V4, cc::FAMILY_V6],
        [rc::FAMILY_ANY, rc::FAMILY_V4, rc::FAMILY_V6]
    );
}

#[test]
fn rejected_literals_on_both_sides() {
    for bad in [
        &b""[..],
        b"1.2.3",
        b"1.2.3.4.",
        b".1.2.3.4",
        b"01.2.3.4",
        b"1.2.3.256",
        b"1.2.3.4 ",
        b"0x1.2.3.4",
        b"127.1",
        b"1.2.3.-4",
        b"1.2.3.+4",
        b"\xff",
        b"1.2.3.4\0",
    ] {
        assert_eq!(cc::parse_ipv4(bad), Err(cc::ERR_SYNTAX), "C {bad:?}");
        assert_eq!(rc::parse_ipv4(bad), Err(rc::ERR_SYNTAX), "Rust {bad:?}");
        assert_eq!(std_ipv4(bad), None, "std {bad:?}");
    }
    for bad in [
        &b""[..],
        b":",
        b":::",
        b"::1::",
        b"1::2::3",
        b"1:2:3:4:5:6:7",
        b"1:2:3:4:5:6:7:8:9",
        b"1:2:3:4::5:6:7:8",
        b"1:2:3:4:5:6:7:8::",
        b"::1:2:3:4:5:6:7:8",
        b":1:2:3:4:5:6:7:8",
        b"1:2:3:4:5:6:7:8:",
        b"12345::",
        b"g::",
        b"1.2.3.4::",
        b"::1.2.3.4:1",
        b"::01.2.3.4",
        b"::1.2.3",
        b"[::1]",
        b"fe80::1%eth0",
        b"1:2:3:4:5:6:7:1.2.3.4",
        b":: ",
        b"::-1",
        b"1.2.3.4",
    ] {
        assert_eq!(cc::parse_ipv6(bad), Err(cc::ERR_SYNTAX), "C {bad:?}");
        assert_eq!(rc::parse_ipv6(bad), Err(rc::ERR_SYNTAX), "Rust {bad:?}");
        assert_eq!(std_ipv6(bad), None, "std {bad:?}");
    }
}

#[test]
fn localhost_resolves_alike() {
    for family in [rc::FAMILY_ANY, rc::FAMILY_V4, rc::FAMILY_V6] {
        assert_eq!(
            c_resolve(b"localhost", family),
            r_resolve(b"localhost", family),
            "family {family}"
        );
    }
    let want = (4, 0x7f00_0001, [0; 16]);
    assert_eq!(c_resolve(b"localhost", rc::FAMILY_V4), Ok(want));
    assert_eq!(r_resolve(b"localhost", rc::FAMILY_V4), Ok(want));
}

#[test]
fn literals_resolve_without_lookup_alike() {
    let mut v6 = [0u8; 16];
    v6[15] = 1;
    for (name, family, want) in [
        (&b"10.0.0.1"[..], 0, Ok((4, 0x0a00_0001, [0; 16]))),
        (b"10.0.0.1", 4, Ok((4, 0x0a00_0001, [0; 16]))),
        (b"10.0.0.1", 6, Err(rc::ERR_NOT_FOUND)),
        (b"::1", 0, Ok((6, 0, v6))),
        (b"::1", 6, Ok((6, 0, v6))),
        (b"::1", 4, Err(rc::ERR_NOT_FOUND)),
    ] {
        assert_eq!(c_resolve(name, family), want, "C {name:?} {family}");
        assert_eq!(r_resolve(name, family), want, "Rust {name:?} {family}");
    }
}

#[test]
fn bad_names_and_families_fail_alike() {
    let long = vec![b'a'; 254];
    for name in [
        &b""[..],
        b"a_b",
        b"a b",
        b"a\0b",
        b"[::1]",
        b"::1%lo",
        b"x\xff",
        b"1::2::3",
        &long,
    ] {
        for family in [0, 4, 6] {
            assert_eq!(c_resolve(name, family), Err(cc::ERR_BAD_NAME), "C {name:?}");
            assert_eq!(
                r_resolve(name, family),
                Err(rc::ERR_BAD_NAME),
                "Rust {name:?}"
            );
        }
    }
    for family in [-1, 1, 5, 7, 46, i32::MIN, i32::MAX] {
        for name in [&b"localhost"[..], b"127.0.0.1", b""] {
            assert_eq!(c_resolve(name, family), Err(cc::ERR_ARG), "C {family}");
            assert_eq!(r_resolve(name, family), Err(rc::ERR_ARG), "Rust {family}");
        }
    }
}

/// Bytes that look like addresses most of the time.
fn address_like() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => b'0'..=b'9',
        3 => Just(b'.'),
        4 => Just(b':'),
        2 => b'a'..=b'f',
        1 => b'A'..=b'F',
        1 => prop::sample::select(&b"gx -+%[]\0\xff"[..]),
    ];
    prop::collection::vec(byte, 0..=45)
}

/// A valid IPv6 text for random groups: random case and leading zeros, an
/// optional `::` over a run of groups (which become zero) and an optional
/// dotted IPv4 tail. Returns the text and the address it stands for.
fn spelled_ipv6() -> impl Strategy<Value = (String, [u8; 16])> {
    (
        any::<[u16; 8]>(),
        any::<[bool; 8]>(),
        prop::array::uniform8(1usize..=4),
        prop::option::of((0usize..8, 1usize..=8)),
        any::<bool>(),
    )
        .prop_map(|(mut groups, upper, width, run, ipv4_tail)| {
            let group_count = if ipv4_tail { 6 } else { 8 };
            let run = run
                .map(|(start, len)| (start, (start + len).min(group_count)))
                .filter(|(start, end)| start < end);
            if let Some((start, end)) = run {
                groups[start..end].fill(0);
            }
            let mut tokens: Vec<String> = groups[..group_count]
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let text = format!("{g:0w$x}", w = width[i]);
                    if upper[i] {
                        text.to_uppercase()
                    } else {
                        text
                    }
                })
                .collect();
            if ipv4_tail {
                let [a, b] = groups[6].to_be_bytes();
                let [c, d] = groups[7].to_be_bytes();
                tokens.push(format!("{a}.{b}.{c}.{d}"));
            }
            let text = match run {
                None => tokens.join(":"),
                Some((start, end)) => {
                    // The tokens after the run; an IPv4 tail is one token.
                    let tail = &tokens[end.min(tokens.len())..];
                    format!("{}::{}", tokens[..start].join(":"), tail.join(":"))
                }
            };
            let mut bytes = [0u8; 16];
            for (pair, g) in bytes.chunks_exact_mut(2).zip(groups) {
                pair.copy_from_slice(&g.to_be_bytes());
            }
            (text, bytes)
        })
}

/// `text` with one edit: a byte deleted, replaced or inserted (the byte
/// drawn from address characters most of the time).
fn near_miss(mut text: Vec<u8>, (at, kind, byte): (prop::sample::Index, u8, u8)) -> Vec<u8> {
    const CHARS: &[u8] = b"0123456789abcdefABCDEF.:";
    let byte = if byte < 230 {
        CHARS[usize::from(byte) % CHARS.len()]
    } else {
        byte
    };
    let i = at.index(text.len() + 1);
    match kind % 3 {
        0 if i < text.len() => {
            text.remove(i);
        }
        1 if i < text.len() => text[i] = byte,
        _ => text.insert(i, byte),
    }
    text
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ipv4_matches_on_random_text(text in address_like()) {
        let c_out = cc::parse_ipv4(&text);
        prop_assert_eq!(c_out, rc::parse_ipv4(&text));
        prop_assert_eq!(c_out.ok(), std_ipv4(&text));
    }

    #[test]
    fn ipv6_matches_on_random_text(text in address_like()) {
        let c_out = cc::parse_ipv6(&text);
        prop_assert_eq!(c_out, rc::parse_ipv6(&text));
        prop_assert_eq!(c_out.ok(), std_ipv6(&text));
    }

    #[test]
    fn ipv4_spellings_parse_alike(ip in any::<u32>()) {
        let text = Ipv4Addr::from(ip).to_string();
        prop_assert_eq!(cc::parse_ipv4(text.as_bytes()), Ok(ip));
        prop_assert_eq!(rc::parse_ipv4(text.as_bytes()), Ok(ip));
    }

    #[test]
    fn ipv6_spellings_parse_alike((text, want) in spelled_ipv6()) {
        prop_assert_eq!(cc::parse_ipv6(text.as_bytes()), Ok(want), "{}", text);
        prop_assert_eq!(rc::parse_ipv6(text.as_bytes()), Ok(want), "{}", text);
        prop_assert_eq!(std_ipv6(text.as_bytes()), Some(want), "{}", text);
    }

    #[test]
    fn ipv6_as_std_prints_it_parses_alike(octets in any::<[u8; 16]>()) {
        let text = Ipv6Addr::from(octets).to_string();
        prop_assert_eq!(cc::parse_ipv6(text.as_bytes()), Ok(octets), "{}", text);
        prop_assert_eq!(rc::parse_ipv6(text.as_bytes()), Ok(octets), "{}", text);
    }

    #[test]
    fn near_miss_ipv4_spellings_match(ip in any::<u32>(), edit in any::<(prop::sample::Index, u8, u8)>()) {
        let text = near_miss(Ipv4Addr::from(ip).to_string().into_bytes(), edit);
        let c_out = cc::parse_ipv4(&text);
        prop_assert_eq!(c_out, rc::parse_ipv4(&text));
        prop_assert_eq!(c_out.ok(), std_ipv4(&text));
    }

    #[test]
    fn near_miss_ipv6_spellings_match((text, _) in spelled_ipv6(), edit in any::<(prop::sample::Index, u8, u8)>()) {
        let text = near_miss(text.into_bytes(), edit);
        let c_out = cc::parse_ipv6(&text);
        prop_assert_eq!(c_out, rc::parse_ipv6(&text));
        prop_assert_eq!(c_out.ok(), std_ipv6(&text), "{}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn literals_resolve_alike(
        (v6_text, v6) in spelled_ipv6(),
        v4 in any::<u32>(),
        use_v4 in any::<bool>(),
        family in prop::sample::select(&[0, 4, 6][..]),
    ) {
        let (text, literal_family, want) = if use_v4 {
            (Ipv4Addr::from(v4).to_string(), 4, (4, v4, [0; 16]))
        } else {
            (v6_text, 6, (6, 0, v6))
        };
        let model = if family == 0 || family == literal_family { Ok(want) } else { Err(rc::ERR_NOT_FOUND) };
        prop_assert_eq!(c_resolve(text.as_bytes(), family), model);
        prop_assert_eq!(r_resolve(text.as_bytes(), family), model);
    }

    #[test]
    fn resolve_matches_without_lookups(name in address_like(), family in prop_oneof![Just(0), Just(4), Just(6), any::<i32>()]) {
        // Names that would go to DNS are left out; "localhost" is tested above.
        if needs_lookup(&name) && matches!(family, 0 | 4 | 6) {
            return Ok(());
        }
        let c_out = c_resolve(&name, family);
        prop_assert_eq!(c_out, r_resolve(&name, family));
        let model = if !matches!(family, 0 | 4 | 6) {
            Err(rc::ERR_ARG)
        } else if let Some(ip) = std_ipv4(&name) {
            if family == 6 { Err(rc::ERR_NOT_FOUND) } else { Ok((4, ip, [0; 16])) }
        } else if let Some(ip) = std_ipv6(&name) {
            if family == 4 { Err(rc::ERR_NOT_FOUND) } else { Ok((6, 0, ip)) }
        } else {
            Err(rc::ERR_BAD_NAME)
        };
        prop_assert_eq!(c_out, model);
    }
}
