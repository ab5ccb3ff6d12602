//! The middle-end session against a middle-end played with the server side
//! of mtproxy-core: its nonce, keys, handshake and frames.

use super::*;
use mtproxy_core::net::rpc_handshake::build_ping;

const NOW: i64 = 1_700_000_000;
const SECRET: [u8; 32] = [0x5a; 32];

fn ends() -> MeEndpoints<'static> {
    MeEndpoints {
        local: "10.0.0.1:40000".parse().unwrap(),
        peer: "10.0.0.2:8888".parse().unwrap(),
        nat: &[],
        proxy_secret: &SECRET,
        start_time: 1,
    }
}

/// The middle-end's end of one connection.
struct FakeMe {
    exchange: Handshake,
    decoder: FrameDecoder,
    enc: Option<AesContext>,
    dec: Option<AesContext>,
    seq: i32,
    crc: CrcKind,
}

impl FakeMe {
    fn new(want_crc32c: bool) -> FakeMe {
        let config = HandshakeConfig {
            role: Role::Server,
            key_select: u32::from_le_bytes([SECRET[0], SECRET[1], SECRET[2], SECRET[3]]),
            want_crc32c,
            // Its own address, which the proxy's handshake names.
            our_pid: pid::process_id_encode(&pid::process_id_init(0x0a00_0002, 8888, 4242, 99)),
            peer_pid: [0; pid::ENCODED_LEN],
        };
        FakeMe {
            exchange: Handshake::new(&config, NOW, &[0x33; 16]),
            decoder: FrameDecoder::new(NONCE_SEQ, CrcKind::Crc32),
            enc: None,
            dec: None,
            seq: NONCE_SEQ,
            crc: CrcKind::Crc32,
        }
    }

    /// The payloads of the proxy's bytes (decrypted once keys exist).
    fn read(&mut self, wire: &[u8]) -> Vec<Vec<u8>> {
        let mut data = wire.to_vec();
        if let Some(dec) = self.dec.as_mut() {
            dec.crypt_in_place(&mut data).unwrap();
        }
        let mut rest = &data[..];
        let mut payloads = Vec::new();
        while !rest.is_empty() {
            let pushed = self.decoder.push(rest).unwrap();
            rest = &rest[pushed.consumed..];
            payloads.extend(pushed.frame.map(|f| f.payload.to_vec()));
        }
        payloads
    }

    /// `payloads` framed (and padded and encrypted once keys exist).
    fn write(&mut self, payloads: &[&[u8]]) -> Vec<u8> {
        let mut wire = Vec::new();
        for payload in payloads {
            wire.extend(rpc_frame::encode_frame(self.seq, payload, self.crc).unwrap());
            self.seq += 1;
        }
        if let Some(enc) = self.enc.as_mut() {
            let mut pad = [0u8; 12];
            let n = rpc_frame::write_padding(wire.len() as u64, &mut pad).unwrap();
            wire.extend_from_slice(&pad[..n]);
            enc.crypt_in_place(&mut wire).unwrap();
        }
        wire
    }

    /// Takes the proxy's nonce; answers with its own and sets the keys.
    fn answer_nonce(&mut self, proxy_bytes: &[u8]) -> Vec<u8> {
        let [nonce] = self.read(proxy_bytes).try_into().unwrap();
        self.exchange.receive_nonce(&nonce, NOW).unwrap();
        let reply = self.exchange.send_nonce().unwrap();
        let wire = self.write(&[&reply]);
        let inputs = self.exchange.key_inputs().unwrap();
        let params = RpcKeyParams {
            nonce_server: inputs.server_nonce,
            nonce_client: inputs.client_nonce,
            client_timestamp: inputs.client_ts,
            ..key_params(&ends())
        };
        let to_me = derive_keys(&params, &SECRET, KeyPurpose::Client).unwrap();
        let to_proxy = derive_keys(&params, &SECRET, KeyPurpose::Server).unwrap();
        self.dec = AesContext::new(AesMode::CbcDecrypt, &to_me.key, &to_me.iv).ok();
        self.enc = AesContext::new(AesMode::CbcEncrypt, &to_proxy.key, &to_proxy.iv).ok();
        self.seq = HANDSHAKE_SEQ;
        wire
    }

    /// Takes the proxy's handshake; answers with its own.
    fn answer_handshake(&mut self, proxy_bytes: &[u8]) -> Vec<u8> {
        let [handshake] = self.read(proxy_bytes).try_into().unwrap();
        self.exchange.receive_handshake(&handshake).unwrap();
        let reply = self.exchange.send_handshake().unwrap();
        let wire = self.write(&[&reply]);
        if self.exchange.use_crc32c {
            self.crc = CrcKind::Crc32c;
            self.decoder.set_crc(CrcKind::Crc32c);
        }
        self.seq = 0;
        wire
    }
}

fn drain(out: &mut OutQueue) -> Vec<u8> {
    let mut wire = Vec::new();
    out.flush_to(&mut wire).unwrap();
    wire
}

/// The session's events for `wire` fed in pieces of `piece` bytes, answer
/// data as bytes.
fn events(session: &mut MeSession, wire: &[u8], piece: usize) -> Vec<(MeEvent, Vec<u8>)> {
    let mut frame = Vec::new();
    let mut found = Vec::new();
    for chunk in wire.chunks(piece) {
        let mut data = [session.carried(), chunk].concat();
        let mut received = session.receive(&mut data, NOW);
        while let Some(event) = session.poll_event(&mut received, &mut frame) {
            let bytes = match &event {
                MeEvent::Answer { data, .. } => frame[data.clone()].to_vec(),
                _ => Vec::new(),
            };
            found.push((event, bytes));
        }
    }
    found
}

/// A session through its handshake with `me`, and the proxy's queue.
fn ready_pair(want_crc32c: bool, piece: usize) -> (MeSession, FakeMe, OutQueue) {
    let mut me = FakeMe::new(want_crc32c);
    let mut out = OutQueue::default();
    let mut session = MeSession::start(&ends(), NOW, &[0x11; 16], &mut out).unwrap();
    let nonce = me.answer_nonce(&drain(&mut out));
    assert_eq!(events(&mut session, &nonce, piece), []);
    assert!(session.has_unsealed(), "our handshake waits to be sealed");
    session.seal(&mut out);
    let handshake = me.answer_handshake(&drain(&mut out));
    assert_eq!(
        events(&mut session, &handshake, piece),
        [(MeEvent::Ready, vec![])]
    );
    assert!(session.is_ready());
    (session, me, out)
}

#[test]
fn the_exchange_completes_and_messages_become_events_in_any_pieces() {
    for (crc32c, piece) in [(true, 1), (true, 5), (false, 16), (true, 4096)] {
        let (mut session, mut me, _) = ready_pair(crc32c, piece);
        let mut answer = vec![0u8; 64];
        let n = msg::encode_proxy_ans(0, 77, &[9u8; 40], &mut answer).unwrap();
        let wire = me.write(&[
            &answer[..n],
            &msg::encode_simple_ack(78, 0xdead_beef),
            &msg::encode_close_ext(79),
            &[0xff; 8],
            &answer[..8],
        ]);
        let expected = [
            (
                MeEvent::Answer {
                    ext_id: 77,
                    data: 0..0,
                },
                vec![9u8; 40],
            ),
            (
                MeEvent::SimpleAck {
                    ext_id: 78,
                    confirm: 0xdead_beef,
                },
                vec![],
            ),
            (MeEvent::CloseExt { ext_id: 79 }, vec![]),
            (MeEvent::BadAnswer, vec![]),
        ];
        let found = events(&mut session, &wire, piece);
        assert_eq!(found.len(), expected.len(), "crc32c {crc32c} piece {piece}");
        for ((event, bytes), (want, want_bytes)) in found.iter().zip(&expected) {
            match (event, want) {
                (MeEvent::Answer { ext_id, .. }, MeEvent::Answer { ext_id: id, .. }) => {
                    assert_eq!(ext_id, id)
                }
                _ => assert_eq!(event, want),
            }
            assert_eq!(bytes, want_bytes);
        }
    }
}

#[test]
fn a_ping_is_answered_by_the_session_and_sends_go_out_in_sequence() {
    let (mut session, mut me, mut out) = ready_pair(true, 64);
    let wire = me.write(&[&build_ping(0x0102_0304_0506_0708)]);
    assert_eq!(events(&mut session, &wire, 64), []);
    session.send(&msg::encode_close_conn(5), &mut out);
    assert!(session.has_unsealed());
    session.seal(&mut out);
    assert!(!session.has_unsealed());
    let payloads = me.read(&drain(&mut out));
    let pong = hs::pong_for_ping(&build_ping(0x0102_0304_0506_0708)).unwrap();
    assert_eq!(
        payloads,
        [pong.to_vec(), msg::encode_close_conn(5).to_vec()]
    );
}

#[test]
fn a_corrupt_frame_fails_the_session_after_the_good_ones_and_nothing_follows() {
    let (mut session, mut me, _) = ready_pair(true, 64);
    let mut wire = me.write(&[&msg::encode_close_ext(1)]);
    let mut bad = me.write(&[&msg::encode_close_ext(2), &msg::encode_close_ext(3)]);
    // Garble the second block of the burst: the end of its first frame
    // (payload and CRC) decrypts to garbage, so that frame fails its check.
    bad[20] ^= 0x40;
    wire.extend(bad);
    let found = events(&mut session, &wire, 7);
    assert_eq!(
        found,
        [
            (MeEvent::CloseExt { ext_id: 1 }, vec![]),
            (MeEvent::Failed(MeFailure::Protocol), vec![]),
        ]
    );
    let more = me.write(&[&msg::encode_close_ext(4)]);
    assert_eq!(events(&mut session, &more, 64), []);
    // Still counted as ready: the worker counts it out when it drops it.
    assert!(session.is_ready());
}

#[test]
fn a_frame_over_the_limit_is_its_own_failure() {
    let (mut session, mut me, _) = ready_pair(false, 64);
    let len = (rpc_frame::MAX_FRAME_LEN as u32 + 4).to_le_bytes();
    let mut wire = len.to_vec();
    wire.resize(16, 0);
    me.enc.as_mut().unwrap().crypt_in_place(&mut wire).unwrap();
    assert_eq!(
        events(&mut session, &wire, 64),
        [(MeEvent::Failed(MeFailure::FrameTooBig), vec![])]
    );
}

#[test]
fn bytes_after_the_nonce_or_a_refused_handshake_end_the_exchange() {
    // The middle-end may not send before our handshake.
    let mut me = FakeMe::new(true);
    let mut out = OutQueue::default();
    let mut session = MeSession::start(&ends(), NOW, &[0x11; 16], &mut out).unwrap();
    let mut wire = me.answer_nonce(&drain(&mut out));
    // A padding word: harmless anywhere else.
    wire.extend_from_slice(&4u32.to_le_bytes());
    assert_eq!(
        events(&mut session, &wire, wire.len()),
        [(MeEvent::Failed(MeFailure::Protocol), vec![])]
    );

    // A handshake naming another proxy is refused with the error reply.
    let (mut me, mut out) = (FakeMe::new(true), OutQueue::default());
    let mut session = MeSession::start(&ends(), NOW, &[0x11; 16], &mut out).unwrap();
    let nonce = me.answer_nonce(&drain(&mut out));
    assert_eq!(events(&mut session, &nonce, 64), []);
    session.seal(&mut out);
    let [ours] = me.read(&drain(&mut out)).try_into().unwrap();
    me.exchange.receive_handshake(&ours).unwrap();
    let mut reply = me.exchange.send_handshake().unwrap();
    // The peer pid it echoes is not ours.
    let last = reply.len() - 1;
    reply[last] ^= 0xff;
    let wire = me.write(&[&reply]);
    assert_eq!(
        events(&mut session, &wire, 64),
        [(MeEvent::Failed(MeFailure::HandshakeRefused), vec![])]
    );
    session.seal(&mut out);
    let [error] = me.read(&drain(&mut out)).try_into().unwrap();
    assert_eq!(error.len(), hs::HANDSHAKE_ERROR_LEN);
}

#[test]
fn no_session_without_a_key_in_the_proxy_secret() {
    let ends = MeEndpoints {
        proxy_secret: &[1, 2, 3],
        ..ends()
    };
    let mut out = OutQueue::default();
    assert!(MeSession::start(&ends, NOW, &[0; 16], &mut out).is_none());
    assert!(out.is_empty());
}
