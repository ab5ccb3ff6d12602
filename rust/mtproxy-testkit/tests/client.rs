//! The test client against a minimal loopback proxy side built from the
//! protocol cores: it parses the handshake, echoes every packet back framed
//! for the client and answers quick-ack requests; it reports each
//! connection's handshake outcome on a channel.
use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use mtproxy_core::net::{ext_framing, fake_tls, obfs2};
use mtproxy_testkit::client::{
    replay_client_hello, send_garbage, send_half_header, ClientOptions, Received, TestClient,
    Transport, XorShift,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY_HEX: &str = "0123456789abcdef0123456789abcdef";
const OTHER_KEY_HEX: &str = "fedcba9876543210fedcba9876543210";
const DOMAIN: &str = "example.com";
const WAIT: Duration = Duration::from_secs(20);

/// A connection's handshake outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Accepted { fake_tls: bool, tag: u32, dc: i16 },
    NoMatch,
    Short,
    TlsRejected(i32),
}

struct Server {
    addr: SocketAddr,
    events: Receiver<Event>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (sender, events) = channel();
        let cache = Arc::new(Mutex::new(fake_tls::ReplayCache::new(1024).expect("cache")));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sender = sender.clone();
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || serve(stream, &sender, &cache));
            }
        });
        Server { addr, events }
    }

    fn next_event(&self) -> Event {
        self.events.recv_timeout(WAIT).expect("server event")
    }
}

fn key() -> [u8; 16] {
    obfs2::parse_secret(KEY_HEX.as_bytes()).expect("key").key
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The server's view of one connection after the handshake.
struct Session {
    stream: TcpStream,
    read: AesContext,
    write: AesContext,
    records: Option<fake_tls::RecordReader>,
    mode: i32,
    rng: XorShift,
    acks_sent: u32,
}

fn serve(mut stream: TcpStream, events: &Sender<Event>, cache: &Mutex<fake_tls::ReplayCache>) {
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut first = [0u8; 5];
    if stream.read_exact(&mut first).is_err() {
        let _ = events.send(Event::Short);
        return;
    }
    let (header, mut records, leftover) = match fake_tls::detect_client_hello(&first) {
        Ok(len) => match tls_handshake(&mut stream, &first, len, cache) {
            Ok(parts) => parts,
            Err(event) => {
                let _ = events.send(event);
                return;
            }
        },
        Err(_) => {
            let mut header = [0u8; 64];
            header[..5].copy_from_slice(&first);
            if stream.read_exact(&mut header[5..]).is_err() {
                let _ = events.send(Event::Short);
                return;
            }
            (header, None, Vec::new())
        }
    };
    let Ok(parsed) = obfs2::parse_header(&header, &key(), false) else {
        let _ = events.send(Event::NoMatch);
        return;
    };
    let ctr = |k: &obfs2::CtrKey| AesContext::new(AesMode::Ctr, &k.key, &k.iv).expect("aes");
    let mut session = Session {
        stream,
        read: ctr(&parsed.read),
        write: ctr(&parsed.write),
        records: None,
        mode: ext_framing::mode_from_tag(parsed.tag).expect("mode"),
        rng: XorShift::new(7),
        acks_sent: 0,
    };
    session.read.crypt_in_place(&mut [0; 64]).expect("skip");
    let _ = events.send(Event::Accepted {
        fake_tls: records.is_some(),
        tag: parsed.tag,
        dc: parsed.dc,
    });
    session.records = records.take();
    let mut decoder =
        ext_framing::FrameDecoder::new(session.mode, ext_framing::FROM_CLIENT).expect("decoder");
    let mut plain = leftover;
    session.read.crypt_in_place(&mut plain).expect("decrypt");
    let mut packet = vec![0u8; ext_framing::MAX_PACKET_LEN];
    loop {
        while !plain.is_empty() {
            let Ok(taken) = decoder.feed(&plain) else {
                return;
            };
            plain.drain(..taken);
            loop {
                match decoder.next_packet(&mut packet) {
                    Ok(Some(info)) => session.answer(&packet[..info.length], info.quick_ack),
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
        }
        let mut raw = vec![0u8; 64 * 1024];
        let n = match session.stream.read(&mut raw) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        plain = match session.records.as_mut() {
            Some(reader) => {
                let mut out = vec![0u8; n];
                let Ok((_, produced)) = reader.feed(&raw[..n], &mut out) else {
                    return;
                };
                out.truncate(produced);
                out
            }
            None => raw[..n].to_vec(),
        };
        session.read.crypt_in_place(&mut plain).expect("decrypt");
    }
}

/// Checks the hello, answers it and reads up to the 64-byte inner header.
/// Returns the header, the record reader and the stream bytes after it.
#[allow(clippy::type_complexity)]
fn tls_handshake(
    stream: &mut TcpStream,
    first: &[u8; 5],
    len: usize,
    cache: &Mutex<fake_tls::ReplayCache>,
) -> Result<([u8; 64], Option<fake_tls::RecordReader>, Vec<u8>), Event> {
    let mut hello = vec![0u8; len];
    hello[..5].copy_from_slice(first);
    stream
        .read_exact(&mut hello[5..])
        .map_err(|_| Event::Short)?;
    let check = {
        let mut cache = cache.lock().expect("lock");
        fake_tls::check_client_hello(&hello, hello.len(), &[key()], &[DOMAIN], &mut cache, now())
            .map_err(Event::TlsRejected)?
    };
    if check.verdict != fake_tls::VERDICT_ACCEPT {
        return Err(Event::TlsRejected(check.reason));
    }
    let app_data_len = 200;
    let mut random = vec![0u8; 32 + app_data_len];
    XorShift::new(3).fill(&mut random);
    let mut flight = vec![0u8; fake_tls::SERVER_HELLO_FIXED_LEN + app_data_len];
    fake_tls::build_server_hello(
        &check.client_random,
        &check.session_id,
        check.cipher_suite,
        &key(),
        app_data_len,
        false,
        &random,
        &mut flight,
    )
    .expect("server hello");
    stream.write_all(&flight).expect("write hello");
    let mut reader = fake_tls::RecordReader::new(true);
    let mut payload = Vec::new();
    while payload.len() < 64 {
        let mut raw = [0u8; 4096];
        let n = match stream.read(&mut raw) {
            Ok(0) | Err(_) => return Err(Event::Short),
            Ok(n) => n,
        };
        let mut out = vec![0u8; n];
        let (_, produced) = reader
            .feed(&raw[..n], &mut out)
            .map_err(Event::TlsRejected)?;
        payload.extend_from_slice(&out[..produced]);
    }
    let mut header = [0u8; 64];
    header.copy_from_slice(&payload[..64]);
    Ok((header, Some(reader), payload[64..].to_vec()))
}

impl Session {
    /// Quick-ack answer first (if asked), then the echo.
    fn answer(&mut self, payload: &[u8], quick_ack: bool) {
        if quick_ack {
            let mut random = [0u8; ext_framing::QUICK_ACK_RANDOM_LEN];
            self.rng.fill(&mut random);
            // Alternate the two padded-mode answer forms.
            random[0] = (self.acks_sent & 1) as u8;
            self.acks_sent += 1;
            let mut answer = [0u8; ext_framing::MAX_QUICK_ACK_LEN];
            let len = ext_framing::encode_quick_ack(
                self.mode,
                confirm_for(payload),
                &random,
                &mut answer,
            )
            .expect("quick ack");
            self.send(&mut answer[..len]);
        }
        let mut padding = [0u8; ext_framing::MAX_PROXY_PADDING];
        let padding_len = if self.mode == ext_framing::MODE_PADDED {
            let room = ext_framing::MAX_PACKET_LEN - payload.len();
            self.rng.below_or_eq(room.min(padding.len()))
        } else {
            0
        };
        self.rng.fill(&mut padding);
        let mut frame = vec![0u8; 4 + payload.len() + padding_len];
        let len = ext_framing::encode_packet(
            ext_framing::FROM_PROXY,
            self.mode,
            false,
            payload,
            &padding[..padding_len],
            &mut frame,
        )
        .expect("frame");
        self.send(&mut frame[..len]);
    }

    fn send(&mut self, data: &mut [u8]) {
        self.write.crypt_in_place(data).expect("encrypt");
        if self.records.is_some() {
            let mut wrapped = vec![0u8; fake_tls::wrapped_len(data.len())];
            let len = fake_tls::wrap_records(data, &mut wrapped).expect("wrap");
            let _ = self.stream.write_all(&wrapped[..len]);
        } else {
            let _ = self.stream.write_all(data);
        }
    }
}

/// The confirm value the test server answers a quick ack with (bit 31 set,
/// as clients expect).
fn confirm_for(payload: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&payload[..4]);
    u32::from_le_bytes(word) | 0x8000_0000
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn ee_secret() -> String {
    format!("ee{KEY_HEX}{}", hex(DOMAIN.as_bytes()))
}

fn options(seed: u64) -> ClientOptions {
    ClientOptions {
        io_timeout: WAIT,
        seed: Some(seed),
        ..ClientOptions::default()
    }
}

/// A payload of `len` bytes with no zero first word.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    XorShift::new(seed).fill(&mut data);
    data[0] |= 1;
    data
}

/// Connects, checks the server's view, then round-trips 4 B, 1 KiB and the
/// largest packet, each also with a quick ack.
fn round_trips(secret: &str, transport: Transport, options: ClientOptions, expect: Event) {
    let server = Server::start();
    let mut client =
        TestClient::connect(server.addr, secret, transport, -2, options).expect("connect");
    let sizes: &[usize] = &[4, 1024, ext_framing::MAX_PACKET_LEN];
    for (i, &size) in sizes.iter().enumerate() {
        for quick_ack in [false, true] {
            let data = payload(size, i as u64 + 11);
            client.send_packet(&data, quick_ack).expect("send");
            if quick_ack {
                let ack = client.recv_packet(WAIT).expect("ack");
                assert_eq!(ack, Received::QuickAck(confirm_for(&data)));
            }
            let echo = client.recv_packet(WAIT).expect("echo");
            assert_eq!(echo, Received::Packet(data), "size {size}");
        }
    }
    assert_eq!(server.next_event(), expect);
}

fn accepted(fake_tls: bool, tag: u32) -> Event {
    Event::Accepted {
        fake_tls,
        tag,
        dc: -2,
    }
}

#[test]
fn abridged_hex_secret_round_trips() {
    round_trips(
        KEY_HEX,
        Transport::Abridged,
        options(1),
        accepted(false, obfs2::TAG_ABRIDGED),
    );
}

#[test]
fn intermediate_hex_secret_round_trips() {
    round_trips(
        KEY_HEX,
        Transport::Intermediate,
        options(2),
        accepted(false, obfs2::TAG_INTERMEDIATE),
    );
}

#[test]
fn padded_dd_secret_round_trips() {
    let secret = format!("dd{KEY_HEX}");
    round_trips(
        &secret,
        Transport::Padded,
        options(3),
        accepted(false, obfs2::TAG_PADDED),
    );
}

#[test]
fn fake_tls_ee_secret_round_trips() {
    round_trips(
        &ee_secret(),
        Transport::Abridged,
        options(4),
        accepted(true, obfs2::TAG_PADDED),
    );
}

#[test]
fn base64_secrets_round_trip() {
    let mut dd = vec![0xdd];
    dd.extend_from_slice(&key());
    round_trips(
        &base64(&key()),
        Transport::Intermediate,
        options(5),
        accepted(false, obfs2::TAG_INTERMEDIATE),
    );
    round_trips(
        &base64(&dd),
        Transport::Padded,
        options(6),
        accepted(false, obfs2::TAG_PADDED),
    );
    let mut ee = vec![0xee];
    ee.extend_from_slice(&key());
    ee.extend_from_slice(DOMAIN.as_bytes());
    round_trips(
        &base64(&ee),
        Transport::Padded,
        options(7),
        accepted(true, obfs2::TAG_PADDED),
    );
}

#[test]
fn one_byte_writes_round_trip_small_packets() {
    for (secret, transport, tag, fake) in [
        (
            KEY_HEX.to_string(),
            Transport::Abridged,
            obfs2::TAG_ABRIDGED,
            false,
        ),
        (
            format!("dd{KEY_HEX}"),
            Transport::Padded,
            obfs2::TAG_PADDED,
            false,
        ),
        (ee_secret(), Transport::Padded, obfs2::TAG_PADDED, true),
    ] {
        let server = Server::start();
        let opts = ClientOptions {
            one_byte_writes: true,
            ..options(8)
        };
        let mut client =
            TestClient::connect(server.addr, &secret, transport, -2, opts).expect("connect");
        assert_eq!(server.next_event(), accepted(fake, tag));
        for (i, size) in [4usize, 1024].into_iter().enumerate() {
            let data = payload(size, 20 + i as u64);
            client.send_packet(&data, true).expect("send");
            assert_eq!(
                client.recv_packet(WAIT).expect("ack"),
                Received::QuickAck(confirm_for(&data))
            );
            assert_eq!(
                client.recv_packet(WAIT).expect("echo"),
                Received::Packet(data)
            );
        }
    }
}

#[test]
fn padded_quick_acks_in_both_forms() {
    let server = Server::start();
    let secret = format!("dd{KEY_HEX}");
    let mut client = TestClient::connect(server.addr, &secret, Transport::Padded, 2, options(9))
        .expect("connect");
    for i in 0..6u64 {
        let data = payload(32, 30 + i);
        client.send_packet(&data, true).expect("send");
        assert_eq!(
            client.recv_packet(WAIT).expect("ack"),
            Received::QuickAck(confirm_for(&data))
        );
        assert_eq!(
            client.recv_packet(WAIT).expect("echo"),
            Received::Packet(data)
        );
    }
}

#[test]
fn wrong_secret_finds_no_match() {
    let server = Server::start();
    let _client = TestClient::connect(
        server.addr,
        OTHER_KEY_HEX,
        Transport::Intermediate,
        1,
        options(10),
    )
    .expect("connect");
    assert_eq!(server.next_event(), Event::NoMatch);
}

#[test]
fn wrong_fake_tls_secret_fails_the_hmac() {
    let server = Server::start();
    let secret = format!("ee{OTHER_KEY_HEX}{}", hex(DOMAIN.as_bytes()));
    let result = TestClient::connect(server.addr, &secret, Transport::Padded, 1, options(11));
    assert!(result.is_err());
    assert_eq!(
        server.next_event(),
        Event::TlsRejected(fake_tls::REJECT_BAD_HMAC)
    );
}

#[test]
fn replayed_client_hello_is_rejected() {
    let server = Server::start();
    let client = TestClient::connect(
        server.addr,
        &ee_secret(),
        Transport::Padded,
        -2,
        options(12),
    )
    .expect("connect");
    assert_eq!(server.next_event(), accepted(true, obfs2::TAG_PADDED));
    let hello = client.client_hello().expect("hello").to_vec();
    let _replay = replay_client_hello(server.addr, &hello, WAIT).expect("replay");
    assert_eq!(
        server.next_event(),
        Event::TlsRejected(fake_tls::REJECT_REPLAY)
    );
}

#[test]
fn garbage_finds_no_match() {
    let server = Server::start();
    let _stream = send_garbage(server.addr, 300, 13, WAIT).expect("garbage");
    assert_eq!(server.next_event(), Event::NoMatch);
}

#[test]
fn half_header_then_close_is_short() {
    let server = Server::start();
    let stream =
        send_half_header(server.addr, KEY_HEX, Transport::Abridged, 1, 14, WAIT).expect("half");
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    assert_eq!(server.next_event(), Event::Short);
}

#[test]
fn slow_reader_keeps_the_connection_open() {
    let server = Server::start();
    let mut client = TestClient::connect(
        server.addr,
        KEY_HEX,
        Transport::Intermediate,
        -2,
        options(15),
    )
    .expect("connect");
    assert_eq!(
        server.next_event(),
        accepted(false, obfs2::TAG_INTERMEDIATE)
    );
    client.send_packet(&payload(64, 40), false).expect("send");
    let stream = client.into_stream();
    assert!(stream.peer_addr().is_ok());
}

#[test]
fn receive_times_out_without_data() {
    let server = Server::start();
    let mut client = TestClient::connect(server.addr, KEY_HEX, Transport::Abridged, 1, options(16))
        .expect("connect");
    let result = client.recv_packet(Duration::from_millis(1));
    assert!(matches!(
        result,
        Err(mtproxy_testkit::client::ClientError::Timeout)
    ));
}

#[test]
fn bad_secret_text_is_refused() {
    let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let result = TestClient::connect(addr, "not a secret", Transport::Abridged, 1, options(17));
    assert!(matches!(
        result,
        Err(mtproxy_testkit::client::ClientError::BadSecret)
    ));
}

#[test]
fn fake_tls_client_exposes_the_server_hello() {
    let server = Server::start();
    let client = TestClient::connect(
        server.addr,
        &ee_secret(),
        Transport::Padded,
        -2,
        options(21),
    )
    .expect("connect");
    // The test server's flight: N = 200, key_share first, its key share
    // made from the first 32 bytes of XorShift::new(3).
    let hello = client.server_hello().expect("fake-TLS mode keeps it");
    assert_eq!(hello.len(), fake_tls::SERVER_HELLO_FIXED_LEN + 200);
    assert_eq!(hello[..5], [0x16, 0x03, 0x03, 0x00, 0x7a]);
    let flight = client.server_flight().expect("parses");
    assert_eq!(flight.extensions_order, [0x33, 0x2b]);
    assert_eq!(flight.app_data_record_lens, [200]);
    assert!(flight.change_cipher_spec);
    // The builder takes those bytes as the X25519 private key and sends its
    // public key.
    let mut private = [0u8; 32];
    XorShift::new(3).fill(&mut private);
    let expected_key = fake_tls::x25519_public_key(&private).unwrap();
    assert_eq!(flight.x25519_key(), Some(expected_key));
    let info = client.server_hello_info().expect("info");
    assert_eq!((info.app_data_len, info.extensions_swapped), (200, 0));

    let plain = TestClient::connect(server.addr, KEY_HEX, Transport::Abridged, -2, options(22))
        .expect("connect");
    assert!(plain.server_hello().is_none() && plain.server_flight().is_none());
}
