//! The relay of rejected fake-TLS clients to the fronting domain
//! (docs/RUNTIME.md): a non-blocking connect to the first domain's address,
//! everything the client sent so far first, then bytes both ways unchanged
//! until either side closes (flush, then close both).

use super::buffers::OutQueue;
use super::client::Phase;
use super::routing::{token, Kind, EV_CLOSED, EV_READ, EV_WRITE};
use super::worker::{Worker, READ_CHUNK};
use super::Counters;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

pub(crate) struct Relay {
    pub stream: TcpStream,
    pub out: OutQueue,
    pub connected: bool,
    pub read_paused: bool,
}

impl Worker<'_> {
    /// A rejected handshake: connect to the first domain and pass all bytes
    /// both ways.
    pub(crate) fn start_relay(&mut self, slot: usize) {
        let Some(domain) = self.proxy.settings.domains.first() else {
            return self.close_client(slot, false);
        };
        let addr = SocketAddr::from((
            std::net::Ipv4Addr::from(domain.relay_ipv4),
            domain.relay_port,
        ));
        let Ok(stream) = super::me::connect_nonblocking(addr) else {
            return self.close_client(slot, false);
        };
        let generation = self.clients.generation(slot).unwrap_or(0);
        if self
            .reactor
            .add(stream.as_raw_fd(), token(Kind::Relay, slot, generation))
            .is_err()
        {
            return self.close_client(slot, false);
        }
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        if let Some(timer) = c.handshake_timer.take() {
            self.reactor.cancel(timer);
        }
        let mut out = OutQueue::default();
        let raw = std::mem::take(&mut c.raw);
        let n = raw.len();
        out.push_vec(raw);
        c.phase = Phase::Relay(Box::new(Relay {
            stream,
            out,
            connected: false,
            read_paused: false,
        }));
        Counters::add(&self.proxy.counters.allocated_outbound, 1);
        self.account(0, n);
    }

    pub fn relay_event(&mut self, slot: usize, bits: u32) {
        let Some(Phase::Relay(r)) = self.clients.get_mut(slot).map(|c| &mut c.phase) else {
            return;
        };
        if !r.connected && bits & (EV_WRITE | EV_CLOSED) != 0 {
            match r.stream.take_error() {
                Ok(None) if r.stream.peer_addr().is_ok() => {
                    r.connected = true;
                    let _ = r.stream.set_nodelay(true);
                }
                _ => return self.close_client(slot, false),
            }
        }
        if bits & EV_WRITE != 0 {
            self.dirty_clients.push(slot);
        }
        if bits & (EV_READ | EV_CLOSED) != 0 {
            self.relay_readable(slot);
        }
    }

    pub(crate) fn relay_readable(&mut self, slot: usize) {
        let mut buf = std::mem::take(&mut self.read_buf);
        buf.resize(READ_CHUNK, 0);
        while let Some(c) = self.clients.get_mut(slot) {
            let Phase::Relay(r) = &mut c.phase else {
                break;
            };
            if !r.connected {
                break;
            }
            r.read_paused = c.out.over_cap();
            if r.read_paused {
                break;
            }
            match r.stream.read(&mut buf) {
                Ok(0) => {
                    self.set_closing(slot);
                    break;
                }
                Ok(n) => {
                    c.out.push_slice(&buf[..n]);
                    self.account(0, n);
                    self.dirty_clients.push(slot);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.set_closing(slot);
                    break;
                }
            }
        }
        self.read_buf = buf;
    }
}
