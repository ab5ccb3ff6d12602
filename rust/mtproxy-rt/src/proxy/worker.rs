//! One worker's event loop (docs/RUNTIME.md, "Worker event loop", "Stop
//! and reload"): its reactor, listeners, client and middle-end connections
//! (their records: connections.rs). The streams themselves are sans-IO
//! sessions (client_session.rs, me_session.rs, direct_session.rs); the
//! worker's handlers (client.rs, handshake.rs, relay.rs, direct.rs, me.rs,
//! as `impl Worker` blocks, so one event can touch both sides) do the I/O
//! and route the sessions' events. The worker's state is grouped by
//! purpose: the middle-end routing table, the round's follow-ups, the
//! buffer budget and the scratch buffers.

use super::connections::{Client, MeConn};
use super::rng::Rng;
use super::routing::{pool_size, split_token, token, Kind, Pool, Slab, TargetKey};
use super::search_budget::SearchBudget;
use super::{Counters, Proxy, Snapshot, WorkerError};
use mtproxy_core::net::ext_framing::MAX_PACKET_LEN;
use mtproxy_sys::c::net_events::{now_ms, Event, Reactor};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

/// Bytes read from a socket at once.
pub(crate) const READ_CHUNK: usize = 64 * 1024;
/// Events taken per wait.
const EVENT_BATCH: usize = 256;
/// Client handshake deadline, pending-packet deadline and flood limit.
pub(crate) const CLIENT_DEADLINE_MS: u64 = mtproxy_core::runtime::policy::CLIENT_DEADLINE_MS;
/// How often a worker reports its named users' bytes and closes the
/// connections of users that may not go on (quota used up, expired,
/// removed past the grace): the most a limit can be late by, in time.
pub(crate) const USERS_SWEEP_MS: u64 = 1000;

pub(crate) struct Worker<'p> {
    pub(super) proxy: &'p Proxy,
    pub(super) reactor: Reactor,
    pub(super) rng: Rng,
    listeners: Vec<Option<TcpListener>>,
    /// Listeners were left with connections waiting (client limit).
    accept_paused: bool,
    pub(super) clients: Slab<Client>,
    pub(super) mes: Slab<MeConn>,
    pub(super) routing: MeRouting,
    pub(super) follow_ups: FollowUps,
    pub(super) budget: BufferBudget,
    pub(super) stopping: bool,
    /// When the stop grace ends (reactor clock).
    stop_deadline: Option<u64>,
    pub(super) scratch: Scratch,
    /// Time full secret searches may still take (with users).
    pub(super) search_budget: SearchBudget,
}

/// Where clients' packets go: the config in force, per its target index
/// the pool of middle-end connections, and the clients' ext ids.
pub(crate) struct MeRouting {
    pub snapshot: Arc<Snapshot>,
    pub pools: Vec<Pool>,
    pub round_robin: usize,
    /// Last ext id handed out per client slot (the id's reuse counter).
    pub last_ext_id: Vec<i64>,
    /// Clients with packets waiting for a ready ME connection.
    pub waiting: Vec<usize>,
}

/// Work an event leaves for the end of the round ([`Worker::settle`]).
#[derive(Default)]
pub(crate) struct FollowUps {
    /// Connections whose output must be flushed.
    pub dirty_clients: Vec<usize>,
    pub dirty_mes: Vec<usize>,
    /// Sides whose reading was resumed: read them again (no new edge comes
    /// for bytes already waiting).
    pub rerun_clients: Vec<usize>,
    pub rerun_mes: Vec<usize>,
}

/// Queued bytes of this worker and its share of `buffer_limit`.
pub(crate) struct BufferBudget {
    pub queued: usize,
    pub share: usize,
}

/// Scratch buffers (reused; never per connection).
pub(crate) struct Scratch {
    pub read: Vec<u8>,
    pub packet: Vec<u8>,
    pub message: Vec<u8>,
    /// A fake-TLS client's record payload (its own buffer: the packets cut
    /// from it are forwarded through `message`).
    pub records: Vec<u8>,
    /// The middle-end frame being handled (swapped with the session's
    /// decoder buffer, not copied).
    pub frame: Vec<u8>,
}

pub(crate) fn run(proxy: &Proxy, index: usize, fds: Vec<OwnedFd>) -> Result<(), WorkerError> {
    let reactor = Reactor::new().ok_or(WorkerError::System)?;
    if !proxy.register_worker(index, reactor.waker()) {
        return Err(WorkerError::Index);
    }
    let result = Worker::new(proxy, index, reactor, fds).and_then(|mut w| w.event_loop());
    proxy.unregister_worker(index);
    result
}

impl<'p> Worker<'p> {
    fn new(
        proxy: &'p Proxy,
        index: usize,
        mut reactor: Reactor,
        fds: Vec<OwnedFd>,
    ) -> Result<Worker<'p>, WorkerError> {
        let mut listeners = Vec::new();
        for (i, fd) in fds.into_iter().enumerate() {
            let listener = TcpListener::from(fd);
            listener
                .set_nonblocking(true)
                .map_err(|_| WorkerError::System)?;
            reactor
                .add(listener.as_raw_fd(), token(Kind::Listener, i, 0))
                .map_err(|_| WorkerError::System)?;
            listeners.push(Some(listener));
        }
        let workers = proxy.settings.workers.max(1) as u64;
        let budget = match proxy.settings.buffer_limit / workers {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let mut worker = Worker {
            proxy,
            reactor,
            rng: Rng::new(proxy.settings.seed, index as u32),
            listeners,
            accept_paused: false,
            clients: Slab::default(),
            mes: Slab::default(),
            routing: MeRouting {
                snapshot: proxy.snapshot(),
                pools: Vec::new(),
                round_robin: 0,
                last_ext_id: Vec::new(),
                waiting: Vec::new(),
            },
            follow_ups: FollowUps::default(),
            budget: BufferBudget {
                queued: 0,
                share: budget,
            },
            stopping: false,
            stop_deadline: None,
            scratch: Scratch {
                read: vec![0; READ_CHUNK + 16],
                packet: vec![0; MAX_PACKET_LEN + 16],
                message: Vec::new(),
                records: Vec::new(),
                frame: Vec::new(),
            },
            search_budget: SearchBudget::new(),
        };
        worker.apply_snapshot(worker.routing.snapshot.clone());
        if proxy.users.is_some() {
            worker.arm_users_sweep();
        }
        Ok(worker)
    }

    fn event_loop(&mut self) -> Result<(), WorkerError> {
        let mut events = vec![Event::default(); EVENT_BATCH];
        // A stop may have come before this worker registered its waker.
        self.check_shared_state();
        loop {
            if self.stopping && self.clients.len() == 0 {
                break;
            }
            let n = match self.reactor.wait(&mut events, -1) {
                Ok(n) => n,
                Err(_) => return Err(WorkerError::System),
            };
            for event in &events[..n] {
                if event.token == 0 {
                    self.check_shared_state();
                } else {
                    self.dispatch(event.token, event.events);
                }
            }
            // Once per round: the packets of every client read in this
            // round leave in one write per middle-end connection.
            self.settle();
            if self.stopping && self.grace_expired() {
                break;
            }
        }
        self.shutdown();
        Ok(())
    }

    /// Runs the follow-ups of an event until none is left: resumed reads,
    /// then flushes.
    fn settle(&mut self) {
        loop {
            if let Some(slot) = self.follow_ups.rerun_clients.pop() {
                self.client_readable(slot, false);
            } else if let Some(slot) = self.follow_ups.rerun_mes.pop() {
                self.me_readable(slot, false);
            } else if let Some(slot) = self.follow_ups.dirty_mes.pop() {
                self.me_flush(slot);
            } else if let Some(slot) = self.follow_ups.dirty_clients.pop() {
                self.client_flush(slot);
            } else {
                break;
            }
        }
        if self.accept_paused && self.may_accept() {
            self.accept_paused = false;
            for i in 0..self.listeners.len() {
                self.accept_ready(i);
            }
        }
    }

    fn dispatch(&mut self, tok: u64, bits: u32) {
        let Some((kind, slot, generation)) = split_token(tok) else {
            return;
        };
        let client_live = || self.clients.generation(slot) == Some(generation);
        let me_live = || self.mes.generation(slot) == Some(generation);
        match kind {
            Kind::Listener => self.accept_ready(slot),
            Kind::Client if client_live() => self.client_event(slot, bits),
            Kind::Relay if client_live() => self.relay_event(slot, bits),
            Kind::Me if me_live() => self.me_event(slot, bits),
            Kind::HandshakeTimer if client_live() => self.client_handshake_timeout(slot),
            Kind::FloodTimer if client_live() => self.client_flood_timeout(slot),
            Kind::PendingTimer if client_live() => self.client_pending_timeout(slot),
            Kind::DrainTimer if client_live() => self.close_client(slot, false),
            Kind::MeTimer if me_live() => self.me_timer(slot),
            Kind::UsersTimer => self.users_sweep(),
            Kind::GraceTimer => {}
            _ => {}
        }
    }

    fn arm_users_sweep(&mut self) {
        self.reactor
            .timer(token(Kind::UsersTimer, 0, 0), USERS_SWEEP_MS);
    }

    /// Reports every named user's connection's bytes; the registry's
    /// answer closes those that may not go on.
    fn users_sweep(&mut self) {
        for slot in self.clients.slots() {
            self.user_report(slot, 0, 0, true);
        }
        self.arm_users_sweep();
    }

    /// Stop and reload requests (the wake event).
    fn check_shared_state(&mut self) {
        if let Some(grace) = self.proxy.stop_requested() {
            if !self.stopping {
                self.begin_stop(grace);
            }
        }
        if !self.stopping && self.proxy.generation() != self.routing.snapshot.generation {
            let snapshot = self.proxy.snapshot();
            self.apply_snapshot(snapshot);
        }
    }

    fn begin_stop(&mut self, grace_ms: u32) {
        self.stopping = true;
        for listener in self.listeners.iter_mut() {
            if let Some(l) = listener.take() {
                let _ = self.reactor.remove(l.as_raw_fd());
            }
        }
        self.stop_deadline = Some(now_ms().saturating_add(u64::from(grace_ms)));
        self.reactor
            .timer(token(Kind::GraceTimer, 0, 0), u64::from(grace_ms));
    }

    fn grace_expired(&self) -> bool {
        self.stop_deadline.is_some_and(|d| now_ms() >= d)
    }

    fn shutdown(&mut self) {
        for slot in self.clients.slots() {
            self.close_client(slot, true);
        }
        for slot in self.mes.slots() {
            self.me_close(slot);
        }
    }

    /// Gives every config target its pool: the connections of the old
    /// pool of the same address are kept, in their order, up to the new
    /// size (the rest retire), and new ones are opened to fill it.
    /// Connections in no pool any more retire: they close once no client is
    /// bound to them.
    pub fn apply_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        if self.direct_mode() {
            // Direct mode never talks to a middle-end: no pools.
            self.routing.snapshot = snapshot;
            return;
        }
        let config = &snapshot.config;
        let mut old_pools = std::mem::take(&mut self.routing.pools);
        let mut pools = Vec::with_capacity(config.target_count());
        for t in 0..config.target_count() {
            let Some(target) = config.target(t) else {
                pools.push(Pool::default());
                continue;
            };
            let key = TargetKey::from(&target);
            let want = pool_size(&target);
            let old = old_pools.iter_mut().find(|p| {
                p.conns
                    .first()
                    .is_some_and(|&c| self.mes.get(c).is_some_and(|m| m.key == key))
            });
            let mut pool = Pool {
                ready_seen: Some(std::time::Instant::now()),
                ..Pool::default()
            };
            if let Some(old) = old {
                pool.conns = old.conns.iter().copied().take(want).collect();
                pool.next = old.next;
                pool.ready_seen = old.ready_seen;
                // Taken: a later target (never the same address) skips it.
                old.conns.clear();
            }
            while pool.conns.len() < want {
                pool.conns.push(self.me_open(target));
            }
            pools.push(pool);
        }
        let keep: std::collections::HashSet<usize> =
            pools.iter().flat_map(|p| p.conns.iter().copied()).collect();
        for slot in self.mes.slots() {
            if !keep.contains(&slot) {
                if let Some(me) = self.mes.get_mut(slot) {
                    me.retiring = true;
                }
                self.me_retire_if_unused(slot);
            }
        }
        self.routing.pools = pools;
        self.routing.snapshot = snapshot;
    }

    fn may_accept(&self) -> bool {
        let max = self.proxy.settings.max_client_connections as usize;
        !self.stopping && (max == 0 || self.clients.len() < max)
    }

    fn accept_ready(&mut self, index: usize) {
        loop {
            if !self.may_accept() {
                self.accept_paused = !self.stopping;
                return;
            }
            let Some(Some(listener)) = self.listeners.get(index) else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => self.client_accepted(stream),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    Counters::add(&self.proxy.counters.accept_failed, 1);
                    // Out of fds or memory: stop until a client closes
                    // rather than spin on the same error.
                    if matches!(e.raw_os_error(), Some(23 | 24 | 12 | 105)) {
                        self.accept_paused = true;
                        return;
                    }
                }
            }
        }
    }

    /// Adjusts the worker's queued-byte count (and the process counter).
    pub fn account(&mut self, before: usize, after: usize) {
        if after >= before {
            self.budget.queued += after - before;
        } else {
            self.budget.queued -= (before - after).min(self.budget.queued);
        }
        Counters::add(
            &self.proxy.counters.queued_bytes,
            after as i64 - before as i64,
        );
    }

    /// Whether the worker is under its share of the buffer limit.
    pub fn under_budget(&self) -> bool {
        self.budget.queued < self.budget.share
    }

    /// Called when queued data shrank: clients paused for the budget may
    /// read again.
    pub fn budget_relieved(&mut self, was_over: bool) {
        if was_over && self.under_budget() {
            for slot in self.clients.slots() {
                if self.clients.get(slot).is_some_and(|c| c.read_paused) {
                    self.follow_ups.rerun_clients.push(slot);
                }
            }
        }
    }
}
