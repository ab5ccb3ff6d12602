//! Middle-end connections, the worker's side (docs/RUNTIME.md, "Routing
//! and the middle-end pool"; docs/PROTOCOL.md §4): a pool of
//! `min_connections` per address per worker (the pools themselves are kept
//! by worker.rs). Non-blocking connect; from then on the connection's
//! session (me_session.rs) runs the exchange and the frames, and this file
//! routes its events to the clients. Frames produced during a round collect
//! in the session and are sealed and queued once per round (one write
//! burst). A lost connection closes its own clients only and reconnects
//! after a doubling backoff.

use super::connections::{connect_nonblocking, Link, MeConn};
use super::me_session::{MeEndpoints, MeEvent, MeFailure, MeSession};
use super::routing::{token, Kind, TargetKey, EV_CLOSED, EV_READ, EV_WRITE};
use super::worker::{Worker, READ_CHUNK};
use super::Counters;
use mtproxy_core::crypto::aesni256::BLOCK_LEN;
use mtproxy_core::mtproto::mtproto_config::Target;
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::rpc_frame;
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;

/// First reconnect delay and its ceiling (RUNTIME.md).
const BACKOFF_FIRST_MS: u64 = mtproxy_core::runtime::policy::ME_BACKOFF_FIRST_MS;
const BACKOFF_MAX_MS: u64 = mtproxy_core::runtime::policy::ME_BACKOFF_MAX_MS;
/// A connection not ready this long after the connect attempt is dropped
/// (docs/PROTOCOL.md §4.1), so a silent middle-end cannot hold it forever.
const READY_DEADLINE_MS: u64 = mtproxy_core::runtime::policy::ME_READY_DEADLINE_MS;

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
        let conn = MeConn::new(target, BACKOFF_FIRST_MS);
        if self.me_count_target(conn.key, false, None) == 0 {
            Counters::add(&self.proxy.counters.allocated_targets, 1);
        }
        let (slot, _) = self.mes.insert(conn);
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
        m.link = Link::Connecting;
        Counters::add(&self.proxy.counters.me_connections, 1);
        Counters::add(&self.proxy.counters.allocated_outbound, 1);
        self.me_arm_timer(slot, READY_DEADLINE_MS);
    }

    pub fn me_timer(&mut self, slot: usize) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        m.timer = None;
        match m.link {
            Link::Backoff if m.retiring => self.me_close(slot),
            Link::Backoff => self.me_connect(slot),
            _ if m.is_ready() => {}
            _ => self.me_lost(slot),
        }
    }

    pub fn me_event(&mut self, slot: usize, bits: u32) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        if matches!(m.link, Link::Connecting) && bits & (EV_WRITE | EV_CLOSED) != 0 {
            let connected = m
                .stream
                .as_ref()
                .is_some_and(|s| matches!(s.take_error(), Ok(None)) && s.peer_addr().is_ok());
            if !connected {
                return self.me_lost(slot);
            }
            self.me_start_session(slot);
        }
        if bits & EV_WRITE != 0 {
            self.follow_ups.dirty_mes.push(slot);
        }
        if bits & (EV_READ | EV_CLOSED) != 0 {
            self.me_readable(slot, bits & EV_CLOSED == 0);
        }
    }

    /// The socket is connected: the session starts with our nonce.
    fn me_start_session(&mut self, slot: usize) {
        let nonce: [u8; 16] = self.rng.bytes();
        let snapshot = self.routing.snapshot.clone();
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
        let ends = MeEndpoints {
            local,
            peer,
            nat: &self.proxy.settings.nat_info,
            proxy_secret: &snapshot.proxy_secret,
            start_time: self.proxy.start_time as i32,
        };
        let before = m.out.len();
        let Some(session) = MeSession::start(&ends, super::unix_now(), &nonce, &mut m.out) else {
            return self.me_lost(slot);
        };
        m.link = Link::Open(Box::new(session));
        let after = m.out.len();
        self.account(before, after);
        self.follow_ups.dirty_mes.push(slot);
    }

    /// Reads a middle-end connection until drained or paused and hands its
    /// session's events on; a short read ends it as in
    /// [`Worker::client_readable`].
    pub fn me_readable(&mut self, slot: usize, short_read_drains: bool) {
        let mut buf = std::mem::take(&mut self.scratch.read);
        let mut frame = std::mem::take(&mut self.scratch.frame);
        while let Some(m) = self.mes.get_mut(slot) {
            m.read_paused = m.over_cap_clients > 0;
            let MeConn {
                stream: Some(stream),
                link: Link::Open(session),
                read_paused: false,
                ..
            } = m
            else {
                break;
            };
            // Ciphertext short of a block from the last read goes first.
            let carried = session.carried().len();
            buf.resize(READ_CHUNK + BLOCK_LEN, 0);
            buf[..carried].copy_from_slice(session.carried());
            let n = match stream.read(&mut buf[carried..carried + READ_CHUNK]) {
                Ok(0) => {
                    self.me_lost(slot);
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.me_lost(slot);
                    break;
                }
            };
            let mut received = session.receive(&mut buf[..carried + n], super::unix_now());
            while let Some(event) = self
                .me_session(slot)
                .and_then(|s| s.poll_event(&mut received, &mut frame))
            {
                self.me_session_event(slot, event, &frame);
            }
            if self.me_session(slot).is_some_and(|s| s.has_unsealed()) {
                // A pong or a handshake to send.
                self.follow_ups.dirty_mes.push(slot);
            }
            if short_read_drains && n < READ_CHUNK {
                break;
            }
        }
        self.scratch.frame = frame;
        self.scratch.read = buf;
    }

    fn me_session(&mut self, slot: usize) -> Option<&mut MeSession> {
        match &mut self.mes.get_mut(slot)?.link {
            Link::Open(session) => Some(session.as_mut()),
            _ => None,
        }
    }

    /// What the session made of the middle-end's bytes; an answer's data
    /// is in `frame`.
    fn me_session_event(&mut self, slot: usize, event: MeEvent, frame: &[u8]) {
        let counters = &self.proxy.counters;
        match event {
            MeEvent::Ready => self.me_ready(slot),
            MeEvent::Answer { ext_id, data } => match self.client_of(slot, ext_id) {
                Some(client) => {
                    if self.send_to_client(client, &frame[data]) {
                        Counters::add(&counters.forwarded_responses, 1);
                    }
                }
                None => Counters::add(&counters.dropped_responses, 1),
            },
            MeEvent::SimpleAck { ext_id, confirm } => match self.client_of(slot, ext_id) {
                Some(client) => {
                    self.send_quick_ack(client, confirm);
                    Counters::add(&counters.forwarded_simple_acks, 1);
                }
                None => Counters::add(&counters.dropped_simple_acks, 1),
            },
            MeEvent::CloseExt { ext_id } => {
                if let Some(client) = self.client_of(slot, ext_id) {
                    self.detach_client(client);
                    self.set_closing(client);
                }
            }
            MeEvent::BadAnswer => Counters::add(&counters.dropped_responses, 1),
            MeEvent::BadSimpleAck => Counters::add(&counters.dropped_simple_acks, 1),
            MeEvent::Failed(failure) => {
                match failure {
                    MeFailure::FrameTooBig => {
                        // Its clients are closed with the connection below.
                        let clients = self.mes.get(slot).map_or(0, |m| m.bound.len());
                        crate::log::line(&format!(
                            "middle-end frame over {} bytes: connection dropped, {clients} clients closed",
                            rpc_frame::MAX_FRAME_LEN
                        ));
                        Counters::add(&counters.dropped_responses, 1);
                    }
                    // The error reply goes out before the socket closes.
                    MeFailure::HandshakeRefused => self.me_flush(slot),
                    MeFailure::Protocol => {}
                }
                self.me_lost(slot);
            }
        }
    }

    /// The handshake completed: count the connection (and its target, if
    /// it is the target's first ready one) and send the waiting packets.
    fn me_ready(&mut self, slot: usize) {
        let Some(key) = self.mes.get(slot).map(|m| m.key) else {
            return;
        };
        let first_ready = self.me_count_target(key, true, Some(slot)) == 0;
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        m.backoff_ms = BACKOFF_FIRST_MS;
        if let Some(timer) = m.timer.take() {
            self.reactor.cancel(timer);
        }
        if first_ready {
            Counters::add(&self.proxy.counters.ready_targets, 1);
        }
        Counters::add(&self.proxy.counters.ready_connections, 1);
        self.retry_waiting();
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

    /// Appends one frame to this round's burst (sealed into the queue once
    /// large); nothing without a session.
    pub fn me_send(&mut self, slot: usize, payload: &[u8]) {
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let Link::Open(session) = &mut m.link else {
            return;
        };
        let before = m.out.len();
        session.send(payload, &mut m.out);
        let after = m.out.len();
        self.follow_ups.dirty_mes.push(slot);
        self.account(before, after);
    }

    /// Seals this round's frames (padding, CBC) and writes what the socket
    /// takes.
    pub fn me_flush(&mut self, slot: usize) {
        let was_over_budget = !self.under_budget();
        let Some(m) = self.mes.get_mut(slot) else {
            return;
        };
        let before = m.out.len();
        let open = match &mut m.link {
            Link::Open(session) => {
                session.seal(&mut m.out);
                true
            }
            _ => false,
        };
        let was_over = m.out.over_cap();
        // Nothing is written before the connect completes.
        let result = match m.stream.as_mut() {
            Some(s) if open => m.out.flush_to(s).map(|_| ()),
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
        let was_ready = m.is_ready();
        if was_ready {
            Counters::add(&self.proxy.counters.ready_connections, -1);
            if last_ready {
                Counters::add(&self.proxy.counters.ready_targets, -1);
            }
        }
        // A new connection starts a new session.
        m.link = Link::Backoff;
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
