//! The PROXY protocol, versions 1 and 2 (HAProxy's specification, summed up
//! in docs/RUNTIME.md "PROXY protocol"): the header a TCP load balancer
//! writes before a client's first byte, naming the client's address. Sans-IO:
//! [`parse`] looks at the bytes received so far and says whether a header is
//! complete, still incomplete, or not one; [`Cidr`] says whether the
//! connection comes from a balancer the operator trusts. The encoders are the
//! other side, for the test kit (and for a relay that passes the address on).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 header, its CR LF included.
pub const V1_MAX_LEN: usize = 107;
/// Version 2: the fixed part (signature, version and command, family,
/// length).
pub const V2_FIXED_LEN: usize = 16;
/// Version 2: most address and TLV bytes accepted after the fixed part
/// (balancers add a few TLVs; the addresses take at most 216 bytes).
pub const V2_MAX_PAYLOAD: usize = 1024;

const V1_PREFIX: &[u8] = b"PROXY ";

/// Where the connection really comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The client's address and port.
    Client(SocketAddr),
    /// The balancer speaks for itself (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC: a
    /// health check): the connection's own address stands.
    Local,
}

/// A complete header: what it says and how many bytes it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub source: Source,
    pub len: usize,
}

/// Why the bytes are not an acceptable header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Neither signature: the peer sent no header.
    Missing,
    /// A header that breaks the format (or names a non-TCP transport).
    Malformed,
    /// Longer than [`V1_MAX_LEN`] or [`V2_MAX_PAYLOAD`] allow.
    TooLong,
}

/// A header at the start of `buf`: `Ok(None)` while it is incomplete (every
/// prefix of a valid header is), `Ok(Some)` once complete.
pub fn parse(buf: &[u8]) -> Result<Option<Header>, Error> {
    let starts = |sig: &[u8]| buf[..buf.len().min(sig.len())] == sig[..buf.len().min(sig.len())];
    if buf.is_empty() {
        Ok(None)
    } else if starts(&V2_SIGNATURE) {
        parse_v2(buf)
    } else if starts(V1_PREFIX) {
        parse_v1(buf)
    } else {
        Err(Error::Missing)
    }
}

fn parse_v1(buf: &[u8]) -> Result<Option<Header>, Error> {
    let window = &buf[..buf.len().min(V1_MAX_LEN)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX_LEN {
            Err(Error::TooLong)
        } else if window.contains(&b'\n') {
            Err(Error::Malformed)
        } else {
            Ok(None)
        };
    };
    let line = std::str::from_utf8(&window[..end]).map_err(|_| Error::Malformed)?;
    let fields: Vec<&str> = line.split(' ').collect();
    let len = end + 2;
    let source = match fields.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Source::Local,
        ["PROXY", proto, src, dst, sport, dport] => {
            let (src, _dst) = match *proto {
                "TCP4" => (v1_ip::<Ipv4Addr>(src)?, v1_ip::<Ipv4Addr>(dst)?),
                "TCP6" => (v1_ip::<Ipv6Addr>(src)?, v1_ip::<Ipv6Addr>(dst)?),
                _ => return Err(Error::Malformed),
            };
            let (port, _) = (v1_port(sport)?, v1_port(dport)?);
            Source::Client(SocketAddr::new(src, port))
        }
        _ => return Err(Error::Malformed),
    };
    Ok(Some(Header { source, len }))
}

fn v1_ip<T: std::str::FromStr + Into<IpAddr>>(text: &str) -> Result<IpAddr, Error> {
    text.parse::<T>()
        .map(Into::into)
        .map_err(|_| Error::Malformed)
}

/// A port in decimal: digits only, no leading zero, at most 65535.
fn v1_port(text: &str) -> Result<u16, Error> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return Err(Error::Malformed);
    }
    text.parse().map_err(|_| Error::Malformed)
}

fn parse_v2(buf: &[u8]) -> Result<Option<Header>, Error> {
    let Some(fixed) = buf.get(..V2_FIXED_LEN) else {
        // A version byte already seen must be right.
        return match buf.get(12) {
            Some(v) if v >> 4 != 2 => Err(Error::Malformed),
            _ => Ok(None),
        };
    };
    let (version, command, family) = (fixed[12] >> 4, fixed[12] & 0x0f, fixed[13]);
    let payload_len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if version != 2 || command > 1 {
        return Err(Error::Malformed);
    }
    if payload_len > V2_MAX_PAYLOAD {
        return Err(Error::TooLong);
    }
    let Some(payload) = buf.get(V2_FIXED_LEN..V2_FIXED_LEN + payload_len) else {
        return Ok(None);
    };
    let len = V2_FIXED_LEN + payload_len;
    let local = Ok(Some(Header {
        source: Source::Local,
        len,
    }));
    if command == 0 {
        return local;
    }
    let port_at = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
    let source = match family {
        0x00 => return local,
        // TCP over IPv4: source, destination, source port, destination port.
        0x11 if payload_len >= 12 => {
            let ip: [u8; 4] = payload[..4].try_into().map_err(|_| Error::Malformed)?;
            SocketAddr::from((ip, port_at(8)))
        }
        // TCP over IPv6: the same with 16-byte addresses.
        0x21 if payload_len >= 36 => {
            let ip: [u8; 16] = payload[..16].try_into().map_err(|_| Error::Malformed)?;
            SocketAddr::from((ip, port_at(32)))
        }
        _ => return Err(Error::Malformed),
    };
    Ok(Some(Header {
        source: Source::Client(source),
        len,
    }))
}

/// A version 1 header for a TCP connection from `src` to `dst` (one family).
pub fn encode_v1(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let proto = if src.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {proto} {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    )
    .into_bytes()
}

/// A version 2 PROXY header for a TCP connection from `src` to `dst` (one
/// family), followed by `tlvs` (raw TLV bytes).
pub fn encode_v2(src: SocketAddr, dst: SocketAddr, tlvs: &[u8]) -> Vec<u8> {
    let mut addresses = Vec::new();
    let family = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            addresses.extend_from_slice(&s.octets());
            addresses.extend_from_slice(&d.octets());
            0x11
        }
        (s, d) => {
            addresses.extend_from_slice(&to_v6(s).octets());
            addresses.extend_from_slice(&to_v6(d).octets());
            0x21
        }
    };
    addresses.extend_from_slice(&src.port().to_be_bytes());
    addresses.extend_from_slice(&dst.port().to_be_bytes());
    addresses.extend_from_slice(tlvs);
    let mut out = V2_SIGNATURE.to_vec();
    out.extend_from_slice(&[0x21, family]);
    out.extend_from_slice(&(addresses.len() as u16).to_be_bytes());
    out.extend_from_slice(&addresses);
    out
}

/// A version 2 LOCAL header (the balancer's own connection).
pub fn encode_v2_local() -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.extend_from_slice(&[0x20, 0x00, 0, 0]);
    out
}

fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// An address block, `ADDR/PREFIX` (a bare address is one host). An
/// IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4
/// peer) is matched as the IPv4 address it maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), 32, self.prefix)
                    == masked(u128::from(u32::from(ip)), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
    let keep = u32::from(prefix).min(width);
    if keep == 0 {
        0
    } else {
        bits >> (width - keep)
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("`{text}` is not an address block (ADDR or ADDR/PREFIX)");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let width = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= width)
                .ok_or_else(bad)?,
            Some(_) => return Err(bad()),
        };
        Ok(Cidr { net, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn client(text: &str, len: usize) -> Result<Option<Header>, Error> {
        Ok(Some(Header {
            source: Source::Client(addr(text)),
            len,
        }))
    }

    #[test]
    fn version_1_lines() {
        let line = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
        assert_eq!(parse(line), client("192.0.2.1:56324", line.len()));
        let line = b"PROXY TCP6 2001:db8::1 2001:db8::2 65535 443\r\nrest";
        assert_eq!(parse(line), client("[2001:db8::1]:65535", line.len() - 4));
        let unknown = b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
        let local = Header {
            source: Source::Local,
            len: unknown.len(),
        };
        assert_eq!(parse(unknown), Ok(Some(local)));
        for bad in [
            &b"PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n"[..],
            b"PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",
            b"PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
            b"PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",
            b"PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",
            b"PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n",
            b"PROXY TCP4 192.0.2.1 198.51.100.2 +1 2\r\n",
            b"PROXY TCP4 192.0.2.1 198.51.100.2 01 2\r\n",
            b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",
        ] {
            assert_eq!(
                parse(bad),
                Err(Error::Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(V1_MAX_LEN, b'x');
        assert_eq!(parse(&long), Err(Error::TooLong));
        long[V1_MAX_LEN - 2..].copy_from_slice(b"\r\n");
        assert!(matches!(parse(&long), Ok(Some(h)) if h.len == V1_MAX_LEN));
    }

    #[test]
    fn version_2_headers() {
        let src = addr("203.0.113.7:40000");
        let dst = addr("127.0.0.1:443");
        let header = encode_v2(src, dst, &[]);
        assert_eq!(header.len(), V2_FIXED_LEN + 12);
        assert_eq!(parse(&header), client("203.0.113.7:40000", 28));
        let six = encode_v2(addr("[2001:db8::7]:1"), addr("[::1]:443"), &[0x04, 0, 1, 9]);
        assert_eq!(
            parse(&six),
            client("[2001:db8::7]:1", V2_FIXED_LEN + 36 + 4)
        );
        let local = encode_v2_local();
        let want = Header {
            source: Source::Local,
            len: V2_FIXED_LEN,
        };
        assert_eq!(parse(&local), Ok(Some(want)));
        let patched = |at: usize, value: u8| {
            let mut h = header.clone();
            h[at] = value;
            parse(&h)
        };
        assert_eq!(patched(12, 0x11), Err(Error::Malformed), "version 1 byte");
        assert_eq!(patched(12, 0x22), Err(Error::Malformed), "command 2");
        assert_eq!(patched(13, 0x12), Err(Error::Malformed), "UDP");
        assert_eq!(patched(13, 0x31), Err(Error::Malformed), "UNIX");
        assert_eq!(patched(15, 11), Err(Error::Malformed), "IPv4 in 11 bytes");
        assert!(matches!(patched(13, 0x00), Ok(Some(h)) if h.source == Source::Local));
        let mut huge = header.clone();
        huge[14..16].copy_from_slice(&((V2_MAX_PAYLOAD + 1) as u16).to_be_bytes());
        assert_eq!(parse(&huge), Err(Error::TooLong));
    }

    #[test]
    fn no_header_is_missing() {
        for start in [
            &b"\xef\xef\xef\xef"[..],
            b"\x16\x03\x01",
            b"GET /",
            b"PROXYX",
            b"\r\n\r\n\x01",
        ] {
            assert_eq!(parse(start), Err(Error::Missing), "{start:?}");
        }
        assert_eq!(parse(b""), Ok(None));
    }

    #[test]
    fn address_blocks() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains("10.1.255.3".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.2.3".parse().unwrap()), "mapped");
        assert!(!block.contains("2001:db8::1".parse().unwrap()));
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert!(host.contains("127.0.0.1".parse().unwrap()));
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let six: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(six.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!six.contains("2001:db9::1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "::/129",
            "host/8",
            "10.0.0.0/+8",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    fn any_pair() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
        prop_oneof![
            (
                any::<[u8; 4]>(),
                any::<u16>(),
                any::<[u8; 4]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (SocketAddr::from((a, p)), SocketAddr::from((b, q)))),
            (
                any::<[u8; 16]>(),
                any::<u16>(),
                any::<[u8; 16]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (SocketAddr::from((a, p)), SocketAddr::from((b, q)))),
        ]
    }

    proptest! {
        /// Every encoded header parses back to its source, whole or with
        /// client bytes after it; every strict prefix is incomplete.
        #[test]
        fn headers_round_trip_and_prefixes_wait((src, dst) in any_pair(), v2 in any::<bool>(),
                tlvs in proptest::collection::vec(any::<u8>(), 0..64), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let header = if v2 { encode_v2(src, dst, &tlvs) } else { encode_v1(src, dst) };
            let mut bytes = header.clone();
            bytes.extend_from_slice(&tail);
            let want = Header { source: Source::Client(src), len: header.len() };
            prop_assert_eq!(parse(&bytes), Ok(Some(want)));
            for cut in 0..header.len() {
                prop_assert_eq!(parse(&header[..cut]), Ok(None), "prefix of {}", cut);
            }
        }

        /// Arbitrary bytes never panic, and a complete header never claims
        /// more bytes than it was given.
        #[test]
        fn arbitrary_bytes_are_judged(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), v2 in any::<bool>()) {
            if v2 && bytes.len() >= 12 {
                bytes[..12].copy_from_slice(&V2_SIGNATURE);
            } else if bytes.len() >= 6 {
                bytes[..6].copy_from_slice(b"PROXY ");
            }
            if let Ok(Some(h)) = parse(&bytes) {
                prop_assert!(h.len <= bytes.len());
            }
        }
    }
}
