//! The fake middle-end against a minimal proxy-side RPC client built here
//! from the same protocol cores, plus known answers from outside the cores.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtproxy_core::common::{crc32, pid};
use mtproxy_core::crypto::aesni256::{AesContext, AesMode, BLOCK_LEN};
use mtproxy_core::crypto::net_crypto_aes::{derive_keys, KeyPurpose, RpcKeyParams};
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::rpc_frame::{self, CrcKind, FrameDecoder};
use mtproxy_core::net::rpc_handshake::{self as hs, Handshake, HandshakeConfig, KeyInputs, Role};
use mtproxy_testkit::fake_me::{
    connection_keys, quick_ack_token, reply_pattern, Behaviour, ConnError, ConnId, Event, FakeMe,
    FakeMeConfig, SecretSource, Stage,
};

const WAIT: Duration = Duration::from_secs(10);

fn secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 7 + 1) as u8).collect()
}

fn key_select() -> u32 {
    u32::from_le_bytes([1, 8, 15, 22])
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap()
}

fn start(crc32c: bool, behaviour: Behaviour) -> FakeMe {
    let config = FakeMeConfig {
        crc32c,
        behaviour,
        seed: Some(7),
        ..FakeMeConfig::new(SecretSource::Bytes(secret()))
    };
    FakeMe::start(config).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The proxy end of one RPC connection.
struct Client {
    stream: TcpStream,
    decoder: FrameDecoder,
    read_cipher: AesContext,
    write_cipher: AesContext,
    write_seq: i32,
    write_crc: CrcKind,
    plain: Vec<u8>,
    encrypted: Vec<u8>,
}

/// What the raw exchange looked like on the wire.
struct Wire {
    client_nonce_frame: Vec<u8>,
    me_nonce_frame: [u8; 44],
    me_handshake: Vec<u8>,
}

impl Client {
    /// A client through the whole exchange.
    fn connect(me: &FakeMe, want_crc32c: bool) -> (Client, Wire) {
        let me_pid_port = me.port() as i16;
        let (mut client, mut exchange, client_nonce_frame, me_nonce_frame) =
            Client::open(me, want_crc32c, me_pid_port);
        // The ME's handshake burst: a 44-byte frame and one padding word.
        let mut burst = [0u8; 48];
        (&client.stream).read_exact(&mut burst).unwrap();
        client.read_cipher.crypt_in_place(&mut burst).unwrap();
        let me_handshake = burst.to_vec();
        assert_eq!(burst[44..], rpc_frame::PADDING_WORD);
        let pushed = client.decoder.push(&burst).unwrap();
        exchange
            .receive_handshake(pushed.frame.unwrap().payload)
            .unwrap();
        let crc = if exchange.use_crc32c {
            CrcKind::Crc32c
        } else {
            CrcKind::Crc32
        };
        client.write_crc = crc;
        client.decoder.set_crc(crc);
        let wire = Wire {
            client_nonce_frame,
            me_nonce_frame,
            me_handshake,
        };
        (client, wire)
    }

    /// A client that has sent its handshake, naming `me_pid_port` as the
    /// ME's port in its peer pid (as the proxy does); also returns the two
    /// nonce frames.
    fn open(
        me: &FakeMe,
        want_crc32c: bool,
        me_pid_port: i16,
    ) -> (Client, Handshake, Vec<u8>, [u8; 44]) {
        let stream = TcpStream::connect(me.addr()).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let local = stream.local_addr().unwrap();
        let me_addr = stream.peer_addr().unwrap();
        let own = pid::process_id_init(0x0a00_0001, 443, 1234, 1_700_000_000);
        let me_pid = pid::process_id_init(0, me_pid_port, 0, 0);
        let config = HandshakeConfig {
            role: Role::Client,
            key_select: key_select(),
            want_crc32c,
            our_pid: pid::process_id_encode(&own),
            peer_pid: pid::process_id_encode(&me_pid),
        };
        let mut exchange = Handshake::new(&config, now(), &[0x5a; 16]);
        let nonce = exchange.send_nonce().unwrap();
        let client_nonce_frame = rpc_frame::encode_frame(-2, &nonce, CrcKind::Crc32).unwrap();
        (&stream).write_all(&client_nonce_frame).unwrap();

        let mut me_nonce_frame = [0u8; 44];
        (&stream).read_exact(&mut me_nonce_frame).unwrap();
        exchange
            .receive_nonce(&me_nonce_frame[8..40], now())
            .unwrap();

        // Derived here straight from the core, not through the fake ME's
        // `connection_keys`: the proxy is the client, the ME the server.
        let inputs = exchange.key_inputs().unwrap();
        let (SocketAddr::V4(local4), SocketAddr::V4(me4)) = (local, me_addr) else {
            panic!("loopback is IPv4")
        };
        let params = RpcKeyParams {
            nonce_server: inputs.server_nonce,
            nonce_client: inputs.client_nonce,
            client_timestamp: inputs.client_ts,
            server_ip: u32::from(*me4.ip()),
            client_ip: u32::from(*local4.ip()),
            client_port: local.port(),
            server_port: me_addr.port(),
            ..RpcKeyParams::default()
        };
        let write_key = derive_keys(&params, &secret(), KeyPurpose::Client).unwrap();
        let read_key = derive_keys(&params, &secret(), KeyPurpose::Server).unwrap();
        let mut client = Client {
            stream,
            decoder: FrameDecoder::new(-1, CrcKind::Crc32),
            read_cipher: AesContext::new(AesMode::CbcDecrypt, &read_key.key, &read_key.iv).unwrap(),
            write_cipher: AesContext::new(AesMode::CbcEncrypt, &write_key.key, &write_key.iv)
                .unwrap(),
            write_seq: -1,
            write_crc: CrcKind::Crc32,
            plain: Vec::new(),
            encrypted: Vec::new(),
        };
        client.send(&exchange.send_handshake().unwrap());
        (client, exchange, client_nonce_frame, me_nonce_frame)
    }

    fn send(&mut self, payload: &[u8]) {
        let frame = rpc_frame::encode_frame(self.write_seq, payload, self.write_crc).unwrap();
        self.write_seq += 1;
        self.send_raw_frame(frame);
    }

    /// Pads, encrypts and writes `frame` as it is.
    fn send_raw_frame(&mut self, mut burst: Vec<u8>) {
        let mut padding = [0u8; 16];
        let padded = rpc_frame::write_padding(burst.len() as u64, &mut padding).unwrap();
        burst.extend_from_slice(&padding[..padded]);
        self.write_cipher.crypt_in_place(&mut burst).unwrap();
        (&self.stream).write_all(&burst).unwrap();
    }

    /// The next payload from the ME; `None` once it closed the connection.
    fn receive(&mut self) -> Option<Vec<u8>> {
        loop {
            if !self.plain.is_empty() {
                let pushed = self.decoder.push(&self.plain).unwrap();
                let consumed = pushed.consumed;
                let frame = pushed.frame.map(|f| f.payload.to_vec());
                self.plain.drain(..consumed);
                if frame.is_some() {
                    return frame;
                }
                continue;
            }
            let mut chunk = [0u8; 4096];
            let got = match (&self.stream).read(&mut chunk) {
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
                Err(e) => panic!("read: {e}"),
            };
            if got == 0 {
                return None;
            }
            self.encrypted.extend_from_slice(&chunk[..got]);
            let whole = self.encrypted.len() - self.encrypted.len() % BLOCK_LEN;
            let mut blocks: Vec<u8> = self.encrypted.drain(..whole).collect();
            self.read_cipher.crypt_in_place(&mut blocks).unwrap();
            self.plain.extend_from_slice(&blocks);
        }
    }

    fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }
}

fn request(ext_conn_id: i64, flags: u32, packet: &[u8]) -> Vec<u8> {
    let req = msg::ProxyReq {
        flags,
        ext_conn_id,
        client_ip: msg::ipv4_mapped(0x0102_0304),
        client_port: 50000,
        proxy_ip: msg::ipv4_mapped(0x7f00_0001),
        proxy_port: 443,
        ad_tag: [0xab; 16],
    };
    let mut out = vec![0u8; msg::PROXY_REQ_MAX_HEADER_LEN + packet.len()];
    let len = msg::encode_proxy_req(&req, packet, &mut out).unwrap();
    out.truncate(len);
    out
}

fn answer(ext_conn_id: i64, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; msg::PROXY_ANS_HEADER_LEN + data.len()];
    msg::encode_proxy_ans(0, ext_conn_id, data, &mut out).unwrap();
    out
}

/// The connection id the fake ME gave the client at `addr`.
fn conn_of(me: &FakeMe, addr: SocketAddr) -> ConnId {
    me.handle()
        .wait_for(WAIT, |events| {
            events.iter().find_map(|e| match e {
                Event::Accepted { conn, peer } if *peer == Some(addr) => Some(*conn),
                _ => None,
            })
        })
        .unwrap()
}

fn wait_event(me: &FakeMe, wanted: &Event) {
    let seen = me
        .handle()
        .wait_for(WAIT, |events| events.contains(wanted).then_some(()));
    assert!(
        seen.is_some(),
        "no {wanted:?} in {:?}",
        me.handle().events()
    );
}

const PLAIN_ABRIDGED: u32 = 0x4002_100a;
const QUICK_ACK_ABRIDGED: u32 = 0xc002_1008;

#[test]
fn keys_match_the_independent_vectors() {
    // The vectors of parity-tests/tests/net_crypto_aes.rs, computed by an
    // independent script from the §4.4 layout.
    let inputs = KeyInputs {
        server_nonce: std::array::from_fn(|i| i as u8),
        client_nonce: std::array::from_fn(|i| 16 + i as u8),
        client_ts: 1_600_000_000,
    };
    let me: SocketAddr = "127.0.0.1:8888".parse().unwrap();
    let proxy: SocketAddr = "10.0.0.2:40000".parse().unwrap();
    let keys = connection_keys(&secret(), &inputs, me, proxy).unwrap();
    assert_eq!(
        keys.client.key.to_vec(),
        hex("fd861205a4b011a379f469f4e512c038546953fef22b687d5817ec33ad54cd23")
    );
    assert_eq!(
        keys.client.iv.to_vec(),
        hex("ecc912562b5c2dc6d060a0aaff1f333a")
    );
    assert_eq!(
        keys.server.key.to_vec(),
        hex("16a78f635e962ef0fa981c7811e4886369fd96b3b1eb6c4e101b82a53783f03f")
    );
    assert_eq!(
        keys.server.iv.to_vec(),
        hex("88a95edc6ac748b990732f61b7504c69")
    );

    let v6 = |last: u16, port| {
        let ip = Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, last);
        SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0))
    };
    let inputs = KeyInputs {
        client_ts: -5,
        ..inputs
    };
    let keys = connection_keys(&secret()[..32], &inputs, v6(1, 8888), v6(2, 40000)).unwrap();
    assert_eq!(
        keys.client.key.to_vec(),
        hex("a9b8962386cdfa167ecfe1c240e7083a4a83aa94f47d092ad770ce3a5a1aae3e")
    );
    assert_eq!(
        keys.client.iv.to_vec(),
        hex("25628d79075c860343e20bc5d73ba673")
    );
}

#[test]
fn nonce_frames_have_the_documented_layout() {
    let me = start(true, Behaviour::Echo);
    let before = now();
    let (_client, wire) = Client::connect(&me, true);
    let after = now();
    assert_eq!(
        wire.client_nonce_frame[..12],
        [0x2c, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xaa, 0x87, 0xcb, 0x7a]
    );

    let frame = wire.me_nonce_frame;
    assert_eq!(frame[..4], [0x2c, 0, 0, 0], "length 44");
    assert_eq!(frame[4..8], [0xfe, 0xff, 0xff, 0xff], "seq -2");
    assert_eq!(frame[8..12], [0xaa, 0x87, 0xcb, 0x7a], "RPC_NONCE");
    assert_eq!(frame[12..16], secret()[..4], "key_select as in the file");
    assert_eq!(frame[16..20], [1, 0, 0, 0], "schema AES");
    let ts = i64::from(i32::from_le_bytes(frame[20..24].try_into().unwrap()));
    assert!((before..=after).contains(&ts), "timestamp {ts} is now");
    assert_ne!(frame[24..40], [0u8; 16], "a nonce");
    let crc = crc32::compute_crc32(&frame[..40]);
    assert_eq!(frame[40..], crc.to_le_bytes(), "CRC-32 of the rest");

    // The handshake: seq -1, RPC_HANDSHAKE, CRC-32C accepted, zero peer pid.
    let hs = &wire.me_handshake;
    assert_eq!(hs[..4], [0x2c, 0, 0, 0]);
    assert_eq!(hs[4..8], [0xff, 0xff, 0xff, 0xff]);
    assert_eq!(hs[8..12], [0xf5, 0xee, 0x82, 0x76]);
    assert_eq!(hs[12..16], [0, 8, 0, 0]);
    assert_eq!(hs[28..40], [0u8; 12]);
}

#[test]
fn clock_offset_moves_the_nonce_timestamp() {
    let config = FakeMeConfig {
        clock_offset: 20,
        ..FakeMeConfig::new(SecretSource::Bytes(secret()))
    };
    let me = FakeMe::start(config).unwrap();
    let before = now();
    let (_client, wire) = Client::connect(&me, true);
    let ts = i64::from(i32::from_le_bytes(
        wire.me_nonce_frame[20..24].try_into().unwrap(),
    ));
    assert!(ts >= before + 20 && ts <= now() + 20, "{ts}");
}

fn echo_round_trip(me_crc32c: bool, client_crc32c: bool, expected: CrcKind) {
    let me = start(me_crc32c, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, client_crc32c);
    let conn = conn_of(&me, client.local_addr());
    wait_event(
        &me,
        &Event::Ready {
            conn,
            crc: expected,
        },
    );
    for (id, packet) in [(0x40000d_i64, vec![1u8; 40]), (0x80000d, vec![2u8; 1024])] {
        client.send(&request(id, PLAIN_ABRIDGED, &packet));
        assert_eq!(client.receive().unwrap(), answer(id, &packet));
    }
}

#[test]
fn echo_with_crc32c() {
    echo_round_trip(true, true, CrcKind::Crc32c);
}

#[test]
fn echo_with_crc32_when_the_me_declines() {
    echo_round_trip(false, true, CrcKind::Crc32);
}

#[test]
fn echo_with_crc32_when_the_proxy_does_not_offer() {
    echo_round_trip(true, false, CrcKind::Crc32);
}

#[test]
fn requests_are_recorded_field_by_field() {
    let me = start(true, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    let packet = [9u8; 24];
    client.send(&request(77, QUICK_ACK_ABRIDGED, &packet));
    client.receive().unwrap();
    client.send(&request(78, 0x2002_1000, &packet));
    client.receive().unwrap();
    let reqs: Vec<_> = me
        .handle()
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ProxyReq(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(reqs.len(), 2);
    let tagged = &reqs[0];
    assert_eq!(tagged.conn, conn);
    assert_eq!(tagged.flags, QUICK_ACK_ABRIDGED);
    assert_eq!(tagged.ext_conn_id, 77);
    assert_eq!(tagged.client_ip, Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped());
    assert_eq!(tagged.client_port, 50000);
    assert_eq!(tagged.proxy_ip, Ipv4Addr::LOCALHOST.to_ipv6_mapped());
    assert_eq!(tagged.proxy_port, 443);
    assert_eq!(tagged.ad_tag, Some([0xab; 16]));
    assert_eq!(tagged.packet, packet);
    assert_eq!(reqs[1].ext_conn_id, 78);
    assert_eq!(reqs[1].ad_tag, None);
    assert_eq!(reqs[1].packet, packet);
}

/// Requests arriving together are answered together (one burst), across
/// reads and partial cipher blocks; a quiet middle-end logs no requests.
#[test]
fn a_burst_of_requests_is_answered_in_order_and_quietly() {
    let config = FakeMeConfig {
        log_messages: false,
        ..FakeMeConfig::new(SecretSource::Bytes(secret()))
    };
    let me = FakeMe::start(config).unwrap();
    let (mut client, _) = Client::connect(&me, true);
    // One packet longer than a read and than the answer flush threshold.
    let sizes = (0..40).map(|i| if i == 7 { 300_004 } else { 4 * (i + 1) });
    let packets: Vec<Vec<u8>> = sizes.map(|n| vec![n as u8; n]).collect();
    let mut burst = Vec::new();
    for (i, packet) in packets.iter().enumerate() {
        let req = request(i as i64, PLAIN_ABRIDGED, packet);
        burst.extend(rpc_frame::encode_frame(client.write_seq, &req, client.write_crc).unwrap());
        client.write_seq += 1;
    }
    let mut padding = [0u8; 16];
    let padded = rpc_frame::write_padding(burst.len() as u64, &mut padding).unwrap();
    burst.extend_from_slice(&padding[..padded]);
    client.write_cipher.crypt_in_place(&mut burst).unwrap();
    // The first write ends 5 bytes into a cipher block after the first
    // frame; once that frame is answered the middle-end has read it all
    // and keeps the 5 bytes for the next read.
    let first_frame = request(0, PLAIN_ABRIDGED, &packets[0]).len() + rpc_frame::FRAME_OVERHEAD;
    let split = first_frame.next_multiple_of(BLOCK_LEN) + 5;
    (&client.stream).write_all(&burst[..split]).unwrap();
    assert_eq!(client.receive().unwrap(), answer(0, &packets[0]));
    (&client.stream).write_all(&burst[split..]).unwrap();
    for (i, packet) in packets.iter().enumerate().skip(1) {
        assert_eq!(client.receive().unwrap(), answer(i as i64, packet));
    }
    let events = me.handle().events();
    assert!(!events.iter().any(|e| matches!(e, Event::ProxyReq(_))));
}

#[test]
fn reply_bytes_sends_the_pattern() {
    let me = start(true, Behaviour::ReplyBytes(10));
    let (mut client, _) = Client::connect(&me, true);
    client.send(&request(5, PLAIN_ABRIDGED, &[1; 8]));
    let ans = client.receive().unwrap();
    assert_eq!(ans, answer(5, &reply_pattern(10)));
    assert_eq!(reply_pattern(10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
}

#[test]
fn simple_ack_only_for_quick_ack_requests() {
    let me = start(true, Behaviour::SimpleAck);
    let (mut client, _) = Client::connect(&me, true);
    let packet = [0x11, 0x22, 0x33, 0x44, 5, 6, 7, 8];
    client.send(&request(6, QUICK_ACK_ABRIDGED, &packet));
    let ack = client.receive().unwrap();
    assert_eq!(ack, msg::encode_simple_ack(6, 0x4433_2211));
    assert_eq!(quick_ack_token(&packet), 0x4433_2211);
    assert_eq!(client.receive().unwrap(), answer(6, &packet));
    client.send(&request(7, PLAIN_ABRIDGED, &packet));
    assert_eq!(client.receive().unwrap(), answer(7, &packet));
}

#[test]
fn close_ext_answers_with_close_ext() {
    let me = start(true, Behaviour::CloseExt);
    let (mut client, _) = Client::connect(&me, true);
    client.send(&request(8, PLAIN_ABRIDGED, &[0; 4]));
    assert_eq!(client.receive().unwrap(), msg::encode_close_ext(8));
}

#[test]
fn drop_connection_closes_tcp() {
    let me = start(true, Behaviour::DropConnection);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    client.send(&request(9, PLAIN_ABRIDGED, &[0; 4]));
    assert_eq!(client.receive(), None);
    wait_event(&me, &Event::Closed { conn });
    let failed = me
        .handle()
        .events()
        .iter()
        .any(|e| matches!(e, Event::Failed { conn: c, .. } if *c == conn));
    assert!(!failed, "a drop on purpose is no failure");
}

#[test]
fn ready_connections_are_counted_and_one_can_be_closed() {
    let me = start(true, Behaviour::Echo);
    let (first, _) = Client::connect(&me, true);
    let (mut second, _) = Client::connect(&me, true);
    let a = conn_of(&me, first.stream.local_addr().unwrap());
    let b = conn_of(&me, second.stream.local_addr().unwrap());
    assert!(me.handle().wait_ready_connections(2, WAIT));
    assert!(!me
        .handle()
        .wait_ready_connections(3, Duration::from_millis(1)));
    let mut ready = me.handle().ready_connections();
    ready.sort_unstable();
    assert_eq!(ready, vec![a, b]);
    assert!(me.handle().close_connection(a));
    wait_event(&me, &Event::Closed { conn: a });
    assert_eq!(me.handle().ready_connections(), vec![b]);
    assert!(!me.handle().close_connection(a), "already closed");
    second.send(&request(9, PLAIN_ABRIDGED, &[5; 8]));
    assert_eq!(second.receive().unwrap(), answer(9, &[5; 8]));
}

#[test]
fn stall_answers_nothing_until_the_behaviour_changes() {
    let me = start(true, Behaviour::Stall);
    let (mut client, _) = Client::connect(&me, true);
    client.send(&request(10, PLAIN_ABRIDGED, &[1; 4]));
    let seen = me.handle().wait_for(WAIT, |events| {
        events
            .iter()
            .any(|e| matches!(e, Event::ProxyReq(r) if r.ext_conn_id == 10))
            .then_some(())
    });
    assert!(seen.is_some());
    me.handle().set_behaviour(Behaviour::Echo);
    client.send(&request(11, PLAIN_ABRIDGED, &[2; 4]));
    // The first answer is the second request's: the first got none.
    assert_eq!(client.receive().unwrap(), answer(11, &[2; 4]));
}

#[test]
fn behaviour_can_be_set_per_connection() {
    let me = start(true, Behaviour::Echo);
    let (mut first, _) = Client::connect(&me, true);
    let (mut second, _) = Client::connect(&me, false);
    let second_conn = conn_of(&me, second.local_addr());
    me.handle()
        .set_connection_behaviour(second_conn, Behaviour::CloseExt);
    first.send(&request(1, PLAIN_ABRIDGED, &[3; 4]));
    second.send(&request(2, PLAIN_ABRIDGED, &[3; 4]));
    assert_eq!(first.receive().unwrap(), answer(1, &[3; 4]));
    assert_eq!(second.receive().unwrap(), msg::encode_close_ext(2));
}

#[test]
fn ping_gets_pong_and_close_conn_is_recorded() {
    let me = start(true, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    client.send(&hs::build_ping(0x0102_0304_0506_0708));
    let pong = client.receive().unwrap();
    assert_eq!(
        pong,
        [0xa7, 0xea, 0x30, 0x84, 8, 7, 6, 5, 4, 3, 2, 1],
        "RPC_PONG with the ping id"
    );
    client.send(&msg::encode_close_conn(0x40000d));
    wait_event(
        &me,
        &Event::CloseConn {
            conn,
            ext_conn_id: 0x40000d,
        },
    );
    wait_event(
        &me,
        &Event::Ping {
            conn,
            ping_id: 0x0102_0304_0506_0708,
        },
    );
}

#[test]
fn unknown_ops_are_logged_and_the_connection_goes_on() {
    let me = start(true, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    client.send(&[0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0]);
    client.send(&request(3, PLAIN_ABRIDGED, &[4; 4]));
    assert_eq!(client.receive().unwrap(), answer(3, &[4; 4]));
    wait_event(
        &me,
        &Event::UnknownOp {
            conn,
            op: 0xdead_beef,
        },
    );
}

/// Waits for `conn` to fail in `stage` and returns the error.
fn failure_of(me: &FakeMe, conn: ConnId) -> (Stage, ConnError) {
    let found = me.handle().wait_for(WAIT, |events| {
        events.iter().find_map(|e| match e {
            Event::Failed {
                conn: c,
                stage,
                error,
            } if *c == conn => Some((*stage, *error)),
            _ => None,
        })
    });
    found.unwrap()
}

/// A fresh client still gets served.
fn still_serving(me: &FakeMe) {
    let (mut client, _) = Client::connect(me, true);
    client.send(&request(99, PLAIN_ABRIDGED, &[5; 4]));
    assert_eq!(client.receive().unwrap(), answer(99, &[5; 4]));
}

fn read_to_end(mut stream: &TcpStream) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut sink = Vec::new();
    // A reset or a clean end: either way the ME closed it.
    let _ = stream.read_to_end(&mut sink);
}

#[test]
fn garbage_closes_the_connection() {
    let me = start(true, Behaviour::Echo);
    let stream = TcpStream::connect(me.addr()).unwrap();
    (&stream).write_all(&[0x41; 44]).unwrap();
    read_to_end(&stream);
    let conn = conn_of(&me, stream.local_addr().unwrap());
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Nonce, ConnError::Frame(rpc_frame::ERR_BAD_LENGTH))
    );
    still_serving(&me);
}

#[test]
fn an_oversized_nonce_frame_is_refused_at_once() {
    let me = start(true, Behaviour::Echo);
    let stream = TcpStream::connect(me.addr()).unwrap();
    // Only the header of a 4 KiB frame: the ME must not wait for the rest.
    (&stream)
        .write_all(&[0x00, 0x10, 0, 0, 0xfe, 0xff, 0xff, 0xff])
        .unwrap();
    read_to_end(&stream);
    let conn = conn_of(&me, stream.local_addr().unwrap());
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Nonce, ConnError::Frame(rpc_frame::ERR_TOO_BIG))
    );
}

#[test]
fn wrong_key_select_closes_the_connection() {
    let me = start(true, Behaviour::Echo);
    let stream = TcpStream::connect(me.addr()).unwrap();
    let nonce = hs::build_nonce(0x1234_5678, hs::SCHEMA_AES, now() as i32, &[1; 16]).unwrap();
    let frame = rpc_frame::encode_frame(-2, &nonce, CrcKind::Crc32).unwrap();
    (&stream).write_all(&frame).unwrap();
    read_to_end(&stream);
    let conn = conn_of(&me, stream.local_addr().unwrap());
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Nonce, ConnError::Protocol(hs::ERR_KEY_MISMATCH))
    );
    still_serving(&me);
}

#[test]
fn skewed_clock_closes_the_connection() {
    let config = FakeMeConfig {
        clock_offset: 31,
        ..FakeMeConfig::new(SecretSource::Bytes(secret()))
    };
    let me = FakeMe::start(config).unwrap();
    let stream = TcpStream::connect(me.addr()).unwrap();
    let nonce = hs::build_nonce(key_select(), hs::SCHEMA_AES, now() as i32, &[1; 16]).unwrap();
    let frame = rpc_frame::encode_frame(-2, &nonce, CrcKind::Crc32).unwrap();
    (&stream).write_all(&frame).unwrap();
    read_to_end(&stream);
    let conn = conn_of(&me, stream.local_addr().unwrap());
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Nonce, ConnError::Protocol(hs::ERR_CLOCK_SKEW))
    );
}

#[test]
fn a_handshake_for_another_me_gets_handshake_error() {
    let me = start(true, Behaviour::Echo);
    let wrong_port = me.port().wrapping_add(1) as i16;
    let (mut client, _, _, _) = Client::open(&me, true, wrong_port);
    let conn = conn_of(&me, client.local_addr());
    let reply = client.receive().unwrap();
    let error = hs::parse_handshake_error(&reply).unwrap();
    assert_eq!(error.code, hs::ERR_PID_MISMATCH);
    assert_eq!(client.receive(), None);
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Handshake, ConnError::Protocol(hs::ERR_PID_MISMATCH))
    );
}

#[test]
fn bad_crc_closes_the_connection() {
    let me = start(true, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    let mut frame =
        rpc_frame::encode_frame(0, &request(1, PLAIN_ABRIDGED, &[0; 4]), CrcKind::Crc32c).unwrap();
    let last = frame.len() - 1;
    frame[last] ^= 1;
    client.send_raw_frame(frame);
    assert_eq!(client.receive(), None);
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Data, ConnError::Frame(rpc_frame::ERR_BAD_CRC))
    );
    still_serving(&me);
}

#[test]
fn crc32_frames_after_negotiating_crc32c_are_refused() {
    let me = start(true, Behaviour::Echo);
    let (mut client, _) = Client::connect(&me, true);
    let conn = conn_of(&me, client.local_addr());
    let frame =
        rpc_frame::encode_frame(0, &request(1, PLAIN_ABRIDGED, &[0; 4]), CrcKind::Crc32).unwrap();
    client.send_raw_frame(frame);
    assert_eq!(client.receive(), None);
    assert_eq!(
        failure_of(&me, conn),
        (Stage::Data, ConnError::Frame(rpc_frame::ERR_BAD_CRC))
    );
}

#[test]
fn wrong_secret_fails_the_handshake() {
    let me = start(true, Behaviour::Echo);
    let stream = TcpStream::connect(me.addr()).unwrap();
    let nonce = hs::build_nonce(key_select(), hs::SCHEMA_AES, now() as i32, &[1; 16]).unwrap();
    let frame = rpc_frame::encode_frame(-2, &nonce, CrcKind::Crc32).unwrap();
    (&stream).write_all(&frame).unwrap();
    let mut reply = [0u8; 44];
    (&stream).read_exact(&mut reply).unwrap();
    // 48 bytes not encrypted under the ME's key decrypt to junk; the junk
    // may happen to announce a longer frame, so end the stream too.
    (&stream).write_all(&[0x33; 48]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    read_to_end(&stream);
    let conn = conn_of(&me, stream.local_addr().unwrap());
    let (stage, error) = failure_of(&me, conn);
    assert_eq!(stage, Stage::Handshake);
    let eof = ConnError::Io(std::io::ErrorKind::UnexpectedEof);
    assert!(
        matches!(error, ConnError::Frame(_)) || error == eof,
        "{error:?}"
    );
    still_serving(&me);
}

#[test]
fn secret_loads_from_a_file_and_bad_secrets_are_refused() {
    let path = std::env::temp_dir().join(format!("fake-me-secret-{}", std::process::id()));
    std::fs::write(&path, secret()).unwrap();
    let me = FakeMe::start(FakeMeConfig::new(SecretSource::File(path.clone()))).unwrap();
    std::fs::remove_file(&path).unwrap();
    still_serving(&me);

    let short = FakeMeConfig::new(SecretSource::Bytes(vec![1; 31]));
    assert!(FakeMe::start(short).is_err());
    let missing = FakeMeConfig::new(SecretSource::File(path));
    assert!(FakeMe::start(missing).is_err());
}

#[test]
fn proxy_multi_conf_points_at_the_port() {
    let me = start(true, Behaviour::Echo);
    let port = me.port();
    assert_eq!(
        me.proxy_multi_conf(&[2, -2]),
        format!("proxy_for 2 127.0.0.1:{port};\nproxy_for -2 127.0.0.1:{port};\ndefault 2;\n")
    );
}

#[test]
fn drop_closes_open_connections() {
    let me = start(true, Behaviour::Stall);
    let (mut client, _) = Client::connect(&me, true);
    let idle = TcpStream::connect(me.addr()).unwrap();
    client.send(&request(1, PLAIN_ABRIDGED, &[0; 4]));
    drop(me);
    assert_eq!(client.receive(), None);
    read_to_end(&idle);
}
