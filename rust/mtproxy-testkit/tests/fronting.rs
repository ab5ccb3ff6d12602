//! The fake fronting domain: recording, the one reply, shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mtproxy_testkit::fronting::FakeDomain;

const WAIT: Duration = Duration::from_secs(10);

/// xorshift64, for reproducible "random" chunk sizes.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn hello_like(len: usize) -> Vec<u8> {
    let mut out = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    out.extend((out.len()..len).map(|i| (i * 31 + 5) as u8));
    out
}

fn connect(domain: &FakeDomain) -> TcpStream {
    let stream = TcpStream::connect(domain.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

#[test]
fn tls_like_reply_starts_like_a_tls_handshake_record() {
    let reply = FakeDomain::tls_like_reply();
    assert_eq!(reply[..3], [0x16, 0x03, 0x03]);
    let len = u16::from_be_bytes([reply[3], reply[4]]) as usize;
    assert!(reply.len() > 5 + len, "more records follow the first");
    assert_eq!(reply[5], 0x02, "ServerHello-shaped");
}

#[test]
fn chunked_hello_is_recorded_and_answered_once() {
    let reply = FakeDomain::tls_like_reply();
    let domain = FakeDomain::start(reply.clone()).unwrap();
    let hello = hello_like(517);
    assert_eq!(hello.len(), 517);
    let mut stream = connect(&domain);
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut sent = 0;
    while sent < hello.len() {
        let size = (1 + next(&mut state) % 97) as usize;
        let end = (sent + size).min(hello.len());
        stream.write_all(&hello[sent..end]).unwrap();
        sent = end;
    }
    let mut got = vec![0u8; reply.len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, reply);
    let all = domain.wait_for(WAIT, |conns| {
        conns
            .first()
            .filter(|c| c.received.len() == hello.len() && c.replied)
            .cloned()
    });
    let conn = all.expect("all bytes recorded");
    assert_eq!(conn.received, hello);
    assert!(conn.replied);
    assert_eq!(conn.sent, reply, "the fixed reply is recorded as sent");
    assert_eq!(conn.first_flight_len, None, "TLS mode only");
    assert_eq!(domain.received(0).unwrap(), hello);
    // No second reply: after our EOF the domain sees EOF and closes.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "reply written only once");
    assert!(domain
        .wait_for(WAIT, |conns| conns[0].closed.then_some(()))
        .is_some());
}

#[test]
fn two_connections_are_recorded_separately() {
    let domain = FakeDomain::start(b"hi".to_vec()).unwrap();
    let mut a = connect(&domain);
    a.write_all(b"first").unwrap();
    let mut buf = [0u8; 2];
    a.read_exact(&mut buf).unwrap();
    assert!(domain
        .wait_for(WAIT, |c| (c.len() == 1 && c[0].received == b"first")
            .then_some(()))
        .is_some());
    let mut b = connect(&domain);
    b.write_all(b"second").unwrap();
    b.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    a.write_all(b"-more").unwrap();
    let conns = domain.wait_for(WAIT, |c| {
        (c.len() == 2 && c[0].received == b"first-more" && c[1].received == b"second")
            .then(|| c.to_vec())
    });
    assert!(conns.is_some(), "got {:?}", domain.connections());
    assert_eq!(domain.received(1).unwrap(), b"second");
    assert_eq!(domain.received(2), None);
}

#[test]
fn no_reply_before_the_first_bytes() {
    let domain = FakeDomain::start(b"x".to_vec()).unwrap();
    let stream = connect(&domain);
    assert!(domain
        .wait_for(WAIT, |c| (c.len() == 1).then_some(()))
        .is_some());
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    let early = (&stream).read(&mut buf);
    assert!(early.is_err(), "nothing sent before the client spoke");
}

#[test]
fn drop_joins_and_closes_open_connections() {
    let domain = FakeDomain::start(b"ok".to_vec()).unwrap();
    let mut stream = connect(&domain);
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 2];
    stream.read_exact(&mut buf).unwrap();
    let addr = domain.addr();
    drop(domain); // returns only once every thread is joined
    let mut rest = Vec::new();
    // The connection was shut down: EOF (or reset), not a hang.
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(TcpStream::connect(addr).is_err(), "listener closed");
}

// ---- TLS mode -------------------------------------------------------------

use std::sync::Arc;

use mtproxy_testkit::client::XorShift;
use mtproxy_testkit::fronting::{DomainConn, TlsOptions};
use mtproxy_testkit::tls::{parse_server_flight, probe_client_hello, ServerFlight};
use mtproxy_testkit::x25519::is_x25519_point;

/// A probe-like ClientHello with fresh random fields (the key share is
/// random bytes: the server does not check it is on the curve).
fn probe_hello(sni: &str, rng: &mut XorShift) -> (Vec<u8>, [u8; 32]) {
    let mut random = [0u8; 32];
    let mut session_id = [0u8; 32];
    let mut key = [0u8; 32];
    rng.fill(&mut random);
    rng.fill(&mut session_id);
    rng.fill(&mut key);
    (
        probe_client_hello(sni, &random, &session_id, &key),
        session_id,
    )
}

/// Sends a probe hello and returns the first flight as the client read it,
/// parsed, after checking it equals what the domain recorded as sent.
fn probe(domain: &FakeDomain, sni: &str, rng: &mut XorShift) -> ServerFlight {
    let (hello, session_id) = probe_hello(sni, rng);
    let before = domain.connections().len();
    let mut stream = connect(domain);
    stream.write_all(&hello).unwrap();
    let recorded = domain
        .wait_for(WAIT, |conns| {
            conns
                .get(before)
                .filter(|c| c.first_flight_len.is_some())
                .map(|c| c.first_flight().to_vec())
        })
        .expect("the domain answered the hello");
    let mut got = vec![0u8; recorded.len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, recorded, "client read what the domain recorded");
    assert_eq!(domain.received(before).unwrap(), hello);
    let flight = parse_server_flight(&got)
        .unwrap_or_else(|e| panic!("{e}: {:?}", domain.connections().get(before)));
    assert_eq!(
        flight.wire_len,
        got.len(),
        "the flight is exactly its records"
    );
    assert_eq!(flight.session_id, session_id, "session id echoed");
    flight
}

fn probe_tls(options: TlsOptions) -> ServerFlight {
    let domain = FakeDomain::start_tls(options).unwrap();
    probe(&domain, "probe.example", &mut XorShift::new(7))
}

#[test]
fn tls_domain_answers_a_probe_with_a_tls13_flight_for_any_sni() {
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    assert_eq!(domain.cert_chain().len(), 2);
    let mut rng = XorShift::new(1);
    for sni in ["probe.example", "not-in-the-certificate.test", "a.b.c.d"] {
        let flight = probe(&domain, sni, &mut rng);
        assert!(!flight.hello_retry_request);
        assert_eq!(flight.cipher_suite, 0x1301, "the client's first choice");
        assert_eq!(
            flight.extensions_order,
            [0x33, 0x2b],
            "rustls: key_share first"
        );
        assert!(flight.key_share_first());
        assert!(flight.change_cipher_spec, "middlebox-compatibility CCS");
        assert_eq!(
            flight.app_data_record_lens.len(),
            1,
            "one coalesced encrypted record: {:?}",
            flight.app_data_record_lens
        );
        let key = flight.x25519_key().expect("an X25519 key share");
        assert!(is_x25519_point(&key), "rustls's key is a curve point");
    }
    let conns = domain.connections();
    assert_eq!(conns.len(), 3);
    assert!(conns
        .iter()
        .all(|c| !c.handshake_complete && c.tls_error.is_none()));
}

#[test]
fn tls_server_keys_are_always_curve_points() {
    // Random bytes would pass half the time: 12 keys all passing by chance
    // is a 1-in-4096 event.
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    let mut rng = XorShift::new(2);
    for _ in 0..12 {
        let key = probe(&domain, "k.example", &mut rng).x25519_key().unwrap();
        assert!(is_x25519_point(&key));
    }
}

#[test]
fn tls_flight_sizes_follow_the_chain() {
    let base = probe_tls(TlsOptions::default());
    let padded = probe_tls(TlsOptions {
        cert_padding: 4000,
        ..TlsOptions::default()
    });
    let longer = probe_tls(TlsOptions {
        chain_len: 4,
        ..TlsOptions::default()
    });
    let single = probe_tls(TlsOptions {
        chain_len: 1,
        ..TlsOptions::default()
    });
    let huge = probe_tls(TlsOptions {
        cert_padding: 20_000,
        ..TlsOptions::default()
    });
    for (name, flight) in [
        ("leaf+root", &base),
        ("leaf+root, 4000 B padding", &padded),
        ("leaf+2 intermediates+root", &longer),
        ("self-signed leaf", &single),
        ("leaf+root, 20000 B padding", &huge),
    ] {
        eprintln!(
            "{name}: app-data records {:?} (payload {}, wire {})",
            flight.app_data_record_lens,
            flight.app_data_payload_total(),
            flight.app_data_wire_total()
        );
    }
    let one = |f: &ServerFlight| {
        assert_eq!(f.app_data_record_lens.len(), 1, "{f:?}");
        f.app_data_record_lens[0]
    };
    let (base, padded, longer, single) = (one(&base), one(&padded), one(&longer), one(&single));
    assert!(
        // ±a few bytes: DER ECDSA signatures (in the certificates and
        // CertificateVerify) differ between chains and connections.
        (base + 3990..base + 4110).contains(&padded),
        "padding grows the record one for one: {base} -> {padded}"
    );
    // An ECDSA CA certificate is a few hundred bytes (+3 length bytes each).
    assert!(
        (single + 600..single + 1800).contains(&longer),
        "{single} -> {longer}"
    );
    assert!(single < base && base < longer);
    // Past 16 KiB of plaintext the flight needs a second record.
    assert!(huge.app_data_record_lens.len() >= 2, "{huge:?}");
    assert!(huge.app_data_payload_total() > base + 20_000);
}

#[test]
fn one_domain_varies_only_by_its_ecdsa_signature_length() {
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    let mut rng = XorShift::new(4);
    let lens: Vec<usize> = (0..20)
        .map(|_| probe(&domain, "same.example", &mut rng).app_data_record_lens[0])
        .collect();
    eprintln!("20 probes of one domain: {lens:?}");
    let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
    // DER ECDSA P-256 signatures: 72 bytes at most, 68 only with
    // probability 2^-16 per signature.
    assert!(max - min <= 4, "{lens:?}");
}

#[test]
fn swapped_extensions_option_rewrites_the_server_hello() {
    let flight = probe_tls(TlsOptions {
        swap_server_hello_extensions: true,
        ..TlsOptions::default()
    });
    assert_eq!(flight.extensions_order, [0x2b, 0x33]);
    assert!(!flight.key_share_first());
    assert!(is_x25519_point(&flight.x25519_key().unwrap()));
}

fn rustls_client(domain: &FakeDomain, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let root = domain.cert_chain().last().unwrap().clone();
    roots.add(root.into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

#[test]
fn a_real_tls_client_completes_the_handshake_and_gets_the_reply() {
    let reply = b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
    let domain = FakeDomain::start_tls(TlsOptions {
        chain_len: 3,
        cert_padding: 1000,
        reply: reply.clone(),
        ..TlsOptions::default()
    })
    .unwrap();
    let config = rustls_client(&domain, &[b"h2"]);
    let name = "fake-domain.test".try_into().unwrap();
    let tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut stream = rustls::StreamOwned::new(tls, connect(&domain));
    let request = b"GET / HTTP/1.1\r\nhost: fake-domain.test\r\n\r\n";
    stream.write_all(request).unwrap();
    let mut got = vec![0u8; reply.len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, reply);
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"h2"[..]));
    let certs = stream.conn.peer_certificates().unwrap();
    assert_eq!(certs.len(), 3);
    let conn: DomainConn = domain
        .wait_for(WAIT, |c| {
            c.first()
                .filter(|c| c.replied && c.plaintext == request)
                .cloned()
        })
        .expect("the domain decrypted the request");
    assert!(conn.handshake_complete);
    assert_eq!(conn.sni.as_deref(), Some("fake-domain.test"));
    assert!(conn.tls_error.is_none());
    assert!(conn.sent.starts_with(conn.first_flight()));
    assert!(
        conn.sent.len() > conn.first_flight().len(),
        "tickets and reply follow"
    );
}

#[test]
fn tls_alpn_mismatch_fails_like_a_real_server() {
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    let config = rustls_client(&domain, &[b"spdy/1"]);
    let name = "fake-domain.test".try_into().unwrap();
    let tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut stream = rustls::StreamOwned::new(tls, connect(&domain));
    let mut buf = [0u8; 1];
    let exchanged = stream.write_all(b"x").and_then(|()| stream.read(&mut buf));
    assert!(exchanged.is_err(), "handshake refused: {exchanged:?}");
    let conn = domain
        .wait_for(WAIT, |c| c.first().filter(|c| c.closed).cloned())
        .unwrap();
    assert!(!conn.handshake_complete);
    assert!(conn.tls_error.is_some());
}

#[test]
fn tls_domain_records_garbage_and_keeps_serving() {
    let domain = FakeDomain::start_tls(TlsOptions::default()).unwrap();
    for garbage in [
        b"GET / HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
        (0..64u8).map(|i| i.wrapping_mul(71)).collect(),
        hello_like(517), // mtproxy-shaped hello, not a parseable ClientHello
    ] {
        let index = domain.connections().len();
        let mut stream = connect(&domain);
        stream.write_all(&garbage).unwrap();
        let mut answer = Vec::new();
        // The domain closes after its alert (if any): EOF, or a reset.
        let _ = stream.read_to_end(&mut answer);
        let conn = domain
            .wait_for(WAIT, |c| c.get(index).filter(|c| c.closed).cloned())
            .expect("closed");
        assert_eq!(conn.received, garbage);
        assert!(conn.tls_error.is_some(), "{conn:?}");
        assert!(!conn.handshake_complete);
        assert!(answer.len() <= conn.sent.len());
        assert_eq!(answer, conn.sent[..answer.len()]);
    }
    // Still serving TLS afterwards.
    let flight = probe(&domain, "after.example", &mut XorShift::new(3));
    assert_eq!(flight.app_data_record_lens.len(), 1);
}
