//! Middle-end connections (docs/RUNTIME.md, "Routing and the middle-end
//! pool"; docs/PROTOCOL.md §4): a pool of `min_connections` per address per
//! worker (the pools themselves are kept by worker.rs). Non-blocking
//! connect, the plaintext nonce exchange, key derivation, the encrypted
//! handshake, then AES-256-CBC frames both ways. Frames produced during a
//! round collect in `plain` and are padded to a whole block, encrypted in
//! place and queued once per round (one write burst). A lost connection
//! closes its own clients only and reconnects after a doubling backoff.

use super::buffers::OutQueue;
use super::routing::{nat_translate, token, Kind, TargetKey, EV_CLOSED, EV_READ, EV_WRITE};
use super::worker::{Worker, READ_CHUNK};
use super::Counters;
use mtproxy_core::common::pid;
use mtproxy_core::crypto::aesni256::{AesContext, AesMode, BLOCK_LEN};
use mtproxy_core::crypto::net_crypto_aes::{derive_keys, KeyPurpose, RpcKeyParams};
use mtproxy_core::mtproto::mtproto_config::Target;
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::rpc_frame::{self, CrcKind, FrameDecoder};
use mtproxy_core::net::rpc_handshake::{self as hs, Handshake, HandshakeConfig, Role};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6};
use std::collections::HashSet;
use std::io::{self, ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

/// First reconnect delay and its ceiling (RUNTIME.md).
const BACKOFF_FIRST_MS: u64 = mtproxy_core::runtime::policy::ME_BACKOFF_FIRST_MS;
const BACKOFF_MAX_MS: u64 = mtproxy_core::runtime::policy::ME_BACKOFF_MAX_MS;
/// A connection not ready this long after the connect attempt is dropped
/// (docs/PROTOCOL.md §4.1), so a silent middle-end cannot hold it forever.
const READY_DEADLINE_MS: u64 = mtproxy_core::runtime::policy::ME_READY_DEADLINE_MS;

/// Starts a non-blocking TCP connect; completion is reported as writable.
pub(crate) fn connect_nonblocking(addr: SocketAddr) -> io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let fd = socket::socket(family, SockType::Stream, flags, None)?;
    let result = match addr {
        SocketAddr::V4(a) => socket::connect(fd.as_raw_fd(), &SockaddrIn::from(a)),
        SocketAddr::V6(a) => socket::connect(fd.as_raw_fd(), &SockaddrIn6::from(a)),
    };
    match result {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(TcpStream::from(fd)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MeState {
    /// Waiting for the reconnect timer.
    Backoff,
    Connecting,
    /// Our nonce is sent; the middle-end's is awaited (plaintext).
    Nonce,
    /// Our handshake is sent; the middle-end's is awaited (encrypted).
    Handshake,
    Ready,
}

pub(crate) struct MeConn {
    pub key: TargetKey,
    target: Target,
    state: MeState,
    stream: Option<TcpStream>,
    exchange: Option<Handshake>,
    decoder: Option<FrameDecoder>,
    enc: Option<AesContext>,
    dec: Option<AesContext>,
    out_seq: i32,
    crc: CrcKind,
    /// Frames of this round, not yet padded and encrypted.
    plain: Vec<u8>,
    pub out: OutQueue,
    /// Received ciphertext short of a whole block.
    partial: Vec<u8>,
    /// Client slots bound to this connection.
    pub bound: HashSet<usize>,
    /// Bound clients whose queue is over the soft cap (this connection is
    /// not read while any is).
    pub over_cap_clients: usize,
    backoff_ms: u64,
    timer: Option<u64>,
    /// Its address left the config: closes once no client is bound.
    pub retiring: bool,
    pub read_paused: bool,
}

/// A burst is sealed once its frames reach this many bytes, so its buffer
/// stays small enough for the allocator to reuse without fresh page
/// mappings (one round of many 64 KiB packets grew a single buffer to
/// megabytes, mapped and zero-filled anew every round).
const SEAL_AT: usize = 64 * 1024;

impl MeConn {
    pub fn is_ready(&self) -> bool {
        self.state == MeState::Ready
    }

    /// Pads the burst to whole blocks, encrypts it (CBC continues across
    /// bursts) and queues it without copying.
    fn seal(&mut self) {
        if self.plain.is_empty() {
            return;
        }
        if let Some(enc) = self.enc.as_mut() {
            let mut pad = [0u8; 12];
            if let Ok(n) = rpc_frame::write_padding(self.plain.len() as u64, &mut pad) {
                self.plain.extend_from_slice(&pad[..n]);
            }
            let _ = enc.crypt_in_place(&mut self.plain);
            self.out.push_vec(std::mem::take(&mut self.plain));
        }
    }

    fn address(&self) -> SocketAddr {
        let port = u16::try_from(self.target.port).unwrap_or(0);
        let ip = if self.target.family == 6 {
            IpAddr::V6(Ipv6Addr::from(self.target.ipv6))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.target.ipv4))
        };
        SocketAddr::new(ip, port)
    }
}

fn ipv4_of(addr: &SocketAddr) -> u32 {
    match addr {
        SocketAddr::V4(a) => u32::from(*a.ip()),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().map_or(0, u32::from),
    }
}

impl Worker<'_> {
    /// This worker's connections to `key` other than `except` (only ready
    /// ones if `ready`): a target counts as allocated while it has a
    /// connection slot and as ready while one of them is ready (/stats).
    fn me_count_target(&self, key: TargetKey, ready: bool, except: Option<usize>) -> usize {
        self.mes
            .iter()
            .filter(|&(slot, m)| Some(slot) != except && m.key == key && (!ready || m.is_ready()))
            .count()
    }

    /// A new connection slot for `target`, connecting at once.
    pub fn me_open(&mut self, target: Target) -> usize {
        let key = TargetKey::from(&target);
        if self.me_count_target(key, false, None) == 0 {
            Counters::add(&self.proxy.counters.allocated_targets, 1);
        }
        let (slot, _) = self.mes.insert(MeConn {
            key,
            target,
            state: MeState::Backoff,
            stream: None,
            exchange: None,
            decoder: None,
            enc: None,
            dec: None,
            out_seq: 0,
            crc: CrcKind::Crc32,
            plain: Vec::new(),
            out: OutQueue::default(),
            partial: Vec::new(),
            bound: HashSet::new(),
            over_cap_clients: 0,
            backoff_ms: BACKOFF_FIRST_MS,
            timer: None,
            retiring: false,
            read_paused: false,
        });
        self.me_connect(slot);
        slot
    }

    fn me_arm_timer(&mut self, slot: usize, delay_ms: u64) {
        let generation = self.mes.generation(slot).unwrap_or(0);
        let id = self
            .reactor
            .timer(token(Kind::MeTimer, slot, generation), delay_ms);
        if let Some(m) = self.mes.get_mut(slot) {
            if let Some(old) = m.timer.replace(id) {
                self.reactor.cancel(old);
            }
        }
    }

    fn me_connect(&mut self, slot: usize) {
        let generation = self.mes.generation(slot).unwrap_or(0);
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let stream = match connect_nonblocking(m.address()) {
            Ok(s) => s,
            Err(_) => return self.me_lost(slot),
        };
        if self
            .reactor
            .add(stream.as_raw_fd(), token(Kind::Me, slot, generation))
            .is_err()
        {
            return self.me_lost(slot);
        }
        m.stream = Some(stream);
        m.state = MeState::Connecting;
        Counters::add(&self.proxy.counters.me_connections, 1);
        Counters::add(&self.proxy.counters.allocated_outbound, 1);
        self.me_arm_timer(slot, READY_DEADLINE_MS);
    }

    pub fn me_timer(&mut self, slot: usize) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        m.timer = None;
        match m.state {
            MeState::Backoff if m.retiring => self.me_close(slot),
            MeState::Backoff => self.me_connect(slot),
            MeState::Ready => {}
            _ => self.me_lost(slot),
        }
    }

    pub fn me_event(&mut self, slot: usize, bits: u32) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        if m.state == MeState::Connecting && bits & (EV_WRITE | EV_CLOSED) != 0 {
            let connected = m
                .stream
                .as_ref()
                .is_some_and(|s| matches!(s.take_error(), Ok(None)) && s.peer_addr().is_ok());
            if !connected {
                return self.me_lost(slot);
            }
            self.me_send_nonce(slot);
        }
        if bits & EV_WRITE != 0 {
            self.follow_ups.dirty_mes.push(slot);
        }
        if bits & (EV_READ | EV_CLOSED) != 0 {
            self.me_readable(slot, bits & EV_CLOSED == 0);
        }
    }

    fn me_send_nonce(&mut self, slot: usize) {
        let nonce: [u8; 16] = self.rng.bytes();
        let snapshot = self.routing.snapshot.clone();
        let nat = &self.proxy.settings.nat_info;
        let start_time = self.proxy.start_time as i32;
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let Some(stream) = m.stream.as_ref() else {
            return;
        };
        let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else {
            return self.me_lost(slot);
        };
        let _ = stream.set_nodelay(true);
        let our_ip = nat_translate(nat, ipv4_of(&local));
        let me_ip = ipv4_of(&peer);
        let our_pid = pid::process_id_init(our_ip, -1, i64::from(std::process::id()), start_time);
        let shown_ip = if me_ip == 0x7f00_0001 { 0 } else { me_ip };
        let peer_pid = pid::process_id_init(shown_ip, peer.port() as i16, 0, 0);
        let secret = &snapshot.proxy_secret;
        let key_select = u32::from_le_bytes([secret[0], secret[1], secret[2], secret[3]]);
        let config = HandshakeConfig {
            role: Role::Client,
            key_select,
            want_crc32c: true,
            our_pid: pid::process_id_encode(&our_pid),
            peer_pid: pid::process_id_encode(&peer_pid),
        };
        let mut exchange = Handshake::new(&config, super::unix_now(), &nonce);
        let Ok(payload) = exchange.send_nonce() else {
            return self.me_lost(slot);
        };
        let Ok(frame) = rpc_frame::encode_frame(-2, &payload, CrcKind::Crc32) else {
            return self.me_lost(slot);
        };
        m.exchange = Some(exchange);
        m.decoder = Some(FrameDecoder::new(-2, CrcKind::Crc32));
        m.state = MeState::Nonce;
        m.partial.clear();
        let n = frame.len();
        m.out.push_vec(frame);
        self.account(0, n);
        self.follow_ups.dirty_mes.push(slot);
    }

    /// Reads a middle-end connection until drained or paused; a short read
    /// ends it as in [`Worker::client_readable`].
    pub fn me_readable(&mut self, slot: usize, short_read_drains: bool) {
        let mut buf = std::mem::take(&mut self.scratch.read);
        while let Some(m) = self.mes.get_mut(slot) {
            m.read_paused = m.over_cap_clients > 0;
            if m.read_paused
                || !matches!(
                    m.state,
                    MeState::Nonce | MeState::Handshake | MeState::Ready
                )
            {
                break;
            }
            let Some(stream) = m.stream.as_mut() else {
                break;
            };
            // Ciphertext short of a block from the last read goes first.
            let carried = m.partial.len();
            buf.resize(READ_CHUNK + BLOCK_LEN, 0);
            buf[..carried].copy_from_slice(&m.partial);
            match stream.read(&mut buf[carried..carried + READ_CHUNK]) {
                Ok(0) => {
                    self.me_lost(slot);
                    break;
                }
                Ok(n) => {
                    m.partial.clear();
                    let total = carried + n;
                    let usable = if let Some(dec) = m.dec.as_mut() {
                        let whole = total - total % BLOCK_LEN;
                        m.partial.extend_from_slice(&buf[whole..total]);
                        let _ = dec.crypt_in_place(&mut buf[..whole]);
                        whole
                    } else {
                        total
                    };
                    self.me_bytes(slot, &buf[..usable]);
                    if short_read_drains && n < READ_CHUNK {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.me_lost(slot);
                    break;
                }
            }
        }
        self.scratch.read = buf;
    }

    /// Decrypted bytes: cut into frames and handle each.
    fn me_bytes(&mut self, slot: usize, mut data: &[u8]) {
        let Some(mut decoder) = self.mes.get_mut(slot).and_then(|m| m.decoder.take()) else {
            return;
        };
        while !data.is_empty() {
            let pushed = match decoder.push(data) {
                Ok(p) => p,
                Err(code) => {
                    if code == rpc_frame::ERR_TOO_BIG {
                        // Its clients are closed with the connection below.
                        let clients = self.mes.get(slot).map_or(0, |m| m.bound.len());
                        crate::log::line(&format!(
                            "middle-end frame over {} bytes: connection dropped, {clients} clients closed",
                            rpc_frame::MAX_FRAME_LEN
                        ));
                        Counters::add(&self.proxy.counters.dropped_responses, 1);
                    }
                    return self.me_lost(slot);
                }
            };
            data = &data[pushed.consumed..];
            let Some(frame) = pushed.frame else {
                continue;
            };
            let state = self.mes.get(slot).map(|m| m.state);
            let ok = match state {
                // Nothing may follow the nonce before our handshake; a
                // completed frame leaves nothing buffered in the decoder.
                Some(MeState::Nonce) => data.is_empty() && self.me_nonce(slot, frame.payload),
                Some(MeState::Handshake) => match self.me_handshake(slot, frame.payload) {
                    Some(crc32c) => {
                        if crc32c {
                            decoder.set_crc(CrcKind::Crc32c);
                        }
                        true
                    }
                    None => false,
                },
                Some(MeState::Ready) => {
                    self.me_message(slot, frame.payload);
                    true
                }
                _ => false,
            };
            if !ok {
                return self.me_lost(slot);
            }
        }
        if let Some(m) = self.mes.get_mut(slot) {
            m.decoder = Some(decoder);
        }
    }

    /// The middle-end's nonce: derive keys, send our handshake.
    fn me_nonce(&mut self, slot: usize, payload: &[u8]) -> bool {
        let snapshot = self.routing.snapshot.clone();
        let nat = &self.proxy.settings.nat_info;
        let Some(m) = self.mes.get_mut(slot) else {
            return false;
        };
        let (Some(exchange), Some(stream)) = (m.exchange.as_mut(), m.stream.as_ref()) else {
            return false;
        };
        if exchange.receive_nonce(payload, super::unix_now()).is_err() {
            return false;
        }
        let (Ok(inputs), Ok(local), Ok(peer)) = (
            exchange.key_inputs(),
            stream.local_addr(),
            stream.peer_addr(),
        ) else {
            return false;
        };
        let mut params = RpcKeyParams {
            nonce_server: inputs.server_nonce,
            nonce_client: inputs.client_nonce,
            client_timestamp: inputs.client_ts,
            server_ip: nat_translate(nat, ipv4_of(&peer)),
            client_ip: nat_translate(nat, ipv4_of(&local)),
            client_port: local.port(),
            server_port: peer.port(),
            use_ipv6: false,
            server_ipv6: [0; 16],
            client_ipv6: [0; 16],
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
        let secret = &snapshot.proxy_secret;
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
        let Ok(handshake) = exchange.send_handshake() else {
            return false;
        };
        m.enc = Some(enc);
        m.dec = Some(dec);
        m.state = MeState::Handshake;
        m.out_seq = -1;
        self.me_send(slot, &handshake);
        true
    }

    /// The middle-end's handshake; `Some(use CRC-32C)` once ready.
    fn me_handshake(&mut self, slot: usize, payload: &[u8]) -> Option<bool> {
        let key = self.mes.get(slot)?.key;
        let first_ready = self.me_count_target(key, true, Some(slot)) == 0;
        let m = self.mes.get_mut(slot)?;
        let exchange = m.exchange.as_mut()?;
        if exchange.receive_handshake(payload).is_err() {
            if let Ok(reply) = exchange.error_reply() {
                self.me_send(slot, &reply);
                self.me_flush(slot);
            }
            return None;
        }
        let crc32c = exchange.use_crc32c;
        if crc32c {
            m.crc = CrcKind::Crc32c;
        }
        m.state = MeState::Ready;
        m.backoff_ms = BACKOFF_FIRST_MS;
        if let Some(timer) = m.timer.take() {
            self.reactor.cancel(timer);
        }
        if first_ready {
            Counters::add(&self.proxy.counters.ready_targets, 1);
        }
        Counters::add(&self.proxy.counters.ready_connections, 1);
        self.retry_waiting();
        Some(crc32c)
    }

    /// A message on a ready connection (§4.9).
    fn me_message(&mut self, slot: usize, payload: &[u8]) {
        let proxy = self.proxy;
        let counters = &proxy.counters;
        match msg::message_kind(payload) {
            Ok(msg::KIND_PROXY_ANS) => match msg::decode_proxy_ans(payload) {
                Ok(ans) => match self.client_of(slot, ans.ext_conn_id) {
                    Some(client) => {
                        let data = &payload[ans.data_offset..ans.data_offset + ans.data_len];
                        if self.send_to_client(client, data) {
                            Counters::add(&counters.forwarded_responses, 1);
                        }
                    }
                    None => Counters::add(&counters.dropped_responses, 1),
                },
                Err(_) => Counters::add(&counters.dropped_responses, 1),
            },
            Ok(msg::KIND_SIMPLE_ACK) => match msg::decode_simple_ack(payload) {
                Ok(ack) => match self.client_of(slot, ack.ext_conn_id) {
                    Some(client) => {
                        self.send_quick_ack(client, ack.confirm);
                        Counters::add(&counters.forwarded_simple_acks, 1);
                    }
                    None => Counters::add(&counters.dropped_simple_acks, 1),
                },
                Err(_) => Counters::add(&counters.dropped_simple_acks, 1),
            },
            Ok(msg::KIND_CLOSE_EXT) => {
                if let Some(client) = msg::decode_close_ext(payload)
                    .ok()
                    .and_then(|id| self.client_of(slot, id))
                {
                    self.detach_client(client);
                    self.set_closing(client);
                }
            }
            Ok(msg::KIND_PING) => {
                if let Ok(pong) = hs::pong_for_ping(payload) {
                    self.me_send(slot, &pong);
                }
            }
            _ => {}
        }
    }

    /// The client slot with ext id `id`, if it is bound to connection `me`.
    fn client_of(&self, me: usize, id: i64) -> Option<usize> {
        let slot = (id as u64 & ((1u64 << msg::EXT_CONN_SLOT_BITS) - 1)) as usize;
        let c = self.clients.get(slot)?;
        (c.ext_id == id && c.me == Some(me)).then_some(slot)
    }

    /// The middle-end let go of a client: unbind without telling it.
    fn detach_client(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let (Some(me), over) = (c.me.take(), c.over_cap) else {
            return;
        };
        c.me_gone = true;
        Counters::add(&self.proxy.counters.ext_connections, -1);
        self.me_unbind(me, slot, over, None);
    }

    /// Appends one frame (next sequence number) to this round's burst.
    pub fn me_send(&mut self, slot: usize, payload: &[u8]) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let start = m.plain.len();
        m.plain
            .resize(start + payload.len() + rpc_frame::FRAME_OVERHEAD, 0);
        match rpc_frame::encode_frame_into(m.out_seq, payload, m.crc, &mut m.plain[start..]) {
            Ok(_) => m.out_seq = m.out_seq.wrapping_add(1),
            Err(_) => m.plain.truncate(start),
        }
        let sealed = (m.plain.len() >= SEAL_AT).then(|| {
            let before = m.out.len();
            m.seal();
            (before, m.out.len())
        });
        self.follow_ups.dirty_mes.push(slot);
        if let Some((before, after)) = sealed {
            self.account(before, after);
        }
    }

    /// Seals this round's frames (padding, CBC) and writes what the socket
    /// takes.
    pub fn me_flush(&mut self, slot: usize) {
        let was_over_budget = !self.under_budget();
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let before = m.out.len();
        m.seal();
        let was_over = m.out.over_cap();
        let result = match m.stream.as_mut() {
            Some(s) if m.state != MeState::Connecting => m.out.flush_to(s).map(|_| ()),
            _ => Ok(()),
        };
        let after = m.out.len();
        let drained = was_over && !m.out.over_cap();
        let bound: Vec<usize> = if drained {
            m.bound.iter().copied().collect()
        } else {
            Vec::new()
        };
        self.account(before, after);
        if result.is_err() {
            return self.me_lost(slot);
        }
        for client in bound {
            if self.clients.get(client).is_some_and(|c| c.read_paused) {
                self.follow_ups.rerun_clients.push(client);
            }
        }
        self.budget_relieved(was_over_budget);
    }

    /// Drops a client's binding; sends CLOSE_CONN if `notify` holds its id.
    pub fn me_unbind(&mut self, me: usize, client: usize, over_cap: bool, notify: Option<i64>) {
        let Some(m) = self.mes.get_mut(me) else {
            return;
        };
        m.bound.remove(&client);
        if over_cap {
            m.over_cap_clients = m.over_cap_clients.saturating_sub(1);
            if m.over_cap_clients == 0 && m.read_paused {
                self.follow_ups.rerun_mes.push(me);
            }
        }
        if let (Some(id), true) = (notify, m.is_ready()) {
            self.me_send(me, &msg::encode_close_conn(id));
        }
        self.me_retire_if_unused(me);
    }

    pub fn me_retire_if_unused(&mut self, slot: usize) {
        if self
            .mes
            .get(slot)
            .is_some_and(|m| m.retiring && m.bound.is_empty())
        {
            self.me_close(slot);
        }
    }

    /// Drops the socket and the session state; the slot stays.
    fn me_drop_socket(&mut self, slot: usize) {
        let Some(key) = self.mes.get(slot).map(|m| m.key) else {
            return;
        };
        let last_ready = self.me_count_target(key, true, Some(slot)) == 0;
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        if let Some(stream) = m.stream.take() {
            let _ = self.reactor.remove(stream.as_raw_fd());
            Counters::add(&self.proxy.counters.me_connections, -1);
            Counters::add(&self.proxy.counters.allocated_outbound, -1);
        }
        let was_ready = m.state == MeState::Ready;
        if was_ready {
            Counters::add(&self.proxy.counters.ready_connections, -1);
            if last_ready {
                Counters::add(&self.proxy.counters.ready_targets, -1);
            }
        }
        m.state = MeState::Backoff;
        // A new connection starts over with CRC-32 and the nonce.
        m.crc = CrcKind::Crc32;
        m.out_seq = 0;
        m.exchange = None;
        m.decoder = None;
        m.enc = None;
        m.dec = None;
        m.plain = Vec::new();
        m.partial = Vec::new();
        m.over_cap_clients = 0;
        m.read_paused = false;
        let queued = m.out.clear();
        if let Some(timer) = m.timer.take() {
            self.reactor.cancel(timer);
        }
        self.account(queued, 0);
        if was_ready {
            // `--direct-fallback` counts the time without one from now.
            let now = std::time::Instant::now();
            for pool in self
                .routing
                .pools
                .iter_mut()
                .filter(|p| p.conns.contains(&slot))
            {
                pool.ready_seen = Some(now);
            }
        }
    }

    /// The connection failed or closed: only its own clients are closed
    /// (once their output is flushed), and this pool member reconnects after
    /// its backoff; the pool's other connections are not touched.
    pub fn me_lost(&mut self, slot: usize) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let clients: Vec<usize> = m.bound.drain().collect();
        for client in clients {
            if let Some(c) = self.clients.get_mut(client) {
                c.me = None;
                c.me_gone = true;
                Counters::add(&self.proxy.counters.ext_connections, -1);
                self.set_closing(client);
            }
        }
        self.me_drop_socket(slot);
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        if m.retiring || self.stopping {
            return self.me_close(slot);
        }
        let delay = m.backoff_ms;
        m.backoff_ms = (m.backoff_ms * 2).min(BACKOFF_MAX_MS);
        self.me_arm_timer(slot, delay);
    }

    /// Frees the slot (worker exit, retired address).
    pub fn me_close(&mut self, slot: usize) {
        self.me_drop_socket(slot);
        if let Some(m) = self.mes.remove(slot) {
            if self.me_count_target(m.key, false, None) == 0 {
                Counters::add(&self.proxy.counters.allocated_targets, -1);
            }
        }
    }
}
