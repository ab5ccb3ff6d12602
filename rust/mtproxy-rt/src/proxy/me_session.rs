//! One middle-end connection's protocol without I/O (docs/RUNTIME.md,
//! "Routing and the middle-end pool"; docs/PROTOCOL.md §4): the plaintext
//! nonce exchange, key derivation, the encrypted handshake, then AES-256-CBC
//! frames both ways. Bytes in, events out ([`MeSession::receive`] then
//! [`MeSession::poll_event`]); payloads in, sealed bursts out
//! ([`MeSession::send`], [`MeSession::seal`]). The session answers the
//! middle-end's pings itself. No socket, reactor or worker: the worker
//! (me.rs) connects, reads, routes the events to clients and writes.

use super::buffers::OutQueue;
use super::routing::nat_translate;
use mtproxy_core::common::pid;
use mtproxy_core::crypto::aesni256::{AesContext, AesMode, BLOCK_LEN};
use mtproxy_core::crypto::net_crypto_aes::{derive_keys, KeyPurpose, RpcKeyParams};
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::rpc_frame::{self, CrcKind, FrameDecoder};
use mtproxy_core::net::rpc_handshake::{self as hs, Handshake, HandshakeConfig, Role};
use std::net::SocketAddr;
use std::ops::Range;

/// A burst is sealed once its frames reach this many bytes, so its buffer
/// stays small enough for the allocator to reuse without fresh page
/// mappings (one round of many 64 KiB packets grew a single buffer to
/// megabytes, mapped and zero-filled anew every round).
const SEAL_AT: usize = 64 * 1024;

/// Sequence number of the nonce frames, then of the handshake frames; data
/// frames count up from 0.
const NONCE_SEQ: i32 = -2;
const HANDSHAKE_SEQ: i32 = -1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Our nonce is sent; the middle-end's is awaited (plaintext).
    Nonce,
    /// Our handshake is sent; the middle-end's is awaited (encrypted).
    Handshake,
    Ready,
}

/// What the exchange needs to know about the socket and the proxy.
pub(crate) struct MeEndpoints<'a> {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// `--nat-info` rules (local → global IPv4).
    pub nat: &'a [(u32, u32)],
    /// The proxy secret (proxy-secret file) of the config in force.
    pub proxy_secret: &'a [u8],
    /// The proxy's start time, part of its process id.
    pub start_time: i32,
}

/// What the middle-end's bytes mean, one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MeEvent {
    /// The handshake completed: the connection carries clients from now.
    Ready,
    /// PROXY_ANS for the client with ext id `ext_id`; its data is
    /// `frame[data]` of the caller's frame buffer.
    Answer {
        ext_id: i64,
        data: Range<usize>,
    },
    SimpleAck {
        ext_id: i64,
        confirm: u32,
    },
    /// The middle-end let go of the client with this ext id.
    CloseExt {
        ext_id: i64,
    },
    /// A PROXY_ANS or SIMPLE_ACK that did not decode (counted as dropped).
    BadAnswer,
    BadSimpleAck,
    /// The connection broke the protocol: drop it. Comes after the events
    /// of the frames before the fault; nothing follows it.
    Failed(MeFailure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MeFailure {
    /// A frame longer than [`rpc_frame::MAX_FRAME_LEN`].
    FrameTooBig,
    /// Our handshake was refused: the HANDSHAKE_ERROR reply is queued, to
    /// be flushed before the connection is dropped.
    HandshakeRefused,
    /// A bad frame, nonce or handshake, or bytes the middle-end may not
    /// send yet.
    Protocol,
}

/// Decrypted bytes of one read not yet cut into frames, borrowed from the
/// caller's read buffer (the session keeps no copy).
pub(crate) struct MeReceived<'a> {
    rest: &'a [u8],
    /// Unix time of the read (checks the nonce's timestamp).
    now: i64,
}

/// One middle-end connection from our nonce on.
pub(crate) struct MeSession {
    phase: Phase,
    /// A [`MeEvent::Failed`] was handed out: nothing follows it. The phase
    /// stays as it was, so a ready connection that fails is still counted
    /// as ready until the worker drops it.
    failed: bool,
    exchange: Handshake,
    /// The key inputs known at connect (addresses, ports); the nonces are
    /// filled in when the middle-end's arrives.
    params: RpcKeyParams,
    proxy_secret: Vec<u8>,
    decoder: FrameDecoder,
    enc: Option<AesContext>,
    dec: Option<AesContext>,
    out_seq: i32,
    crc: CrcKind,
    /// Frames not yet padded and encrypted (one burst).
    plain: Vec<u8>,
    /// Received ciphertext short of a whole block.
    partial: Vec<u8>,
}

fn ipv4_of(addr: &SocketAddr) -> u32 {
    match addr {
        SocketAddr::V4(a) => u32::from(*a.ip()),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().map_or(0, u32::from),
    }
}

/// The address part of the key inputs: IPv4 (NAT-translated) unless both
/// ends are real IPv6 addresses.
fn key_params(ends: &MeEndpoints<'_>) -> RpcKeyParams {
    let (local, peer) = (ends.local, ends.peer);
    let mut params = RpcKeyParams {
        server_ip: nat_translate(ends.nat, ipv4_of(&peer)),
        client_ip: nat_translate(ends.nat, ipv4_of(&local)),
        client_port: local.port(),
        server_port: peer.port(),
        ..RpcKeyParams::default()
    };
    if let (SocketAddr::V6(l), SocketAddr::V6(p)) = (local, peer) {
        if p.ip().to_ipv4_mapped().is_none() {
            params.use_ipv6 = true;
            params.server_ip = 0;
            params.client_ip = 0;
            params.server_ipv6 = p.ip().octets();
            params.client_ipv6 = l.ip().octets();
        }
    }
    params
}

impl MeSession {
    /// Starts the exchange on a connected socket: our nonce frame goes to
    /// `out` (plaintext, CRC-32). `None` if the proxy secret is too short
    /// to name its key.
    pub fn start(
        ends: &MeEndpoints<'_>,
        now: i64,
        nonce: &[u8; 16],
        out: &mut OutQueue,
    ) -> Option<MeSession> {
        let key_select = u32::from_le_bytes(*ends.proxy_secret.first_chunk::<4>()?);
        let our_ip = nat_translate(ends.nat, ipv4_of(&ends.local));
        let our_pid =
            pid::process_id_init(our_ip, -1, i64::from(std::process::id()), ends.start_time);
        // A middle-end on loopback is shown as address 0.
        let me_ip = match ipv4_of(&ends.peer) {
            0x7f00_0001 => 0,
            ip => ip,
        };
        let peer_pid = pid::process_id_init(me_ip, ends.peer.port() as i16, 0, 0);
        let config = HandshakeConfig {
            role: Role::Client,
            key_select,
            want_crc32c: true,
            our_pid: pid::process_id_encode(&our_pid),
            peer_pid: pid::process_id_encode(&peer_pid),
        };
        let mut exchange = Handshake::new(&config, now, nonce);
        let payload = exchange.send_nonce().ok()?;
        let frame = rpc_frame::encode_frame(NONCE_SEQ, &payload, CrcKind::Crc32).ok()?;
        out.push_vec(frame);
        Some(MeSession {
            phase: Phase::Nonce,
            failed: false,
            exchange,
            params: key_params(ends),
            proxy_secret: ends.proxy_secret.to_vec(),
            decoder: FrameDecoder::new(NONCE_SEQ, CrcKind::Crc32),
            enc: None,
            dec: None,
            out_seq: 0,
            crc: CrcKind::Crc32,
            plain: Vec::new(),
            partial: Vec::new(),
        })
    }

    /// The handshake completed (still true after a failure: the worker
    /// drops a failed session at once and counts it out then).
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Ciphertext short of a block left by the last read: the caller puts
    /// it in front of the next read's bytes.
    pub fn carried(&self) -> &[u8] {
        &self.partial
    }

    /// Takes one read's bytes, with [`Self::carried`] in front: decrypts
    /// the whole blocks in place and keeps the rest for the next read. Take
    /// the events out with [`Self::poll_event`].
    pub fn receive<'a>(&mut self, data: &'a mut [u8], now: i64) -> MeReceived<'a> {
        let usable = match self.dec.as_mut() {
            Some(dec) => {
                let whole = data.len() - data.len() % BLOCK_LEN;
                self.partial.clear();
                self.partial.extend_from_slice(&data[whole..]);
                // Whole blocks: CBC cannot fail.
                let _ = dec.crypt_in_place(&mut data[..whole]);
                whole
            }
            None => data.len(),
        };
        MeReceived {
            rest: &data[..usable],
            now,
        }
    }

    /// The next event of `received`. A frame the caller handles (an answer)
    /// is moved into `frame` without copying; the nonce, the handshake and
    /// pings are handled here (a pong is queued with [`Self::send`]'s
    /// frames). `None` once all is taken.
    pub fn poll_event(
        &mut self,
        received: &mut MeReceived<'_>,
        frame: &mut Vec<u8>,
    ) -> Option<MeEvent> {
        while !self.failed && !received.rest.is_empty() {
            let consumed = match self.decoder.push(received.rest) {
                Ok(pushed) => pushed.consumed,
                Err(rpc_frame::ERR_TOO_BIG) => return Some(self.fail(MeFailure::FrameTooBig)),
                Err(_) => return Some(self.fail(MeFailure::Protocol)),
            };
            received.rest = &received.rest[consumed..];
            let Some(payload) = self.decoder.take_frame(frame) else {
                continue;
            };
            let event = match self.phase {
                // Nothing may follow the nonce before our handshake.
                Phase::Nonce => {
                    let alone = received.rest.is_empty();
                    if alone && self.on_nonce(&frame[payload], received.now) {
                        None
                    } else {
                        Some(self.fail(MeFailure::Protocol))
                    }
                }
                Phase::Handshake => Some(self.on_handshake(&frame[payload])),
                Phase::Ready => self.on_message(&frame[payload.clone()], payload.start),
            };
            if event.is_some() {
                return event;
            }
        }
        None
    }

    fn fail(&mut self, failure: MeFailure) -> MeEvent {
        self.failed = true;
        MeEvent::Failed(failure)
    }

    /// The middle-end's nonce: derive the keys, queue our handshake.
    fn on_nonce(&mut self, payload: &[u8], now: i64) -> bool {
        if self.exchange.receive_nonce(payload, now).is_err() {
            return false;
        }
        let Ok(inputs) = self.exchange.key_inputs() else {
            return false;
        };
        let params = RpcKeyParams {
            nonce_server: inputs.server_nonce,
            nonce_client: inputs.client_nonce,
            client_timestamp: inputs.client_ts,
            ..self.params
        };
        let secret = &self.proxy_secret;
        let (Ok(write), Ok(read)) = (
            derive_keys(&params, secret, KeyPurpose::Client),
            derive_keys(&params, secret, KeyPurpose::Server),
        ) else {
            return false;
        };
        let (Ok(enc), Ok(dec)) = (
            AesContext::new(AesMode::CbcEncrypt, &write.key, &write.iv),
            AesContext::new(AesMode::CbcDecrypt, &read.key, &read.iv),
        ) else {
            return false;
        };
        let Ok(handshake) = self.exchange.send_handshake() else {
            return false;
        };
        self.enc = Some(enc);
        self.dec = Some(dec);
        self.phase = Phase::Handshake;
        self.out_seq = HANDSHAKE_SEQ;
        self.append_frame(&handshake);
        true
    }

    /// The middle-end's handshake: ready, or refused with our error reply
    /// queued.
    fn on_handshake(&mut self, payload: &[u8]) -> MeEvent {
        if self.exchange.receive_handshake(payload).is_err() {
            return match self.exchange.error_reply() {
                Ok(reply) => {
                    self.append_frame(&reply);
                    self.fail(MeFailure::HandshakeRefused)
                }
                Err(_) => self.fail(MeFailure::Protocol),
            };
        }
        if self.exchange.use_crc32c {
            self.crc = CrcKind::Crc32c;
            self.decoder.set_crc(CrcKind::Crc32c);
        }
        self.phase = Phase::Ready;
        MeEvent::Ready
    }

    /// A message on a ready connection (§4.9); `at` is its offset in the
    /// caller's frame buffer.
    fn on_message(&mut self, payload: &[u8], at: usize) -> Option<MeEvent> {
        match msg::message_kind(payload) {
            Ok(msg::KIND_PROXY_ANS) => Some(match msg::decode_proxy_ans(payload) {
                Ok(ans) => {
                    let start = at + ans.data_offset;
                    MeEvent::Answer {
                        ext_id: ans.ext_conn_id,
                        data: start..start + ans.data_len,
                    }
                }
                Err(_) => MeEvent::BadAnswer,
            }),
            Ok(msg::KIND_SIMPLE_ACK) => Some(match msg::decode_simple_ack(payload) {
                Ok(ack) => MeEvent::SimpleAck {
                    ext_id: ack.ext_conn_id,
                    confirm: ack.confirm,
                },
                Err(_) => MeEvent::BadSimpleAck,
            }),
            Ok(msg::KIND_CLOSE_EXT) => msg::decode_close_ext(payload)
                .ok()
                .map(|ext_id| MeEvent::CloseExt { ext_id }),
            Ok(msg::KIND_PING) => {
                if let Ok(pong) = hs::pong_for_ping(payload) {
                    self.append_frame(&pong);
                }
                None
            }
            _ => None,
        }
    }

    /// Appends one frame (next sequence number) to the burst; seals the
    /// burst into `out` once it is large.
    pub fn send(&mut self, payload: &[u8], out: &mut OutQueue) {
        self.append_frame(payload);
        if self.plain.len() >= SEAL_AT {
            self.seal(out);
        }
    }

    fn append_frame(&mut self, payload: &[u8]) {
        let start = self.plain.len();
        self.plain
            .resize(start + payload.len() + rpc_frame::FRAME_OVERHEAD, 0);
        match rpc_frame::encode_frame_into(
            self.out_seq,
            payload,
            self.crc,
            &mut self.plain[start..],
        ) {
            Ok(_) => self.out_seq = self.out_seq.wrapping_add(1),
            Err(_) => self.plain.truncate(start),
        }
    }

    /// Frames wait in the burst (a pong, a handshake reply): flush soon.
    pub fn has_unsealed(&self) -> bool {
        !self.plain.is_empty()
    }

    /// Pads the burst to whole blocks, encrypts it (CBC continues across
    /// bursts) and appends it to `out` without copying. Before the keys
    /// exist there is nothing to seal.
    pub fn seal(&mut self, out: &mut OutQueue) {
        let Some(enc) = self.enc.as_mut() else {
            return;
        };
        if self.plain.is_empty() {
            return;
        }
        let mut pad = [0u8; 12];
        if let Ok(n) = rpc_frame::write_padding(self.plain.len() as u64, &mut pad) {
            self.plain.extend_from_slice(&pad[..n]);
        }
        let _ = enc.crypt_in_place(&mut self.plain);
        out.push_vec(std::mem::take(&mut self.plain));
    }
}

#[cfg(test)]
#[path = "me_session_tests.rs"]
mod tests;
