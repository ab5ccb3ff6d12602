//! IP address literals and host name resolution (for `--address`, the
//! middle-end list in proxy-multi.conf and `--nat-info`).
//!
//! The literal parsers are strict, so one spelling means one address on both
//! sides of the migration: IPv4 is exactly four decimal octets without
//! leading zeros (no `inet_aton` forms such as `127.1` or octal `010.0.0.1`),
//! IPv6 is the RFC 4291 text form without brackets or zone ids.
use std::net::{IpAddr, ToSocketAddrs};

/// Error: not a valid address literal.
pub const ERR_SYNTAX: i32 = -1;
/// Error: the name does not resolve to an address of the requested family.
pub const ERR_NOT_FOUND: i32 = -2;
/// Error: not a syntactically valid host name.
pub const ERR_BAD_NAME: i32 = -3;
/// Error: bad argument (an unknown family).
pub const ERR_ARG: i32 = -4;

/// `family` values: any address, IPv4 only, IPv6 only.
pub const FAMILY_ANY: i32 = 0;
pub const FAMILY_V4: i32 = 4;
pub const FAMILY_V6: i32 = 6;

/// Longest host name accepted (the DNS limit for a name in text form).
pub const MAX_NAME_LEN: usize = 253;

/// A resolved address: `family` is 4 (`ipv4` holds the host-order address,
/// 127.0.0.1 = 0x7f000001) or 6 (`ipv6` holds it in network byte order); the
/// other family's field is zero.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResolvedAddr {
    pub family: i32,
    /// Host-order IPv4 (127.0.0.1 is 0x7f000001).
    pub ipv4: u32,
    /// IPv6 in network byte order.
    pub ipv6: [u8; 16],
}

impl ResolvedAddr {
    fn from_ipv4(ipv4: u32) -> Self {
        ResolvedAddr {
            family: FAMILY_V4,
            ipv4,
            ipv6: [0; 16],
        }
    }

    fn from_ipv6(ipv6: [u8; 16]) -> Self {
        ResolvedAddr {
            family: FAMILY_V6,
            ipv4: 0,
            ipv6,
        }
    }

    fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::from_ipv4(v4.into()),
            IpAddr::V6(v6) => Self::from_ipv6(v6.octets()),
        }
    }
}

/// One decimal octet: 1 to 3 digits, no leading zero unless it is "0".
fn parse_octet(digits: &[u8]) -> Option<u8> {
    let well_formed = matches!(digits.len(), 1..=3)
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits.first() != Some(&b'0'));
    if !well_formed {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    u8::try_from(value).ok()
}

/// A strict dotted quad ("127.0.0.1") as a host-order `u32`.
pub fn parse_ipv4(text: &[u8]) -> Result<u32, i32> {
    let mut value = 0u32;
    let mut octets = 0;
    for part in text.split(|&b| b == b'.') {
        if octets == 4 {
            return Err(ERR_SYNTAX);
        }
        let octet = parse_octet(part).ok_or(ERR_SYNTAX)?;
        value = (value << 8) | u32::from(octet);
        octets += 1;
    }
    if octets == 4 {
        Ok(value)
    } else {
        Err(ERR_SYNTAX)
    }
}

/// One IPv6 group: 1 to 4 hex digits, either case.
fn parse_hex_group(digits: &[u8]) -> Option<u16> {
    if !matches!(digits.len(), 1..=4) {
        return None;
    }
    digits.iter().try_fold(0u16, |acc, &d| {
        let nibble = char::from(d).to_digit(16)?;
        Some((acc << 4) | nibble as u16)
    })
}

/// Up to eight 16-bit groups read from one side of a `::`.
#[derive(Default)]
struct Groups {
    values: [u16; 8],
    len: usize,
}

impl Groups {
    fn push(&mut self, group: u16) -> Result<(), i32> {
        let slot = self.values.get_mut(self.len).ok_or(ERR_SYNTAX)?;
        *slot = group;
        self.len += 1;
        Ok(())
    }

    fn as_slice(&self) -> &[u16] {
        self.values.get(..self.len).unwrap_or_default()
    }
}

/// Colon-separated groups; if `ends_address`, the last one may be a dotted
/// IPv4 address standing for the final two groups.
fn parse_groups(part: &[u8], ends_address: bool) -> Result<Groups, i32> {
    let mut groups = Groups::default();
    if part.is_empty() {
        return Ok(groups);
    }
    let mut pieces = part.split(|&b| b == b':').peekable();
    while let Some(piece) = pieces.next() {
        let is_last = pieces.peek().is_none();
        if is_last && ends_address && piece.contains(&b'.') {
            let ipv4 = parse_ipv4(piece)?;
            groups.push((ipv4 >> 16) as u16)?;
            groups.push(ipv4 as u16)?;
        } else {
            groups.push(parse_hex_group(piece).ok_or(ERR_SYNTAX)?)?;
        }
    }
    Ok(groups)
}

/// An RFC 4291 IPv6 literal ("2001:db8::1", "::ffff:10.0.0.1") in network
/// byte order. One `::` may stand for one or more zero groups; an embedded
/// IPv4 address may only be the last 32 bits.
pub fn parse_ipv6(text: &[u8]) -> Result<[u8; 16], i32> {
    let double_colon = text.windows(2).position(|w| w == b"::");
    let groups: [u16; 8] = match double_colon {
        None => {
            let all = parse_groups(text, true)?;
            if all.len != 8 {
                return Err(ERR_SYNTAX);
            }
            all.values
        }
        Some(at) => {
            let head_text = text.get(..at).ok_or(ERR_SYNTAX)?;
            let tail_text = text.get(at + 2..).ok_or(ERR_SYNTAX)?;
            let head = parse_groups(head_text, false)?;
            let tail = parse_groups(tail_text, true)?;
            // The `::` must stand for at least one group; a second `::`
            // shows up as an empty group in the tail and fails above.
            if head.len + tail.len > 7 {
                return Err(ERR_SYNTAX);
            }
            let mut all = [0u16; 8];
            for (slot, group) in all.iter_mut().zip(head.as_slice()) {
                *slot = *group;
            }
            for (slot, group) in all.iter_mut().rev().zip(tail.as_slice().iter().rev()) {
                *slot = *group;
            }
            all
        }
    };
    let mut out = [0u8; 16];
    for (pair, group) in out.chunks_exact_mut(2).zip(groups) {
        pair.copy_from_slice(&group.to_be_bytes());
    }
    Ok(out)
}

/// A host name we are willing to look up: 1..=253 bytes of letters, digits,
/// dots and hyphens.
fn check_host_name(name: &[u8]) -> Result<&str, i32> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !valid {
        return Err(ERR_BAD_NAME);
    }
    std::str::from_utf8(name).map_err(|_| ERR_BAD_NAME)
}

/// Resolves `name` to an address of `family` (`FAMILY_ANY`, `FAMILY_V4` or
/// `FAMILY_V6`).
///
/// A strict IPv4 or IPv6 literal is returned without a lookup (or
/// [`ERR_NOT_FOUND`] if it is of the other family). Anything else must be a
/// valid host name ([`ERR_BAD_NAME`]) and goes to the system resolver
/// (`getaddrinfo`, stream sockets, any family); the first address of the
/// requested family wins.
pub fn resolve_host(name: &[u8], family: i32) -> Result<ResolvedAddr, i32> {
    if !matches!(family, FAMILY_ANY | FAMILY_V4 | FAMILY_V6) {
        return Err(ERR_ARG);
    }
    let wanted = |addr: &ResolvedAddr| family == FAMILY_ANY || addr.family == family;
    let literal = parse_ipv4(name)
        .map(ResolvedAddr::from_ipv4)
        .or_else(|_| parse_ipv6(name).map(ResolvedAddr::from_ipv6));
    if let Ok(addr) = literal {
        return Some(addr).filter(wanted).ok_or(ERR_NOT_FOUND);
    }
    let host = check_host_name(name)?;
    let found = (host, 0u16).to_socket_addrs().map_err(|_| ERR_NOT_FOUND)?;
    found
        .map(|sock| ResolvedAddr::from_ip(sock.ip()))
        .find(wanted)
        .ok_or(ERR_NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_is_strict() {
        assert_eq!(parse_ipv4(b"127.0.0.1"), Ok(0x7f00_0001));
        assert_eq!(parse_ipv4(b"255.255.255.255"), Ok(u32::MAX));
        assert_eq!(parse_ipv4(b"0.0.0.0"), Ok(0));
        for bad in [
            &b""[..],
            b"1.2.3",
            b"1.2.3.4.",
            b"1.2.3.4.5",
            b"01.2.3.4",
            b"1.2.3.256",
            b"1.2.3.-4",
            b"+1.2.3.4",
            b" 1.2.3.4",
            b"1..3.4",
            b"1.2.3.4 ",
            b"1234.1.1.1",
        ] {
            assert_eq!(parse_ipv4(bad), Err(ERR_SYNTAX), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_text_forms() {
        let mut loopback = [0u8; 16];
        loopback[15] = 1;
        assert_eq!(parse_ipv6(b"::1"), Ok(loopback));
        assert_eq!(parse_ipv6(b"::"), Ok([0; 16]));
        assert_eq!(parse_ipv6(b"0:0:0:0:0:0:0:1"), Ok(loopback));
        let mapped = parse_ipv6(b"::FFFF:10.0.0.1").unwrap();
        assert_eq!(mapped[10..], [0xff, 0xff, 10, 0, 0, 1]);
        let doc = parse_ipv6(b"2001:db8::8:800:200c:417a").unwrap();
        assert_eq!(doc[..4], [0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(doc[10..], [0x08, 0x00, 0x20, 0x0c, 0x41, 0x7a]);
        assert!(parse_ipv6(b"1:2:3:4:5:6:7::").is_ok());
        assert!(parse_ipv6(b"::2:3:4:5:6:7:8").is_ok());
        assert!(parse_ipv6(b"1:2:3:4:5:6:1.2.3.4").is_ok());
        for bad in [
            &b""[..],
            b":",
            b":::",
            b"1:2:3:4:5:6:7",
            b"1:2:3:4:5:6:7:8:9",
            b"1::2::3",
            b"1:2:3:4::5:6:7:8",
            b":1::",
            b"1:",
            b"12345::",
            b"g::",
            b"1.2.3.4::",
            b"::1.2.3.4:1",
            b"::01.2.3.4",
            b"[::1]",
            b"fe80::1%eth0",
            b"1:2:3:4:5:6:7:1.2.3.4",
        ] {
            assert_eq!(parse_ipv6(bad), Err(ERR_SYNTAX), "{bad:?}");
        }
    }

    #[test]
    fn literals_resolve_without_lookup() {
        assert_eq!(
            resolve_host(b"10.1.2.3", FAMILY_ANY),
            Ok(ResolvedAddr::from_ipv4(0x0a01_0203))
        );
        assert_eq!(resolve_host(b"10.1.2.3", FAMILY_V6), Err(ERR_NOT_FOUND));
        assert_eq!(resolve_host(b"::", FAMILY_V4), Err(ERR_NOT_FOUND));
        assert_eq!(
            resolve_host(b"::", FAMILY_V6),
            Ok(ResolvedAddr::from_ipv6([0; 16]))
        );
        assert_eq!(resolve_host(b"::", 5), Err(ERR_ARG));
    }

    #[test]
    fn bad_names_are_rejected_before_lookup() {
        for bad in [&b""[..], b"a b", b"a\0b", b"a_b", b"1::2::3", b"\xff"] {
            assert_eq!(resolve_host(bad, FAMILY_ANY), Err(ERR_BAD_NAME), "{bad:?}");
        }
        assert_eq!(resolve_host(&[b'a'; 254], FAMILY_ANY), Err(ERR_BAD_NAME));
    }

    #[test]
    fn localhost_comes_from_the_hosts_file() {
        assert_eq!(
            resolve_host(b"localhost", FAMILY_V4),
            Ok(ResolvedAddr::from_ipv4(0x7f00_0001))
        );
    }
}
