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

/// Bytes taken from the socket per read: a whole round of the proxy's
/// 64 KiB bursts, so a busy connection costs few syscalls.
const READ_CHUNK: usize = 256 * 1024;
/// Answers are written once nothing more is buffered to answer, or once
/// this many bytes are queued (download answers are 64 KiB each).
const FLUSH_AT: usize = 256 * 1024;

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
    input
        .start_decrypting(cipher(AesMode::CbcDecrypt, &keys.client)?)
        .map_err(at(Stage::Nonce))?;
    input.frame_max = HANDSHAKE_FRAME_MAX;
    let mut output = FrameWriter {
        stream: stream.try_clone().map_err(io_error)?,
        cipher: cipher(AesMode::CbcEncrypt, &keys.server)?,
        seq: -1,
        crc: CrcKind::Crc32,
        burst: Vec::new(),
    };

    let handshake = input.next_frame().map_err(at(Stage::Handshake))?;
    let handshake = handshake.ok_or((Stage::Handshake, eof()))?;
    if let Err(code) = exchange.receive_handshake(&handshake) {
        if let Ok(error_reply) = exchange.error_reply() {
            let _ = output.send(&error_reply);
        }
        return Err((Stage::Handshake, ConnError::Protocol(code)));
    }
    let reply = exchange
        .send_handshake()
        .map_err(protocol(Stage::Handshake))?;
    output.send(&reply).map_err(at(Stage::Handshake))?;
    let crc = if exchange.use_crc32c {
        CrcKind::Crc32c
    } else {
        CrcKind::Crc32
    };
    output.crc = crc;
    input.decoder.set_crc(crc);
    input.frame_max = MAX_FRAME_LEN;
    shared.record(Event::Ready { conn, crc });

    // Shared from now on: `sync` sends PINGs on it from the test's thread,
    // between rounds (the lock is held while a round is answered).
    let output = Arc::new(Mutex::new(output));
    lock(&shared.writers).insert(conn, Arc::clone(&output));

    // Every frame already read is answered into one burst, written when the
    // reader must wait for the socket again: one CBC pass and one write per
    // round of requests, not per answer.
    let mut pattern = Vec::new();
    loop {
        let mut output = lock(&output);
        while let Some(payload) = input.buffered_frame().map_err(at(Stage::Data))? {
            let keep_open = handle_message(payload, conn, shared, &mut output, &mut pattern);
            if !keep_open.map_err(at(Stage::Data))? {
                return output.flush().map_err(at(Stage::Data));
            }
            if output.burst.len() >= FLUSH_AT {
                output.flush().map_err(at(Stage::Data))?;
            }
        }
        output.flush().map_err(at(Stage::Data))?;
        drop(output);
        if !input.read_more().map_err(at(Stage::Data))? {
            return Ok(());
        }
    }
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
    pattern: &mut Vec<u8>,
) -> Result<bool, ConnError> {
    let op = payload
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b));
    match op {
        msg::OP_PROXY_REQ => return handle_proxy_req(payload, conn, shared, output, pattern),
        msg::OP_CLOSE_CONN => match msg::decode_close_conn(payload) {
            Ok(ext_conn_id) => shared.record_message(|| Event::CloseConn { conn, ext_conn_id }),
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
                shared.record_message(|| Event::Ping { conn, ping_id });
                output.queue(&pong)?;
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
    pattern: &mut Vec<u8>,
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
    shared.record_message(|| {
        Event::ProxyReq(ProxyReqRecord {
            conn,
            flags: req.flags,
            ext_conn_id: id,
            client_ip: Ipv6Addr::from(req.client_ip),
            client_port: req.client_port,
            proxy_ip: Ipv6Addr::from(req.proxy_ip),
            proxy_port: req.proxy_port,
            ad_tag: (req.flags & msg::FLAG_AD_TAG != 0).then_some(req.ad_tag),
            packet: packet.to_vec(),
        })
    });
    // An answer's data must be whole words.
    let answerable = |data: &[u8]| {
        let fits = data.len() % 4 == 0;
        if !fits {
            let (op, code) = (msg::OP_PROXY_ANS, msg::RpcMsgError::LENGTH.code());
            shared.record(Event::BadMessage { conn, op, code });
        }
        fits
    };
    match behaviour {
        Behaviour::Echo => {
            if answerable(packet) {
                output.queue_answer(id, packet)?;
            }
        }
        Behaviour::ReplyBytes(len) => {
            if pattern.len() != len.next_multiple_of(4) {
                *pattern = reply_pattern(len);
            }
            output.queue_answer(id, pattern)?;
        }
        Behaviour::SimpleAck => {
            if req.flags & msg::FLAG_QUICK_ACK != 0 {
                output.queue(&msg::encode_simple_ack(id, quick_ack_token(packet)))?;
            }
            if answerable(packet) {
                output.queue_answer(id, packet)?;
            }
        }
        Behaviour::CloseExt => output.queue(&msg::encode_close_ext(id))?,
        Behaviour::DropConnection => return Ok(false),
        Behaviour::Stall => {}
        Behaviour::OversizedFrame => output.send_oversized_header()?,
    }
    Ok(true)
}

/// The receiving direction: socket bytes, decrypted in place once keys
/// exist, cut into frames.
struct FrameReader<'a> {
    stream: &'a TcpStream,
    shared: &'a Shared,
    decoder: FrameDecoder,
    /// The longest frame the current phase accepts.
    frame_max: usize,
    cipher: Option<AesContext>,
    /// `buf[at..clear]` is plaintext not yet given to the decoder;
    /// `buf[clear..filled]` ciphertext short of a whole block.
    buf: Vec<u8>,
    at: usize,
    clear: usize,
    filled: usize,
}

impl<'a> FrameReader<'a> {
    fn new(stream: &'a TcpStream, shared: &'a Shared) -> Self {
        FrameReader {
            stream,
            shared,
            decoder: FrameDecoder::new(-2, CrcKind::Crc32),
            frame_max: NONCE_FRAME_MAX,
            cipher: None,
            buf: vec![0; READ_CHUNK],
            at: 0,
            clear: 0,
            filled: 0,
        }
    }

    /// Everything after the nonce is ciphertext, including bytes already
    /// read past it.
    fn start_decrypting(&mut self, cipher: AesContext) -> Result<(), ConnError> {
        self.cipher = Some(cipher);
        self.clear = self.at;
        self.decrypt_whole_blocks()
    }

    fn decrypt_whole_blocks(&mut self) -> Result<(), ConnError> {
        let Some(cipher) = self.cipher.as_mut() else {
            self.clear = self.filled;
            return Ok(());
        };
        let whole = (self.filled - self.clear) / BLOCK_LEN * BLOCK_LEN;
        let blocks = self.buf.get_mut(self.clear..self.clear + whole);
        cipher
            .crypt_in_place(blocks.unwrap_or_default())
            .map_err(|_| ConnError::Crypto)?;
        self.clear += whole;
        Ok(())
    }

    /// The next frame's payload, blocking on the socket as needed; `None`
    /// at end of stream or shutdown.
    fn next_frame(&mut self) -> Result<Option<Vec<u8>>, ConnError> {
        loop {
            if let Some(payload) = self.buffered_frame()? {
                return Ok(Some(payload.to_vec()));
            }
            if !self.read_more()? {
                return Ok(None);
            }
        }
    }

    /// The next frame among the bytes already read, without reading;
    /// `None` once they are all taken (the decoder keeps a partial frame).
    fn buffered_frame(&mut self) -> Result<Option<&[u8]>, ConnError> {
        let rest = self.buf.get(self.at..self.clear).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        check_announced_length(&self.decoder, self.frame_max, rest)?;
        let pushed = self.decoder.push(rest).map_err(ConnError::Frame)?;
        self.at += pushed.consumed;
        Ok(pushed.frame.map(|frame| frame.payload))
    }

    /// Reads from the socket (after every buffered frame was taken);
    /// `false` at end of stream or shutdown.
    fn read_more(&mut self) -> Result<bool, ConnError> {
        // Only a partial block can be left: it moves to the front.
        self.buf.copy_within(self.clear..self.filled, 0);
        self.filled -= self.clear;
        (self.at, self.clear) = (0, 0);
        let got = loop {
            let room = self.buf.get_mut(self.filled..).unwrap_or_default();
            match (&mut self.stream).read(room) {
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
        self.filled += got;
        self.decrypt_whole_blocks()?;
        Ok(true)
    }
}

/// Refuses a frame starting at `rest` that announces more than `frame_max`
/// (only seen when its length field arrives in one piece; else the
/// decoder's own limit applies).
fn check_announced_length(
    decoder: &FrameDecoder,
    frame_max: usize,
    rest: &[u8],
) -> Result<(), ConnError> {
    if decoder.buffered() != 0 {
        return Ok(());
    }
    let announced = rest
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b));
    // Malformed lengths are left to the decoder to classify.
    let well_formed = announced % 4 == 0 && announced <= i32::MAX as u32;
    if well_formed && usize::try_from(announced).is_ok_and(|len| len > frame_max) {
        return Err(ConnError::Frame(rpc_frame::ERR_TOO_BIG));
    }
    Ok(())
}

fn is_retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The sending direction (encrypted: everything after the nonce): frames
/// are built in `burst` and sent together by [`FrameWriter::flush`].
/// The sending side of a ready connection, shared with [`super::FakeMeHandle::sync`].
pub(super) type SharedWriter = Arc<Mutex<FrameWriter>>;

pub(super) struct FrameWriter {
    stream: TcpStream,
    cipher: AesContext,
    seq: i32,
    crc: CrcKind,
    burst: Vec<u8>,
}

impl FrameWriter {
    /// One block starting with the length field of a frame longer than
    /// [`MAX_FRAME_LEN`]; the rest of that frame never follows.
    fn send_oversized_header(&mut self) -> Result<(), ConnError> {
        self.flush()?;
        let mut block = [0u8; BLOCK_LEN];
        let len = u32::try_from(MAX_FRAME_LEN + 4).unwrap_or(u32::MAX);
        block[..4].copy_from_slice(&len.to_le_bytes());
        block[4..8].copy_from_slice(&self.seq.to_le_bytes());
        self.cipher
            .crypt_in_place(&mut block)
            .map_err(|_| ConnError::Crypto)?;
        write_all(&self.stream, &block)
    }

    /// Appends a frame whose `len`-byte payload `fill` writes in place.
    fn queue_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<(), ConnError> {
        let start = self.burst.len();
        self.burst.resize(start + len + FRAME_OVERHEAD, 0);
        let frame = self.burst.get_mut(start..).unwrap_or_default();
        fill(frame.get_mut(8..8 + len).unwrap_or_default());
        if let Err(code) = rpc_frame::seal_frame_in_place(self.seq, self.crc, frame) {
            self.burst.truncate(start);
            return Err(ConnError::Frame(code));
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    fn queue(&mut self, payload: &[u8]) -> Result<(), ConnError> {
        self.queue_with(payload.len(), |area| area.copy_from_slice(payload))
    }

    /// A PROXY_ANS for `id` carrying `data` (whole words), built in place.
    fn queue_answer(&mut self, id: i64, data: &[u8]) -> Result<(), ConnError> {
        let header = msg::PROXY_ANS_HEADER_LEN;
        self.queue_with(header + data.len(), |area| {
            let (head, body) = area.split_at_mut(header);
            // A data-less answer header always fits its 16 bytes.
            let _ = msg::encode_proxy_ans(0, id, &[], head);
            body.copy_from_slice(data);
        })
    }

    /// Sends `payload` as one frame now.
    pub(super) fn send(&mut self, payload: &[u8]) -> Result<(), ConnError> {
        self.queue(payload)?;
        self.flush()
    }

    /// Pads the queued frames to whole cipher blocks, encrypts and writes
    /// them.
    fn flush(&mut self) -> Result<(), ConnError> {
        if self.burst.is_empty() {
            return Ok(());
        }
        let mut padding = [0u8; BLOCK_LEN];
        let padded = rpc_frame::write_padding(self.burst.len() as u64, &mut padding)
            .map_err(ConnError::Frame)?;
        self.burst
            .extend_from_slice(padding.get(..padded).unwrap_or_default());
        self.cipher
            .crypt_in_place(&mut self.burst)
            .map_err(|_| ConnError::Crypto)?;
        let written = write_all(&self.stream, &self.burst);
        self.burst.clear();
        written
    }
}
