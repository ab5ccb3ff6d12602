//! One connection of the fake middle-end: nonce exchange in plaintext, then
//! the encrypted handshake, then data frames until either side closes.

use std::io::{self, Read, Write};
use std::net::{Ipv6Addr, Shutdown, TcpStream};
use std::sync::{Arc, Mutex};

use mtproxy_core::crypto::aesni256::{AesContext, AesMode, BLOCK_LEN};
use mtproxy_core::crypto::net_crypto_aes::ConnectionKey;
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::rpc_frame::{self, CrcKind, FrameDecoder, FRAME_OVERHEAD, MAX_FRAME_LEN};
use mtproxy_core::net::rpc_handshake::{self as hs, Handshake};

use super::{
    connection_keys, lock, quick_ack_token, reply_pattern, Behaviour, ConnError, ConnId, Event,
    ProxyReqRecord, Shared, Stage,
};

const READ_CHUNK: usize = 16 * 1024;

/// The longest frame each phase can carry: a nonce with the most extra key
/// ids, a handshake, anything. A longer announced length fails at once
/// instead of waiting for bytes a confused peer will never send.
const NONCE_FRAME_MAX: usize = FRAME_OVERHEAD + hs::NONCE_EXT_LEN + 4 * hs::MAX_EXTRA_KEYS;
const HANDSHAKE_FRAME_MAX: usize = FRAME_OVERHEAD + hs::HANDSHAKE_LEN;

/// Serves `stream` to the end and logs how it ended.
pub(super) fn run(stream: &TcpStream, conn: ConnId, shared: &Shared) {
    let result = serve(stream, conn, shared);
    // The registry holds a clone of the socket, so dropping ours would not
    // close it; the clone goes too.
    let _ = stream.shutdown(Shutdown::Both);
    lock(&shared.sockets).remove(&conn);
    lock(&shared.writers).remove(&conn);
    if let Err((stage, error)) = result {
        shared.record(Event::Failed { conn, stage, error });
    }
    shared.record(Event::Closed { conn });
}

type Failure = (Stage, ConnError);

fn at(stage: Stage) -> impl Fn(ConnError) -> Failure {
    move |error| (stage, error)
}

fn protocol(stage: Stage) -> impl Fn(i32) -> Failure {
    move |code| (stage, ConnError::Protocol(code))
}

fn serve(stream: &TcpStream, conn: ConnId, shared: &Shared) -> Result<(), Failure> {
    let io_error = |e: io::Error| (Stage::Nonce, ConnError::Io(e.kind()));
    let me_addr = stream.local_addr().map_err(io_error)?;
    let proxy_addr = stream.peer_addr().map_err(io_error)?;
    let mut exchange = Handshake::new(
        &shared.handshake_config(),
        shared.now(),
        &shared.random_nonce(),
    );
    let mut input = FrameReader::new(stream, shared);

    let nonce = input.next_frame().map_err(at(Stage::Nonce))?;
    let nonce = nonce.ok_or((Stage::Nonce, eof()))?;
    exchange
        .receive_nonce(&nonce, shared.now())
        .map_err(protocol(Stage::Nonce))?;
    let reply = exchange.send_nonce().map_err(protocol(Stage::Nonce))?;
    let frame = rpc_frame::encode_frame(-2, &reply, CrcKind::Crc32)
        .map_err(|code| (Stage::Nonce, ConnError::Frame(code)))?;
    write_all(stream, &frame).map_err(at(Stage::Nonce))?;

    let inputs = exchange.key_inputs().map_err(protocol(Stage::Nonce))?;
    let keys = connection_keys(&shared.secret, &inputs, me_addr, proxy_addr)
        .map_err(|_| (Stage::Nonce, ConnError::Crypto))?;
    let cipher = |mode, key: &ConnectionKey| {
        AesContext::new(mode, &key.key, &key.iv).map_err(|_| (Stage::Nonce, ConnError::Crypto))
    };
    input.start_decrypting(cipher(AesMode::CbcDecrypt, &keys.client)?);
    input.frame_max = HANDSHAKE_FRAME_MAX;
    let mut output = FrameWriter {
        stream: stream.try_clone().map_err(io_error)?,
        cipher: cipher(AesMode::CbcEncrypt, &keys.server)?,
        seq: -1,
        crc: CrcKind::Crc32,
    };

    let handshake = input.next_frame().map_err(at(Stage::Handshake))?;
    let handshake = handshake.ok_or((Stage::Handshake, eof()))?;
    if let Err(code) = exchange.receive_handshake(&handshake) {
        if let Ok(error_reply) = exchange.error_reply() {
            let _ = output.send(&[&error_reply]);
        }
        return Err((Stage::Handshake, ConnError::Protocol(code)));
    }
    let reply = exchange
        .send_handshake()
        .map_err(protocol(Stage::Handshake))?;
    output.send(&[&reply]).map_err(at(Stage::Handshake))?;
    let crc = if exchange.use_crc32c {
        CrcKind::Crc32c
    } else {
        CrcKind::Crc32
    };
    output.crc = crc;
    input.decoder.set_crc(crc);
    input.frame_max = MAX_FRAME_LEN;
    // Shared from now on: `sync` sends PINGs on it from the test's thread.
    let output = Arc::new(Mutex::new(output));
    lock(&shared.writers).insert(conn, Arc::clone(&output));
    shared.record(Event::Ready { conn, crc });

    while let Some(payload) = input.next_frame().map_err(at(Stage::Data))? {
        let keep_open = handle_message(&payload, conn, shared, &mut lock(&output));
        if !keep_open.map_err(at(Stage::Data))? {
            break;
        }
    }
    Ok(())
}

fn eof() -> ConnError {
    ConnError::Io(io::ErrorKind::UnexpectedEof)
}

fn write_all(mut stream: &TcpStream, bytes: &[u8]) -> Result<(), ConnError> {
    stream.write_all(bytes).map_err(|e| ConnError::Io(e.kind()))
}

/// Handles one data message; `Ok(false)` to close the connection.
fn handle_message(
    payload: &[u8],
    conn: ConnId,
    shared: &Shared,
    output: &mut FrameWriter,
) -> Result<bool, ConnError> {
    let op = payload
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b));
    match op {
        msg::OP_PROXY_REQ => return handle_proxy_req(payload, conn, shared, output),
        msg::OP_CLOSE_CONN => match msg::decode_close_conn(payload) {
            Ok(ext_conn_id) => shared.record(Event::CloseConn { conn, ext_conn_id }),
            Err(e) => shared.record(Event::BadMessage {
                conn,
                op,
                code: e.code(),
            }),
        },
        msg::OP_PING => match hs::pong_for_ping(payload) {
            Ok(pong) => {
                let id = payload.get(4..12).and_then(|b| b.first_chunk::<8>());
                let ping_id = id.map_or(0, |b| i64::from_le_bytes(*b));
                shared.record(Event::Ping { conn, ping_id });
                output.send(&[&pong])?;
            }
            Err(code) => shared.record(Event::BadMessage { conn, op, code }),
        },
        msg::OP_PONG => {
            let id = payload.get(4..12).and_then(|b| b.first_chunk::<8>());
            let ping_id = id.map_or(0, |b| i64::from_le_bytes(*b));
            shared.record(Event::Pong { conn, ping_id });
        }
        _ => shared.record(Event::UnknownOp { conn, op }),
    }
    Ok(true)
}

fn handle_proxy_req(
    payload: &[u8],
    conn: ConnId,
    shared: &Shared,
    output: &mut FrameWriter,
) -> Result<bool, ConnError> {
    let op = msg::OP_PROXY_REQ;
    let (req, packet_at) = match msg::decode_proxy_req(payload) {
        Ok(decoded) => decoded,
        Err(e) => {
            let code = e.code();
            shared.record(Event::BadMessage { conn, op, code });
            return Ok(true);
        }
    };
    let packet = payload.get(packet_at..).unwrap_or_default();
    let id = req.ext_conn_id;
    // Chosen before the request is logged, so a test that saw it logged
    // knows a later behaviour change does not apply to it.
    let behaviour = shared.behaviour_for(conn);
    shared.record(Event::ProxyReq(ProxyReqRecord {
        conn,
        flags: req.flags,
        ext_conn_id: id,
        client_ip: Ipv6Addr::from(req.client_ip),
        client_port: req.client_port,
        proxy_ip: Ipv6Addr::from(req.proxy_ip),
        proxy_port: req.proxy_port,
        ad_tag: (req.flags & msg::FLAG_AD_TAG != 0).then_some(req.ad_tag),
        packet: packet.to_vec(),
    }));
    let answer = |data: &[u8]| {
        let mut out = vec![0u8; msg::PROXY_ANS_HEADER_LEN + data.len()];
        match msg::encode_proxy_ans(0, id, data, &mut out) {
            Ok(_) => Some(out),
            Err(e) => {
                let (op, code) = (msg::OP_PROXY_ANS, e.code());
                shared.record(Event::BadMessage { conn, op, code });
                None
            }
        }
    };
    match behaviour {
        Behaviour::Echo => {
            if let Some(ans) = answer(packet) {
                output.send(&[&ans])?;
            }
        }
        Behaviour::ReplyBytes(len) => {
            if let Some(ans) = answer(&reply_pattern(len)) {
                output.send(&[&ans])?;
            }
        }
        Behaviour::SimpleAck => {
            let ack = msg::encode_simple_ack(id, quick_ack_token(packet));
            let ans = answer(packet);
            let mut burst: Vec<&[u8]> = Vec::new();
            if req.flags & msg::FLAG_QUICK_ACK != 0 {
                burst.push(&ack);
            }
            if let Some(ans) = &ans {
                burst.push(ans);
            }
            if !burst.is_empty() {
                output.send(&burst)?;
            }
        }
        Behaviour::CloseExt => output.send(&[&msg::encode_close_ext(id)])?,
        Behaviour::DropConnection => return Ok(false),
        Behaviour::Stall => {}
        Behaviour::OversizedFrame => output.send_oversized_header()?,
    }
    Ok(true)
}

/// The receiving direction: socket bytes, decrypted once keys exist, cut
/// into frames.
struct FrameReader<'a> {
    stream: &'a TcpStream,
    shared: &'a Shared,
    decoder: FrameDecoder,
    /// The longest frame the current phase accepts.
    frame_max: usize,
    cipher: Option<AesContext>,
    /// Received bytes not yet decrypted (less than a block, or all of them
    /// before the cipher starts).
    encrypted: Vec<u8>,
    /// Plaintext not yet given to the decoder, from `plain_at` on.
    plain: Vec<u8>,
    plain_at: usize,
}

impl<'a> FrameReader<'a> {
    fn new(stream: &'a TcpStream, shared: &'a Shared) -> Self {
        FrameReader {
            stream,
            shared,
            decoder: FrameDecoder::new(-2, CrcKind::Crc32),
            frame_max: NONCE_FRAME_MAX,
            cipher: None,
            encrypted: Vec::new(),
            plain: Vec::new(),
            plain_at: 0,
        }
    }

    /// Everything after the nonce is ciphertext, including bytes already
    /// read past it.
    fn start_decrypting(&mut self, cipher: AesContext) {
        let mut pending = self.plain.split_off(self.plain_at.min(self.plain.len()));
        pending.append(&mut self.encrypted);
        self.encrypted = pending;
        self.plain.clear();
        self.plain_at = 0;
        self.cipher = Some(cipher);
    }

    /// The next frame's payload; `None` at end of stream or shutdown.
    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ConnError> {
        loop {
            let rest = self.plain.get(self.plain_at..).unwrap_or_default();
            if !rest.is_empty() {
                self.check_announced_length(rest)?;
                let pushed = self.decoder.push(rest).map_err(ConnError::Frame)?;
                self.plain_at += pushed.consumed;
                if let Some(frame) = pushed.frame {
                    return Ok(Some(frame.payload.to_vec()));
                }
                continue;
            }
            self.plain.clear();
            self.plain_at = 0;
            if !self.read_more()? {
                return Ok(None);
            }
        }
    }

    /// Refuses a frame starting at `rest` that announces more than the
    /// phase allows (only seen when its length field arrives in one piece;
    /// else the decoder's own limit applies).
    fn check_announced_length(&self, rest: &[u8]) -> Result<(), ConnError> {
        if self.decoder.buffered() != 0 {
            return Ok(());
        }
        let announced = rest
            .first_chunk::<4>()
            .map_or(0, |b| u32::from_le_bytes(*b));
        // Malformed lengths are left to the decoder to classify.
        let well_formed = announced % 4 == 0 && announced <= i32::MAX as u32;
        if well_formed && usize::try_from(announced).is_ok_and(|len| len > self.frame_max) {
            return Err(ConnError::Frame(rpc_frame::ERR_TOO_BIG));
        }
        Ok(())
    }

    /// Reads from the socket into `plain` (through the cipher once it
    /// runs); `false` at end of stream or shutdown.
    fn read_more(&mut self) -> Result<bool, ConnError> {
        let mut chunk = [0u8; READ_CHUNK];
        let got = loop {
            match (&mut self.stream).read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(got) => break got,
                Err(e) if is_retry(&e) => {
                    if self.shared.stopping() {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(ConnError::Io(e.kind())),
            }
        };
        let received = chunk.get(..got).unwrap_or_default();
        let Some(cipher) = self.cipher.as_mut() else {
            self.plain.extend_from_slice(received);
            return Ok(true);
        };
        self.encrypted.extend_from_slice(received);
        let whole = self.encrypted.len() - self.encrypted.len() % BLOCK_LEN;
        let tail = self.encrypted.split_off(whole);
        let mut blocks = std::mem::replace(&mut self.encrypted, tail);
        cipher
            .crypt_in_place(&mut blocks)
            .map_err(|_| ConnError::Crypto)?;
        self.plain.extend_from_slice(&blocks);
        Ok(true)
    }
}

fn is_retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The sending side of a ready connection, shared with [`super::FakeMeHandle::sync`].
pub(super) type SharedWriter = Arc<Mutex<FrameWriter>>;

/// The sending direction (encrypted: everything after the nonce).
pub(super) struct FrameWriter {
    stream: TcpStream,
    cipher: AesContext,
    seq: i32,
    crc: CrcKind,
}

impl FrameWriter {
    /// One block starting with the length field of a frame longer than
    /// [`MAX_FRAME_LEN`]; the rest of that frame never follows.
    fn send_oversized_header(&mut self) -> Result<(), ConnError> {
        let mut block = [0u8; BLOCK_LEN];
        let len = u32::try_from(MAX_FRAME_LEN + 4).unwrap_or(u32::MAX);
        block[..4].copy_from_slice(&len.to_le_bytes());
        block[4..8].copy_from_slice(&self.seq.to_le_bytes());
        self.cipher
            .crypt_in_place(&mut block)
            .map_err(|_| ConnError::Crypto)?;
        write_all(&self.stream, &block)
    }

    /// Sends `payloads` as consecutive frames in one write, padded to whole
    /// cipher blocks.
    pub(super) fn send(&mut self, payloads: &[&[u8]]) -> Result<(), ConnError> {
        let mut burst = Vec::new();
        for payload in payloads {
            let frame =
                rpc_frame::encode_frame(self.seq, payload, self.crc).map_err(ConnError::Frame)?;
            burst.extend_from_slice(&frame);
            self.seq = self.seq.wrapping_add(1);
        }
        let mut padding = [0u8; BLOCK_LEN];
        let padded =
            rpc_frame::write_padding(burst.len() as u64, &mut padding).map_err(ConnError::Frame)?;
        burst.extend_from_slice(padding.get(..padded).unwrap_or_default());
        self.cipher
            .crypt_in_place(&mut burst)
            .map_err(|_| ConnError::Crypto)?;
        write_all(&self.stream, &burst)
    }
}
