//! `--proxy-protocol` (Rust-only; README "Behind a load balancer",
//! docs/RUNTIME.md "PROXY protocol"): a connection from a trusted balancer
//! starts with a PROXY protocol header (v1 or v2, parsed by
//! mtproxy-core's `net::proxy_protocol`); the client address it names
//! replaces the socket's peer everywhere (PROXY_REQ, users' address limits,
//! the address → secret memory). The header is collected in the client's
//! `raw` bytes, which then hold only what follows it; a header that never
//! completes is cut by the handshake deadline.

use super::connections::Phase;
use super::worker::Worker;
use super::Counters;
use mtproxy_core::net::proxy_protocol::{self as pp, Source};
use std::net::SocketAddr;

impl Worker<'_> {
    /// Whether `peer` is in a trusted block; a connection from elsewhere
    /// is counted and closed before it is read.
    pub(crate) fn proxy_protocol_trusted(&self, peer: SocketAddr) -> bool {
        let trusted = self
            .proxy
            .settings
            .rust_only
            .proxy_protocol
            .iter()
            .any(|block| block.contains(peer.ip()));
        if !trusted {
            Counters::add(&self.proxy.rust_stats.proxy_protocol_untrusted, 1);
        }
        trusted
    }

    /// Bytes of the header so far: wait, fail, or take the address and
    /// hand what follows to the handshake.
    pub(crate) fn proxy_header_bytes(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let header = match pp::parse(&c.raw) {
            Ok(None) => return,
            Ok(Some(header)) => header,
            Err(_) => return self.proxy_header_failed(slot),
        };
        if let Source::Client(addr) = header.source {
            c.peer = addr;
        }
        let mut rest = c.raw.split_off(header.len);
        c.raw.clear();
        c.phase = Phase::Hello;
        Counters::add(&self.proxy.rust_stats.proxy_protocol_headers, 1);
        if !rest.is_empty() {
            self.client_bytes(slot, &mut rest);
        }
    }

    /// A missing, malformed, too long or too slow header: the connection
    /// is closed without a byte and nothing is forwarded.
    pub(crate) fn proxy_header_failed(&mut self, slot: usize) {
        Counters::add(&self.proxy.rust_stats.proxy_protocol_bad, 1);
        self.close_client(slot, false);
    }
}
