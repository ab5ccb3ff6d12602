//! Client connections (docs/RUNTIME.md, "Client connections"): the
//! obfuscated2 / fake-TLS handshake, the relay to the fronting domain for
//! rejected ones, and the data path's worker side: the socket's bytes go to
//! the client's session (client_session.rs, which decrypts in place and cuts
//! packets), its packets are filtered and forwarded as PROXY_REQ; answers go
//! through the session into the client's queue.

use super::buffers::OutQueue;
use super::client_session::{ClientEvent, ClientSession, Received};
use super::connections::{Client, Pending, Phase};
use super::rng::Rng;
use super::routing::{fallback_due, pick_connection, token, Kind, EV_CLOSED, EV_READ, EV_WRITE};
use super::worker::{Worker, CLIENT_DEADLINE_MS, READ_CHUNK};
use super::Counters;
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::ext_framing::{self as framing};
use mtproxy_core::net::fake_tls::RecordReader;
use mtproxy_core::net::obfs2::ServerHeader;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

/// Bytes a user's connection relays before it reports them to the
/// registry (and learns whether it may go on); the users sweep reports the
/// rest every [`super::worker::USERS_SWEEP_MS`].
const USER_REPORT_BYTES: u64 = 64 * 1024;

/// 16-byte address as PROXY_REQ carries it, IPv4 mapped and translated.
fn wire_address(addr: &SocketAddr, nat: &[(u32, u32)]) -> [u8; 16] {
    let ipv4 = match addr {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped(),
    };
    match (ipv4, addr) {
        (Some(v4), _) => msg::ipv4_mapped(super::routing::nat_translate(nat, u32::from(v4))),
        (None, SocketAddr::V6(a)) => a.ip().octets(),
        (None, SocketAddr::V4(_)) => [0; 16],
    }
}

impl Worker<'_> {
    pub(crate) fn tls_mode(&self) -> bool {
        !self.proxy.settings.domains.is_empty()
    }

    pub fn client_accepted(&mut self, stream: TcpStream) {
        let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
            return;
        };
        let header_wanted = !self.proxy.settings.rust_only.proxy_protocol.is_empty();
        if header_wanted && !self.proxy_protocol_trusted(peer) {
            return;
        }
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        let clamp = self.proxy.settings.window_clamp;
        if clamp > 0 {
            // Best effort, like TCP_NODELAY: the connection works without it.
            let _ =
                mtproxy_sys::c::server_functions::set_tcp_window_clamp(stream.as_raw_fd(), clamp);
        }
        let (slot, generation) = self.clients.next_slot();
        if slot >> msg::EXT_CONN_SLOT_BITS != 0
            || self
                .reactor
                .add(stream.as_raw_fd(), token(Kind::Client, slot, generation))
                .is_err()
        {
            return;
        }
        let timer = self.reactor.timer(
            token(Kind::HandshakeTimer, slot, generation),
            CLIENT_DEADLINE_MS,
        );
        self.clients.insert(Client {
            stream,
            peer,
            local,
            phase: if header_wanted {
                Phase::ProxyHeader
            } else {
                Phase::Hello
            },
            raw: Vec::new(),
            out: OutQueue::default(),
            me: None,
            ext_id: 0,
            me_gone: false,
            pending: VecDeque::new(),
            pending_bytes: 0,
            pending_timer: None,
            handshake_timer: Some(timer),
            flood_timer: None,
            drain_timer: None,
            read_paused: false,
            over_cap: false,
            closing: false,
            user: None,
        });
        let c = &self.proxy.counters;
        Counters::add(&c.clients, 1);
        Counters::add(&c.allocated_inbound, 1);
        // Bytes may already be waiting; edge-triggered registration reports
        // them, but reading now saves a round.
        self.client_readable(slot, false);
    }

    pub fn client_event(&mut self, slot: usize, bits: u32) {
        if bits & EV_WRITE != 0 {
            self.follow_ups.dirty_clients.push(slot);
        }
        if bits & (EV_READ | EV_CLOSED) != 0 {
            self.client_readable(slot, bits & EV_CLOSED == 0);
        }
    }

    /// Whether the client may be read now (backpressure).
    pub(crate) fn client_may_read(&self, slot: usize) -> bool {
        let Some(c) = self.clients.get(slot) else {
            return false;
        };
        match &c.phase {
            Phase::Relay(r) => !r.out.over_cap(),
            Phase::Data(_) => {
                let me_over =
                    c.me.and_then(|m| self.mes.get(m))
                        .is_some_and(|m| m.out.over_cap());
                !me_over && self.under_budget() && c.pending_bytes <= super::QUEUE_SOFT_CAP
            }
            _ => true,
        }
    }

    /// Reads the client until the socket is drained or reading pauses.
    /// With `short_read_drains`, a read that fills less than the buffer
    /// ends it: the socket is empty, and the edge-triggered registration
    /// reports whatever comes next, so the read that would only return
    /// EAGAIN is saved. Not when the peer's close was reported (its EOF
    /// would be left unread and never reported again) nor on a resumed
    /// read (that close may have come while reading was paused).
    pub fn client_readable(&mut self, slot: usize, short_read_drains: bool) {
        let mut buf = std::mem::take(&mut self.scratch.read);
        buf.resize(READ_CHUNK, 0);
        loop {
            if !self.client_may_read(slot) {
                if let Some(c) = self.clients.get_mut(slot) {
                    c.read_paused = true;
                }
                break;
            }
            let Some(c) = self.clients.get_mut(slot) else {
                break;
            };
            c.read_paused = false;
            match c.stream.read(&mut buf) {
                Ok(0) => {
                    self.client_eof(slot);
                    break;
                }
                Ok(n) => {
                    self.client_bytes(slot, &mut buf[..n]);
                    if short_read_drains && n < buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close_client(slot, false);
                    break;
                }
            }
        }
        self.scratch.read = buf;
    }

    pub(crate) fn client_eof(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        if matches!(c.phase, Phase::Relay(_)) {
            // Pass what the client sent on, then close both.
            self.set_closing(slot);
        } else {
            self.close_client(slot, false);
        }
    }

    pub(crate) fn client_bytes(&mut self, slot: usize, data: &mut [u8]) {
        let tls_mode = self.tls_mode();
        if !self.user_bytes(slot, data.len(), 0) {
            return;
        }
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        match &mut c.phase {
            Phase::ProxyHeader => {
                c.raw.extend_from_slice(data);
                self.proxy_header_bytes(slot);
            }
            Phase::Hello => {
                c.raw.extend_from_slice(data);
                if tls_mode {
                    self.check_hello(slot);
                } else {
                    self.check_obfs2_header(slot);
                }
            }
            Phase::TlsInner { .. } => {
                c.raw.extend_from_slice(data);
                self.tls_inner_bytes(slot, data);
            }
            Phase::Data(_) => self.stream_bytes(slot, data),
            Phase::Relay(relay) => {
                let before = relay.out.len();
                let n = match relay.direct.as_mut() {
                    Some(direct) => {
                        match direct.client_to_dc(data, &mut self.scratch.message, &mut relay.out) {
                            Ok(_) => relay.out.len() - before,
                            Err(()) => return self.close_client(slot, false),
                        }
                    }
                    None => {
                        relay.out.push_slice(data);
                        data.len()
                    }
                };
                self.account(0, n);
                self.follow_ups.dirty_clients.push(slot);
            }
        }
    }

    /// The handshake succeeded: set up the ciphers and framing, then take
    /// the bytes that came after the header.
    pub(crate) fn start_stream(
        &mut self,
        slot: usize,
        h: &ServerHeader,
        tls: Option<RecordReader>,
        rest: &[u8],
    ) {
        if self.direct_mode() {
            return self.start_direct(slot, h, tls, rest);
        }
        if self.middle_ends_down(h.dc) {
            Counters::add(&self.proxy.rust_stats.direct_fallback_clients, 1);
            return self.start_direct(slot, h, tls, rest);
        }
        let (Some(session), Some(c)) = (ClientSession::new(h, tls), self.clients.get_mut(slot))
        else {
            return self.close_client(slot, false);
        };
        c.phase = Phase::Data(Box::new(session));
        if let Some(timer) = c.handshake_timer.take() {
            self.reactor.cancel(timer);
        }
        let mut rest = rest.to_vec();
        let received = match self.clients.get_mut(slot).map(|c| &mut c.phase) {
            Some(Phase::Data(s)) => s.receive_ciphertext(&mut rest),
            _ => return,
        };
        self.client_events(slot, received);
    }

    /// Bytes of an accepted client, as read: its session's events are
    /// routed one by one.
    pub(crate) fn stream_bytes(&mut self, slot: usize, data: &mut [u8]) {
        let Some(Phase::Data(s)) = self.clients.get_mut(slot).map(|c| &mut c.phase) else {
            return;
        };
        let mut payload = std::mem::take(&mut self.scratch.records);
        let received = s.receive(data, &mut payload);
        self.client_events(slot, received);
        self.scratch.records = payload;
    }

    /// Takes the session's events out until none is left or the client
    /// closed (a packet's handling may close it).
    fn client_events(&mut self, slot: usize, mut received: Received<'_>) {
        let mut packet = std::mem::take(&mut self.scratch.packet);
        while let Some(Phase::Data(s)) = self.clients.get_mut(slot).map(|c| &mut c.phase) {
            match s.poll_event(&mut received, &mut packet) {
                Some(ClientEvent::Packet { len, quick_ack }) => {
                    self.client_packet(slot, &packet[..len], quick_ack)
                }
                Some(ClientEvent::Invalid) => {
                    self.close_client(slot, false);
                    break;
                }
                None => break,
            }
        }
        self.scratch.packet = packet;
    }

    fn client_packet(&mut self, slot: usize, packet: &[u8], quick_ack: bool) {
        let verdict = framing::classify_packet(packet);
        match verdict.action {
            framing::PING => {
                self.send_to_client(slot, &verdict.pong);
            }
            framing::FORWARD => self.forward(slot, packet, quick_ack, verdict.unencrypted),
            _ => {}
        }
    }

    fn forward(&mut self, slot: usize, packet: &[u8], quick_ack: bool, unencrypted: bool) {
        let Some(c) = self.clients.get(slot) else {
            return;
        };
        if let Some(me) = c.me {
            return self.send_request(slot, me, packet, quick_ack, unencrypted);
        }
        let Phase::Data(s) = &c.phase else {
            return;
        };
        let routable = self
            .routing
            .snapshot
            .config
            .lookup(i32::from(s.dc()))
            .is_some();
        if c.pending.is_empty() && !self.try_bind(slot) && !routable {
            Counters::add(&self.proxy.counters.dropped_queries, 1);
            return;
        }
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        match c.me {
            Some(me) => self.send_request(slot, me, packet, quick_ack, unencrypted),
            None => {
                c.pending.push_back(Pending {
                    packet: packet.to_vec(),
                    quick_ack,
                    unencrypted,
                });
                c.pending_bytes += packet.len();
                if c.pending_timer.is_none() {
                    let generation = self.clients.generation(slot).unwrap_or(0);
                    let tok = token(Kind::PendingTimer, slot, generation);
                    let timer = self.reactor.timer(tok, CLIENT_DEADLINE_MS);
                    if let Some(c) = self.clients.get_mut(slot) {
                        c.pending_timer = Some(timer);
                    }
                    self.routing.waiting.push(slot);
                }
                self.account(0, packet.len());
            }
        }
    }

    /// `--direct-fallback SECS`: whether the middle-ends of DC `dc`'s
    /// cluster have had no ready connection for SECS, so a new client goes
    /// direct (routing.rs `fallback_due`).
    fn middle_ends_down(&self, dc: i16) -> bool {
        let secs = self.proxy.settings.rust_only.direct_fallback_secs;
        if secs == 0 {
            return false;
        }
        let Some(cluster) = self.routing.snapshot.config.lookup(i32::from(dc)) else {
            return false;
        };
        let mes = &self.mes;
        fallback_due(
            &self.routing.snapshot.config,
            cluster,
            &self.routing.pools,
            |conn| mes.get(conn).is_some_and(|m| m.is_ready() && !m.retiring),
            std::time::Instant::now(),
            std::time::Duration::from_secs(u64::from(secs)),
        )
    }

    /// Binds an unbound client to a ready connection of its cluster.
    pub fn try_bind(&mut self, slot: usize) -> bool {
        let Some(Phase::Data(s)) = self.clients.get(slot).map(|c| &c.phase) else {
            return false;
        };
        let Some(cluster) = self.routing.snapshot.config.lookup(i32::from(s.dc())) else {
            return false;
        };
        let mes = &self.mes;
        let ready = |conn: usize| mes.get(conn).is_some_and(|m| m.is_ready() && !m.retiring);
        let picked = pick_connection(
            &self.routing.snapshot.config,
            cluster,
            self.routing.round_robin,
            &self.routing.pools,
            ready,
        );
        let Some((target, index, me)) = picked else {
            return false;
        };
        if self.routing.last_ext_id.len() <= slot {
            self.routing.last_ext_id.resize(slot + 1, 0);
        }
        let Ok(id) = msg::ext_conn_id_next(self.routing.last_ext_id[slot], slot as u32) else {
            return false;
        };
        self.routing.round_robin = self.routing.round_robin.wrapping_add(1);
        if let Some(pool) = self.routing.pools.get_mut(target) {
            pool.next = (index + 1) % pool.conns.len();
        }
        self.routing.last_ext_id[slot] = id;
        if let Some(m) = self.mes.get_mut(me) {
            m.bound.insert(slot);
        }
        if let Some(c) = self.clients.get_mut(slot) {
            c.me = Some(me);
            c.ext_id = id;
        }
        let proxy = self.proxy;
        let counters = &proxy.counters;
        Counters::add(&counters.ext_connections, 1);
        Counters::add(&counters.ext_connections_created, 1);
        // Packets that waited go first, in order.
        let pending = self.clients.get_mut(slot).map(|c| {
            if let Some(timer) = c.pending_timer.take() {
                self.reactor.cancel(timer);
            }
            c.pending_bytes = 0;
            std::mem::take(&mut c.pending)
        });
        for p in pending.unwrap_or_default() {
            self.account(p.packet.len(), 0);
            self.send_request(slot, me, &p.packet, p.quick_ack, p.unencrypted);
        }
        true
    }

    /// An ME connection became ready: bind the clients waiting for one.
    pub fn retry_waiting(&mut self) {
        for slot in std::mem::take(&mut self.routing.waiting) {
            let waits = self
                .clients
                .get(slot)
                .is_some_and(|c| c.me.is_none() && !c.pending.is_empty());
            if !waits {
                continue;
            }
            if self.try_bind(slot) {
                self.follow_ups.rerun_clients.push(slot);
            } else {
                self.routing.waiting.push(slot);
            }
        }
    }

    fn send_request(
        &mut self,
        slot: usize,
        me: usize,
        packet: &[u8],
        quick_ack: bool,
        unencrypted: bool,
    ) {
        let Some(c) = self.clients.get(slot) else {
            return;
        };
        let Phase::Data(s) = &c.phase else {
            return;
        };
        let settings = &self.proxy.settings;
        let transport = s.transport();
        // A user's own ad tag wins over -P.
        let ad_tag = c.user.as_ref().and_then(|u| u.ad_tag).or(settings.ad_tag);
        let has_tag = ad_tag.is_some();
        let Ok(flags) = msg::proxy_req_flags(transport, quick_ack, unencrypted, has_tag, false)
        else {
            return;
        };
        let req = msg::ProxyReq {
            flags,
            ext_conn_id: c.ext_id,
            client_ip: wire_address(&c.peer, &settings.nat_info),
            client_port: i32::from(c.peer.port()),
            proxy_ip: wire_address(&c.local, &settings.nat_info),
            proxy_port: i32::from(c.local.port()),
            ad_tag: ad_tag.unwrap_or_default(),
        };
        let mut message = std::mem::take(&mut self.scratch.message);
        message.resize(msg::PROXY_REQ_MAX_HEADER_LEN + packet.len(), 0);
        if let Ok(n) = msg::encode_proxy_req(&req, packet, &mut message) {
            self.me_send(me, &message[..n]);
            Counters::add(&self.proxy.counters.forwarded_queries, 1);
        }
        self.scratch.message = message;
    }

    /// Frames `payload` for the client, encrypts it and queues it. An
    /// answer no transport frame can carry (longer than the 16 MiB a
    /// middle-end frame holds) closes the client at once, logged and counted
    /// in `dropped_responses`; returns whether it was queued.
    pub fn send_to_client(&mut self, slot: usize, payload: &[u8]) -> bool {
        let queued = self.queue_for_client(slot, |session, rng, scratch, out| {
            session.queue_answer(payload, rng, scratch, out)
        });
        match queued {
            Some(Ok(())) => true,
            Some(Err(code)) => {
                crate::log::line(&format!(
                    "answer of {} bytes cannot be framed for the client (error {code}): client closed",
                    payload.len()
                ));
                Counters::add(&self.proxy.counters.dropped_responses, 1);
                self.close_client(slot, false);
                false
            }
            None => false,
        }
    }

    pub fn send_quick_ack(&mut self, slot: usize, confirm: u32) {
        self.queue_for_client(slot, |session, rng, scratch, out| {
            session.queue_quick_ack(confirm, rng, scratch, out);
            Ok(())
        });
    }

    /// Lets the client's session append to its output queue (with the
    /// worker's random source and scratch buffer), then accounts the bytes
    /// and schedules the flush. `None` for a client without a session.
    fn queue_for_client(
        &mut self,
        slot: usize,
        queue: impl FnOnce(&mut ClientSession, &mut Rng, &mut Vec<u8>, &mut OutQueue) -> Result<(), i32>,
    ) -> Option<Result<(), i32>> {
        let c = self.clients.get_mut(slot)?;
        let Phase::Data(s) = &mut c.phase else {
            return None;
        };
        let before = c.out.len();
        let result = queue(s, &mut self.rng, &mut self.scratch.message, &mut c.out);
        let after = c.out.len();
        // A huge answer's scratch space is not kept for the next small one.
        if self.scratch.message.capacity() > framing::MAX_PACKET_LEN + 64 {
            self.scratch.message = Vec::new();
        }
        self.account(before, after);
        self.follow_ups.dirty_clients.push(slot);
        self.client_cap_changed(slot);
        Some(result)
    }

    /// Keeps the ME's count of over-cap clients and the flood timer in
    /// step with the client's queue.
    pub fn client_cap_changed(&mut self, slot: usize) {
        let generation = self.clients.generation(slot).unwrap_or(0);
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let over = c.out.over_cap();
        if over == c.over_cap {
            return;
        }
        c.over_cap = over;
        if over {
            let tok = token(Kind::FloodTimer, slot, generation);
            c.flood_timer = Some(self.reactor.timer(tok, CLIENT_DEADLINE_MS));
        } else if let Some(timer) = c.flood_timer.take() {
            self.reactor.cancel(timer);
        }
        let me = c.me;
        if let Some(m) = me.and_then(|me| self.mes.get_mut(me)) {
            if over {
                m.over_cap_clients += 1;
            } else {
                m.over_cap_clients = m.over_cap_clients.saturating_sub(1);
                if m.over_cap_clients == 0 && m.read_paused {
                    self.follow_ups.rerun_mes.extend(me);
                }
            }
        }
    }

    pub fn client_flush(&mut self, slot: usize) {
        let was_over_budget = !self.under_budget();
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let before = c.out.len();
        let mut dead = c.out.flush_to(&mut c.stream).is_err();
        let mut after = c.out.len();
        if !self.user_bytes(slot, 0, before - after) {
            return;
        }
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let mut resume_relay = false;
        let mut resume_client = false;
        if let Phase::Relay(r) = &mut c.phase {
            if r.connected {
                let relay_before = r.out.len();
                dead |= r.out.flush_to(&mut r.stream).is_err();
                let relay_after = r.out.len();
                resume_client = c.read_paused && !r.out.over_cap();
                resume_relay = r.read_paused && !c.out.over_cap();
                // Account both queues together.
                after += relay_after;
                let total_before = before + relay_before;
                let closing_done = c.closing && c.out.is_empty() && r.out.is_empty();
                self.account(total_before, after);
                if dead || closing_done {
                    return self.close_client(slot, false);
                }
                if resume_client {
                    self.follow_ups.rerun_clients.push(slot);
                }
                if resume_relay {
                    self.relay_readable(slot);
                }
                self.budget_relieved(was_over_budget);
                return;
            }
        }
        let closing_done = c.closing && c.out.is_empty() && !matches!(c.phase, Phase::Relay(_));
        self.account(before, after);
        if dead || closing_done {
            return self.close_client(slot, false);
        }
        let _ = (resume_relay, resume_client);
        self.client_cap_changed(slot);
        self.budget_relieved(was_over_budget);
    }

    /// Close once everything queued is written (10 s at most).
    pub fn set_closing(&mut self, slot: usize) {
        let generation = self.clients.generation(slot).unwrap_or(0);
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        if !c.closing {
            c.closing = true;
            let tok = token(Kind::DrainTimer, slot, generation);
            c.drain_timer = Some(self.reactor.timer(tok, CLIENT_DEADLINE_MS));
        }
        self.follow_ups.dirty_clients.push(slot);
    }

    pub fn client_flood_timeout(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        c.flood_timer = None;
        if c.out.over_cap() {
            Counters::add(&self.proxy.counters.failed_flood, 1);
            self.close_client(slot, false);
        }
    }

    pub fn client_pending_timeout(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        c.pending_timer = None;
        if c.me.is_none() && !c.pending.is_empty() {
            let dropped = c.pending.len() as i64;
            Counters::add(&self.proxy.counters.dropped_queries, dropped);
            self.close_client(slot, false);
        }
    }

    /// Counts bytes of a named user's connection (those of the handshake
    /// too: the user pays for its connection); past [`USER_REPORT_BYTES`]
    /// (or with `flush`) reports them, and closes the client when the
    /// registry says it may not go on. Returns whether the client is open.
    pub(crate) fn user_bytes(&mut self, slot: usize, up: usize, down: usize) -> bool {
        self.user_report(slot, up as u64, down as u64, false)
    }

    pub(crate) fn user_report(&mut self, slot: usize, up: u64, down: u64, flush: bool) -> bool {
        let Some(c) = self.clients.get_mut(slot) else {
            return false;
        };
        let (Some(u), Some(registry)) = (c.user.as_deref_mut(), &self.proxy.users) else {
            return true;
        };
        u.up += up;
        u.down += down;
        if !flush && u.up + u.down < USER_REPORT_BYTES {
            return true;
        }
        let go_on = registry.add_bytes(&u.name, u.up, u.down, super::unix_now());
        (u.up, u.down) = (0, 0);
        if !go_on {
            self.close_client(slot, false);
        }
        go_on
    }

    /// Closes and frees a client; tells its ME connection unless the ME
    /// ended it. `_shutdown`: the worker is exiting.
    pub fn close_client(&mut self, slot: usize, _shutdown: bool) {
        let was_over_budget = !self.under_budget();
        let Some(c) = self.clients.remove(slot) else {
            return;
        };
        let _ = self.reactor.remove(c.stream.as_raw_fd());
        for timer in [
            c.handshake_timer,
            c.flood_timer,
            c.pending_timer,
            c.drain_timer,
        ]
        .into_iter()
        .flatten()
        {
            self.reactor.cancel(timer);
        }
        let mut queued = c.out.len() + c.pending_bytes;
        if let Phase::Relay(r) = &c.phase {
            let _ = self.reactor.remove(r.stream.as_raw_fd());
            queued += r.out.len();
            Counters::add(&self.proxy.counters.allocated_outbound, -1);
            if let Some(direct) = &r.direct {
                Counters::add(&direct.counters.connections, -1);
            }
        }
        self.account(queued, 0);
        let proxy = self.proxy;
        if let (Some(u), Some(registry)) = (c.user, &proxy.users) {
            let now = super::unix_now();
            registry.add_bytes(&u.name, u.up, u.down, now);
            registry.close(&u.name, u.ip, now);
        }
        let counters = &proxy.counters;
        Counters::add(&counters.clients, -1);
        Counters::add(&counters.allocated_inbound, -1);
        if let Some(me) = c.me {
            Counters::add(&counters.ext_connections, -1);
            self.me_unbind(me, slot, c.over_cap, (!c.me_gone).then_some(c.ext_id));
        }
        self.budget_relieved(was_over_budget);
    }
}
