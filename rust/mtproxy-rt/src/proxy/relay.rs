//! The relay of rejected fake-TLS clients to the fronting domain
//! (docs/RUNTIME.md): a non-blocking connect to the domain [`relay_target`]
//! picks, everything the client sent so far first, then bytes both ways
//! unchanged until either side closes (flush, then close both).

use super::buffers::OutQueue;
use super::connections::{connect_nonblocking, Phase, Relay};
use super::routing::{token, Kind, EV_CLOSED, EV_READ, EV_WRITE};
use super::worker::{Worker, READ_CHUNK};
use super::Counters;
use mtproxy_core::runtime::Domain;
use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// A client on this local port is relayed to port 80 (docs/PROTOCOL.md §2.2
/// check 2, §2.6).
pub(crate) const HTTP_PORT: u16 = 80;
/// The relay port of a `-D NAME` without `:PORT`.
const HTTPS_PORT: u16 = 443;

/// Where a rejected client goes (docs/PROTOCOL.md §2.6): the domain its SNI named
/// (`sni_domain`, from a `VERDICT_RELAY_SNI` check), else the first one;
/// at that domain's port (443 unless `-D NAME:PORT` gave another), except
/// that a client on local port 80 goes to port 80 of a domain on 443.
/// `None` without domains.
pub(crate) fn relay_target(
    domains: &[Domain],
    sni_domain: Option<usize>,
    local_port: u16,
) -> Option<SocketAddr> {
    let domain = sni_domain
        .and_then(|i| domains.get(i))
        .or_else(|| domains.first())?;
    let port = if local_port == HTTP_PORT && domain.relay_port == HTTPS_PORT {
        HTTP_PORT
    } else {
        domain.relay_port
    };
    Some(SocketAddr::from((
        std::net::Ipv4Addr::from(domain.relay_ipv4),
        port,
    )))
}

impl Worker<'_> {
    /// A rejected handshake: relay to the default domain.
    pub(crate) fn start_relay(&mut self, slot: usize) {
        self.start_relay_to(slot, None);
    }

    /// A rejected handshake: connect to the domain [`relay_target`] picks
    /// and pass all bytes both ways.
    pub(crate) fn start_relay_to(&mut self, slot: usize, sni_domain: Option<usize>) {
        let local_port = self
            .clients
            .get(slot)
            .and_then(|c| c.stream.local_addr().ok())
            .map_or(0, |a| a.port());
        let Some(addr) = relay_target(&self.proxy.settings.domains, sni_domain, local_port) else {
            return self.close_client(slot, false);
        };
        let Ok(stream) = connect_nonblocking(addr) else {
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
            direct: None,
        }));
        Counters::add(&self.proxy.counters.allocated_outbound, 1);
        self.account(0, n);
    }

    pub fn relay_event(&mut self, slot: usize, bits: u32) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let Phase::Relay(r) = &mut c.phase else {
            return;
        };
        if !r.connected && bits & (EV_WRITE | EV_CLOSED) != 0 {
            match r.stream.take_error() {
                Ok(None) if r.stream.peer_addr().is_ok() => {
                    r.connected = true;
                    let _ = r.stream.set_nodelay(true);
                    // A direct connect's deadline (direct.rs) is over.
                    if let Some(timer) = c.handshake_timer.take() {
                        self.reactor.cancel(timer);
                    }
                }
                _ if r.direct.is_some() => return self.direct_connect_failed(slot),
                _ => return self.close_client(slot, false),
            }
        }
        if bits & EV_WRITE != 0 {
            self.follow_ups.dirty_clients.push(slot);
        }
        if bits & (EV_READ | EV_CLOSED) != 0 {
            self.relay_readable(slot);
        }
    }

    pub(crate) fn relay_readable(&mut self, slot: usize) {
        let mut buf = std::mem::take(&mut self.scratch.read);
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
                    let before = c.out.len();
                    match r.direct.as_mut() {
                        Some(direct) => direct.dc_to_client(&mut buf[..n], &mut c.out),
                        None => c.out.push_slice(&buf[..n]),
                    }
                    let n = c.out.len() - before;
                    self.account(0, n);
                    self.follow_ups.dirty_clients.push(slot);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.set_closing(slot);
                    break;
                }
            }
        }
        self.scratch.read = buf;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(last: u8, port: u16) -> Domain {
        Domain {
            name: vec![b'a' + last],
            relay_ipv4: u32::from_be_bytes([127, 0, 0, last]),
            relay_port: port,
        }
    }

    fn target(ip_last: u8, port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::from(([127, 0, 0, ip_last], port)))
    }

    #[test]
    fn relay_target_follows_the_sni_and_the_local_port() {
        let domains = [domain(1, 443), domain(2, 443), domain(3, 8443)];
        assert_eq!(relay_target(&domains, None, 443), target(1, 443));
        assert_eq!(relay_target(&domains, Some(1), 443), target(2, 443));
        assert_eq!(relay_target(&domains, Some(2), 443), target(3, 8443));
        assert_eq!(relay_target(&domains, Some(7), 443), target(1, 443));
        // A client on local port 80 goes to port 80, unless -D NAME:PORT
        // named another port than 443.
        assert_eq!(relay_target(&domains, None, 80), target(1, 80));
        assert_eq!(relay_target(&domains, Some(1), 80), target(2, 80));
        assert_eq!(relay_target(&domains, Some(2), 80), target(3, 8443));
        assert_eq!(relay_target(&[], None, 80), None);
    }
}
