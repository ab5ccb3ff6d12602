//! TLS 1.3 wire helpers shared by the fake domain, the client and tests:
//! a parser for a server's first flight (what a TLS 1.3 server — or the
//! proxy's fake-TLS imitation of one, docs/PROTOCOL.md §2.3 — writes after a
//! ClientHello), and a browser-like ClientHello like the one the proxy's
//! domain probe sends (§2.4).

/// Record content types.
const HANDSHAKE: u8 = 0x16;
const CHANGE_CIPHER_SPEC: u8 = 0x14;
const APPLICATION_DATA: u8 = 0x17;

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Extension numbers the proxy cares about.
pub const EXT_KEY_SHARE: u16 = 0x0033;
pub const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
/// The X25519 named group.
pub const GROUP_X25519: u16 = 0x001d;

/// What a server's first flight looks like on the wire: a ServerHello
/// record, optionally the dummy ChangeCipherSpec record, then the
/// application-data (`17 03 03`) records that carry the encrypted rest of
/// the flight (EncryptedExtensions, Certificate, CertificateVerify, Finished
/// for a real server; random bytes for the proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlight {
    /// The ServerHello is a HelloRetryRequest.
    pub hello_retry_request: bool,
    /// The legacy_session_id echoed by the server.
    pub session_id: Vec<u8>,
    /// The chosen cipher suite, e.g. 0x1301.
    pub cipher_suite: u16,
    /// The ServerHello's extension types, in wire order (e.g.
    /// `[0x33, 0x2b]` = key_share first).
    pub extensions_order: Vec<u16>,
    /// The key_share extension's group, if present.
    pub key_share_group: Option<u16>,
    /// The key_share extension's key exchange bytes (empty in an HRR or
    /// without key_share).
    pub key_share: Vec<u8>,
    /// A `14 03 03 00 01 01` record followed the ServerHello.
    pub change_cipher_spec: bool,
    /// Payload length of every `17 03 03` record after that, in order, up
    /// to the end of the input or the first record of another type.
    pub app_data_record_lens: Vec<usize>,
    /// Bytes of the input these records span.
    pub wire_len: usize,
}

impl ServerFlight {
    /// The application-data payload bytes, summed.
    pub fn app_data_payload_total(&self) -> usize {
        self.app_data_record_lens.iter().sum()
    }

    /// The application-data records' bytes including their 5-byte headers.
    pub fn app_data_wire_total(&self) -> usize {
        self.app_data_record_lens.iter().map(|len| 5 + len).sum()
    }

    /// The key share as an X25519 public key, if it is one.
    pub fn x25519_key(&self) -> Option<[u8; 32]> {
        if self.key_share_group != Some(GROUP_X25519) {
            return None;
        }
        self.key_share.as_slice().try_into().ok()
    }

    /// key_share came before supported_versions.
    pub fn key_share_first(&self) -> bool {
        let at = |ext| self.extensions_order.iter().position(|&e| e == ext);
        match (at(EXT_KEY_SHARE), at(EXT_SUPPORTED_VERSIONS)) {
            (Some(k), Some(v)) => k < v,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// Why [`parse_server_flight`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightError {
    /// The input ends inside a record (or before the ServerHello).
    Truncated,
    /// Not the shape of a TLS 1.3 server flight; says what was wrong.
    Malformed(&'static str),
}

impl std::fmt::Display for FlightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlightError::Truncated => write!(f, "flight truncated"),
            FlightError::Malformed(what) => write!(f, "malformed flight: {what}"),
        }
    }
}

impl std::error::Error for FlightError {}

/// A cursor over bytes that fails with `Truncated` when they run out.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FlightError> {
        if self.data.len() < n {
            return Err(FlightError::Truncated);
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, FlightError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FlightError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Result<usize, FlightError> {
        let b = self.take(3)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
}

/// A record: (content type, payload, bytes it spans).
type Record<'a> = (u8, &'a [u8], usize);

/// The record at the start of `data`, or `None` at the end.
fn record(data: &[u8]) -> Result<Option<Record<'_>>, FlightError> {
    if data.is_empty() {
        return Ok(None);
    }
    let mut r = Reader { data };
    let kind = r.u8()?;
    let version = r.u16()?;
    if version >> 8 != 3 {
        return Err(FlightError::Malformed("record version is not 3.x"));
    }
    let len = usize::from(r.u16()?);
    let payload = r.take(len)?;
    Ok(Some((kind, payload, 5 + len)))
}

/// Parses the start of what a TLS 1.3 server sent: the ServerHello record
/// (which must hold exactly one whole ServerHello), an optional CCS record
/// and the application-data records after it. Stops at the end of `data` or
/// at the first record of another type; a record cut short is `Truncated`.
pub fn parse_server_flight(data: &[u8]) -> Result<ServerFlight, FlightError> {
    let Some((kind, hello_record, mut at)) = record(data)? else {
        return Err(FlightError::Truncated);
    };
    if kind != HANDSHAKE {
        return Err(FlightError::Malformed("first record is not a handshake"));
    }
    let mut r = Reader { data: hello_record };
    if r.u8()? != 2 {
        return Err(FlightError::Malformed("first message is not a ServerHello"));
    }
    let body_len = r.u24()?;
    if body_len != r.data.len() {
        return Err(FlightError::Malformed(
            "ServerHello does not fill its record",
        ));
    }
    let mut hello = Reader {
        data: r.take(body_len)?,
    };
    let malformed = |_| FlightError::Malformed("ServerHello body too short");
    hello.u16().map_err(malformed)?; // legacy_version
    let random = hello.take(32).map_err(malformed)?;
    let sid_len = usize::from(hello.u8().map_err(malformed)?);
    let session_id = hello.take(sid_len).map_err(malformed)?.to_vec();
    let cipher_suite = hello.u16().map_err(malformed)?;
    hello.u8().map_err(malformed)?; // compression
    let ext_len = usize::from(hello.u16().map_err(malformed)?);
    if ext_len != hello.data.len() {
        return Err(FlightError::Malformed("extensions length mismatch"));
    }
    let hello_retry_request = random == HELLO_RETRY_RANDOM;
    let mut extensions_order = Vec::new();
    let mut key_share_group = None;
    let mut key_share = Vec::new();
    while !hello.data.is_empty() {
        let kind = hello.u16().map_err(malformed)?;
        let len = usize::from(hello.u16().map_err(malformed)?);
        let body = hello.take(len).map_err(malformed)?;
        extensions_order.push(kind);
        if kind == EXT_KEY_SHARE {
            let mut share = Reader { data: body };
            let bad = |_| FlightError::Malformed("bad key_share extension");
            key_share_group = Some(share.u16().map_err(bad)?);
            if !hello_retry_request {
                let key_len = usize::from(share.u16().map_err(bad)?);
                key_share = share.take(key_len).map_err(bad)?.to_vec();
            }
        }
    }
    let mut flight = ServerFlight {
        hello_retry_request,
        session_id,
        cipher_suite,
        extensions_order,
        key_share_group,
        key_share,
        change_cipher_spec: false,
        app_data_record_lens: Vec::new(),
        wire_len: at,
    };
    let rest = data.get(at..).unwrap_or_default();
    if let Some((CHANGE_CIPHER_SPEC, payload, len)) = record(rest)? {
        if payload != [1] {
            return Err(FlightError::Malformed("ChangeCipherSpec is not 01"));
        }
        flight.change_cipher_spec = true;
        at += len;
    }
    while let Some((APPLICATION_DATA, payload, len)) = record(data.get(at..).unwrap_or_default())? {
        flight.app_data_record_lens.push(payload.len());
        at += len;
    }
    flight.wire_len = at;
    Ok(flight)
}

/// Swaps the first two extensions of the ServerHello at the start of
/// `flight` in place (same length). Used by the fake domain to imitate
/// servers that put supported_versions first; a real client can then not
/// finish the handshake (the transcript no longer matches), a probe that
/// only reads the flight can. Returns false if `flight` does not start with
/// a ServerHello having at least two extensions.
pub fn swap_first_two_server_hello_extensions(flight: &mut [u8]) -> bool {
    let Some(sid_len) = flight.get(43).map(|&b| usize::from(b)) else {
        return false;
    };
    let ext_start = 44 + sid_len + 3 + 2;
    let Some(ext_len) = flight
        .get(ext_start - 2..ext_start)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return false;
    };
    let Some(exts) = flight.get_mut(ext_start..ext_start + ext_len) else {
        return false;
    };
    let Some(first_len) = exts
        .get(2..4)
        .map(|b| 4 + usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return false;
    };
    let Some(second_len) = exts
        .get(first_len + 2..first_len + 4)
        .map(|b| 4 + usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return false;
    };
    let Some(both) = exts.get_mut(..first_len + second_len) else {
        return false;
    };
    both.rotate_left(first_len);
    true
}

/// A 517-byte Chrome-like TLS 1.3 ClientHello (GREASE, SNI `sni`, ALPN h2 and
/// http/1.1, X25519 key share `key_share`, TLS 1.3 and 1.2 offered, padding)
/// — the kind of hello the proxy's domain probe sends (§2.4). Longer than
/// 517 bytes only if `sni` is too long to fit.
pub fn probe_client_hello(
    sni: &str,
    random: &[u8; 32],
    session_id: &[u8; 32],
    key_share: &[u8; 32],
) -> Vec<u8> {
    const TARGET: usize = 517;
    let grease = |i: u8| {
        let b = (random[usize::from(i)] & 0xf0) | 0x0a;
        [b, b]
    };
    let be16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    let ext = |out: &mut Vec<u8>, kind: [u8; 2], body: &[u8]| {
        out.extend(kind);
        out.extend(be16(body.len()));
        out.extend(body);
    };
    let mut exts = Vec::new();
    ext(&mut exts, grease(1), &[]);
    let name = sni.as_bytes();
    let mut server_name = Vec::new();
    server_name.extend(be16(name.len() + 3));
    server_name.push(0);
    server_name.extend(be16(name.len()));
    server_name.extend(name);
    ext(&mut exts, [0x00, 0x00], &server_name);
    ext(&mut exts, [0x00, 0x17], &[]); // extended_master_secret
    ext(&mut exts, [0xff, 0x01], &[0x00]); // renegotiation_info
    let g = grease(2);
    ext(
        &mut exts,
        [0x00, 0x0a], // supported_groups
        &[0x00, 0x08, g[0], g[1], 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18],
    );
    ext(&mut exts, [0x00, 0x0b], &[0x01, 0x00]); // ec_point_formats
    ext(&mut exts, [0x00, 0x23], &[]); // session_ticket
    ext(
        &mut exts,
        [0x00, 0x10], // ALPN
        b"\x00\x0c\x02h2\x08http/1.1",
    );
    ext(&mut exts, [0x00, 0x05], &[0x01, 0x00, 0x00, 0x00, 0x00]); // status_request
    ext(
        &mut exts,
        [0x00, 0x0d], // signature_algorithms
        &[
            0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01,
            0x08, 0x06, 0x06, 0x01,
        ],
    );
    ext(&mut exts, [0x00, 0x12], &[]); // signed_certificate_timestamp
    let mut shares = Vec::new();
    shares.extend(be16(5 + 4 + 32));
    shares.extend(g);
    shares.extend([0x00, 0x01, 0x00]);
    shares.extend([0x00, 0x1d, 0x00, 0x20]);
    shares.extend(key_share);
    ext(&mut exts, [0x00, 0x33], &shares);
    ext(&mut exts, [0x00, 0x2d], &[0x01, 0x01]); // psk_key_exchange_modes
    let v = grease(3);
    ext(
        &mut exts,
        [0x00, 0x2b], // supported_versions
        &[0x06, v[0], v[1], 0x03, 0x04, 0x03, 0x03],
    );
    // A second GREASE extension, never the same type as the first (a
    // duplicate extension is fatal, RFC 8446 §4.2).
    let mut last = grease(4);
    if last == grease(1) {
        last = [last[0] ^ 0x10, last[1] ^ 0x10];
    }
    ext(&mut exts, last, &[0x00]);

    let suites: [u8; 32] = {
        let s = grease(0);
        [
            s[0], s[1], 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c,
            0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d,
            0x00, 0x2f, 0x00, 0x35,
        ]
    };
    let mut body = vec![0x03, 0x03];
    body.extend(random);
    body.push(32);
    body.extend(session_id);
    body.extend(be16(suites.len()));
    body.extend(suites);
    body.extend([0x01, 0x00]);
    // Record header 5 + handshake header 4 + body + extensions length 2 +
    // extensions + a padding extension (4 + fill).
    let fixed = 5 + 4 + body.len() + 2 + exts.len();
    if fixed + 4 <= TARGET {
        ext(&mut exts, [0x00, 0x15], &vec![0; TARGET - fixed - 4]);
    }
    body.extend(be16(exts.len()));
    body.extend(exts);
    let mut out = vec![HANDSHAKE, 0x03, 0x01];
    out.extend(be16(body.len() + 4));
    out.push(0x01);
    out.extend(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes()[1..]);
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy's §2.3 layout with N = 300, built by hand.
    fn proxy_like(swapped: bool, n: usize) -> Vec<u8> {
        let mut out = vec![
            0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03,
        ];
        out.extend([0xaa; 32]);
        out.push(0x20);
        out.extend([0x55; 32]);
        out.extend([0x13, 0x01, 0x00, 0x00, 0x2e]);
        let mut key_share = vec![0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20];
        key_share.extend([9; 32]);
        let versions = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
        if swapped {
            out.extend(versions);
            out.extend(&key_share);
        } else {
            out.extend(&key_share);
            out.extend(versions);
        }
        out.extend([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
        out.extend([0x17, 0x03, 0x03]);
        out.extend(u16::try_from(n).unwrap().to_be_bytes());
        out.extend(vec![0x77; n]);
        out
    }

    #[test]
    fn parses_the_proxy_layout_both_orders() {
        let plain = proxy_like(false, 300);
        assert_eq!(plain.len(), 138 + 300);
        let flight = parse_server_flight(&plain).unwrap();
        assert_eq!(flight.extensions_order, [0x33, 0x2b]);
        assert!(flight.key_share_first());
        assert_eq!(flight.app_data_record_lens, [300]);
        assert_eq!(flight.app_data_wire_total(), 305);
        assert_eq!(flight.cipher_suite, 0x1301);
        assert_eq!(flight.session_id, [0x55; 32]);
        assert_eq!(flight.x25519_key(), Some([9; 32]));
        assert!(flight.change_cipher_spec);
        assert!(!flight.hello_retry_request);
        assert_eq!(flight.wire_len, plain.len());

        let swapped = parse_server_flight(&proxy_like(true, 300)).unwrap();
        assert_eq!(swapped.extensions_order, [0x2b, 0x33]);
        assert!(!swapped.key_share_first());
        assert_eq!(swapped.x25519_key(), Some([9; 32]));

        let mut rotated = plain.clone();
        assert!(swap_first_two_server_hello_extensions(&mut rotated));
        assert_eq!(rotated, proxy_like(true, 300));
    }

    #[test]
    fn stops_at_other_records_and_reports_truncation() {
        let mut data = proxy_like(false, 10);
        data.extend([0x17, 0x03, 0x03, 0x00, 0x02, 1, 2]);
        data.extend([0x15, 0x03, 0x03, 0x00, 0x02, 2, 0]); // an alert
        let flight = parse_server_flight(&data).unwrap();
        assert_eq!(flight.app_data_record_lens, [10, 2]);
        assert_eq!(flight.wire_len, data.len() - 7);
        for cut in [0, 3, 60, 130, 140] {
            assert_eq!(
                parse_server_flight(&data[..cut]),
                Err(FlightError::Truncated),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            parse_server_flight(&[0x15, 0x03, 0x03, 0x00, 0x02, 2, 40]),
            Err(FlightError::Malformed(_))
        ));
    }

    #[test]
    fn probe_hello_is_517_bytes_with_the_sni() {
        let hello = probe_client_hello("example.com", &[1; 32], &[2; 32], &[3; 32]);
        assert_eq!(hello.len(), 517);
        assert_eq!(hello[..5], [0x16, 0x03, 0x01, 0x02, 0x00]);
        assert_eq!(usize::from(u16::from_be_bytes([hello[3], hello[4]])), 512);
        assert_eq!(hello[5], 0x01);
        assert!(hello.windows(11).any(|w| w == b"example.com"));
        assert!(hello
            .windows(36)
            .any(|w| w[..4] == [0x00, 0x1d, 0x00, 0x20] && w[4..] == [3; 32]));
        // Whatever the random bytes, no extension type appears twice.
        for seed in 0..=255u8 {
            let mut random = [seed; 32];
            random[4] = seed.rotate_left(4);
            let hello = probe_client_hello("x.test", &random, &[2; 32], &[3; 32]);
            // record 5 + type/len 4 + version 2 + random 32 + sid 33 +
            // suites 2 + 32 + compression 2 + extensions length 2.
            let mut at = 5 + 4 + 2 + 32 + 33 + 2 + 32 + 2 + 2;
            let mut seen = Vec::new();
            while at < hello.len() {
                let kind = u16::from_be_bytes([hello[at], hello[at + 1]]);
                let len = usize::from(u16::from_be_bytes([hello[at + 2], hello[at + 3]]));
                assert!(!seen.contains(&kind), "seed {seed}: {kind:#06x} twice");
                seen.push(kind);
                at += 4 + len;
            }
            assert_eq!(at, hello.len());
        }
        let long = "a".repeat(500);
        assert!(probe_client_hello(&long, &[1; 32], &[2; 32], &[3; 32]).len() > 517);
    }
}
