//! Direct mode (Rust-only; README "Direct mode", docs/RUNTIME.md "Direct
//! mode"): an authenticated client is relayed to the Telegram DC its header
//! names instead of through the middle-ends. The proxy opens a TCP
//! connection to the DC, sends a fresh obfuscated2 header (secret-less
//! derivation, docs/PROTOCOL.md §1.3; the client's transport tag and DC id)
//! and then passes the transport bytes both ways with two AES-CTR streams
//! per side, unframed: quick acks and padding pass through as sent. A
//! fake-TLS client's records are unwrapped and rewrapped on its side only.
//!
//! The connection to the DC reuses the fronting relay's machinery
//! (relay.rs): a [`Relay`] with [`DirectCrypto`] (direct_session.rs)
//! attached, so the
//! backpressure, flush and close rules are the relay's.

use super::buffers::OutQueue;
use super::connections::{connect_nonblocking, Phase, Relay};
use super::direct_session::DirectCrypto;
use super::routing::{token, Kind};
use super::worker::Worker;
use super::Counters;
use mtproxy_core::net::fake_tls::RecordReader;
use mtproxy_core::net::obfs2::{self, ServerHeader, HEADER_LEN};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Port of every built-in DC address.
const DC_PORT: u16 = 443;
/// One built-in DC: its IPv4 and IPv6 address (public; the table and its
/// source are in docs/RUNTIME.md, "Direct mode").
type DcEntry = (Ipv4Addr, Ipv6Addr);

const fn v6(a: u16, b: u16, c: u16, d: u16, h: u16) -> Ipv6Addr {
    Ipv6Addr::new(a, b, c, d, 0, 0, 0, h)
}

/// Production DCs 1..=5.
const PRODUCTION: [DcEntry; 5] = [
    (
        Ipv4Addr::new(149, 154, 175, 50),
        v6(0x2001, 0xb28, 0xf23d, 0xf001, 0xa),
    ),
    (
        Ipv4Addr::new(149, 154, 167, 51),
        v6(0x2001, 0x67c, 0x4e8, 0xf002, 0xa),
    ),
    (
        Ipv4Addr::new(149, 154, 175, 100),
        v6(0x2001, 0xb28, 0xf23d, 0xf003, 0xa),
    ),
    (
        Ipv4Addr::new(149, 154, 167, 91),
        v6(0x2001, 0x67c, 0x4e8, 0xf004, 0xa),
    ),
    (
        Ipv4Addr::new(149, 154, 171, 5),
        v6(0x2001, 0xb28, 0xf23f, 0xf005, 0xa),
    ),
];
/// Test DCs 1..=3 (ids 10001..=10003).
const TEST: [DcEntry; 3] = [
    (
        Ipv4Addr::new(149, 154, 175, 10),
        v6(0x2001, 0xb28, 0xf23d, 0xf001, 0xe),
    ),
    (
        Ipv4Addr::new(149, 154, 167, 40),
        v6(0x2001, 0x67c, 0x4e8, 0xf002, 0xe),
    ),
    (
        Ipv4Addr::new(149, 154, 175, 117),
        v6(0x2001, 0xb28, 0xf23d, 0xf003, 0xe),
    ),
];
/// DC 203, Telegram's CDN DC that media downloads are sent to.
const CDN_ID: i32 = 203;
const CDN: DcEntry = (
    Ipv4Addr::new(91, 105, 192, 100),
    Ipv6Addr::new(0x2a0a, 0xf280, 0x203, 0xa, 0x5000, 0, 0, 0x100),
);
/// Test DC ids are production ids plus this.
const TEST_OFFSET: i32 = 10_000;

/// The built-in entry of DC `id` (sign ignored: a media DC uses its DC's
/// address).
fn built_in(id: i32) -> Option<DcEntry> {
    let id = id.abs();
    if id == CDN_ID {
        return Some(CDN);
    }
    let (table, n): (&[DcEntry], i32) = if id > TEST_OFFSET {
        (&TEST, id - TEST_OFFSET)
    } else {
        (&PRODUCTION, id)
    };
    let index = usize::try_from(n.checked_sub(1)?).ok()?;
    table.get(index).copied()
}

/// Where DC `dc` is, in the order to try: the `--dc-addr` overrides of
/// that exact id if there are any (so `-2` and `2` are separate), else the
/// built-in table, where a negative id (a media DC) uses its DC's address,
/// `10000 + n` is test DC `n` and 203 is the CDN DC. IPv4 addresses come
/// first unless `prefer_ipv6`; the order inside a family is the order
/// given. Empty for 0 and every other id: the client is closed.
pub(crate) fn dc_addresses(
    dc: i16,
    overrides: &[(i16, SocketAddr)],
    prefer_ipv6: bool,
) -> Vec<SocketAddr> {
    let mut found: Vec<SocketAddr> = overrides
        .iter()
        .filter(|(id, _)| *id == dc)
        .map(|&(_, addr)| addr)
        .collect();
    if found.is_empty() {
        if let Some((four, six)) = built_in(i32::from(dc)) {
            found.push(SocketAddr::from((four, DC_PORT)));
            found.push(SocketAddr::from((six, DC_PORT)));
        }
    }
    // A stable sort keeps the given order inside each family.
    found.sort_by_key(|addr| addr.is_ipv6() != prefer_ipv6);
    found
}

/// How long one connect attempt to a DC may take before the next address
/// is tried (or, after the last, the client is closed).
pub(crate) const CONNECT_ATTEMPT_MS: u64 = 5_000;

impl Worker<'_> {
    pub(crate) fn direct_mode(&self) -> bool {
        self.proxy.settings.rust_only.direct
    }

    /// Starts a connect to the first of `untried` (popped from the end)
    /// that a socket can be opened for; each one skipped is counted.
    fn connect_next(&self, untried: &mut Vec<SocketAddr>) -> Option<std::net::TcpStream> {
        while let Some(addr) = untried.pop() {
            match connect_nonblocking(addr) {
                Ok(stream) => return Some(stream),
                Err(_) if !untried.is_empty() => {
                    Counters::add(&self.proxy.rust_stats.direct_address_fallbacks, 1);
                }
                Err(_) => {}
            }
        }
        None
    }

    /// Watches `stream` for the client in `slot` and gives the attempt its
    /// deadline (the handshake timer, re-armed).
    fn watch_dc_connect(&mut self, slot: usize, stream: &std::net::TcpStream) -> bool {
        let generation = self.clients.generation(slot).unwrap_or(0);
        if self
            .reactor
            .add(stream.as_raw_fd(), token(Kind::Relay, slot, generation))
            .is_err()
        {
            return false;
        }
        let deadline = token(Kind::HandshakeTimer, slot, generation);
        let timer = self.reactor.timer(deadline, CONNECT_ATTEMPT_MS);
        if let Some(old) = self
            .clients
            .get_mut(slot)
            .and_then(|c| c.handshake_timer.replace(timer))
        {
            self.reactor.cancel(old);
        }
        true
    }

    /// The connect to the DC failed or took too long: try its next address
    /// (the header and the client's bytes are still queued, nothing was
    /// sent), or close the client when none is left.
    pub(crate) fn direct_connect_failed(&mut self, slot: usize) {
        let Some(Phase::Relay(r)) = self.clients.get_mut(slot).map(|c| &mut c.phase) else {
            return;
        };
        let Some(direct) = r.direct.as_mut() else {
            return;
        };
        let _ = self.reactor.remove(r.stream.as_raw_fd());
        let mut untried = std::mem::take(&mut direct.untried);
        let stats = &self.proxy.rust_stats;
        if !untried.is_empty() {
            Counters::add(&stats.direct_address_fallbacks, 1);
        }
        let Some(stream) = self.connect_next(&mut untried) else {
            Counters::add(&stats.direct_connect_failed, 1);
            return self.close_client(slot, false);
        };
        if !self.watch_dc_connect(slot, &stream) {
            return self.close_client(slot, false);
        }
        if let Some(Phase::Relay(r)) = self.clients.get_mut(slot).map(|c| &mut c.phase) {
            r.stream = stream;
            if let Some(direct) = r.direct.as_mut() {
                direct.untried = untried;
            }
        }
    }

    /// The client's handshake succeeded in direct mode (or its middle-ends
    /// are down, `--direct-fallback`): connect to its DC, queue the new
    /// header and the bytes that came after the client's.
    pub(crate) fn start_direct(
        &mut self,
        slot: usize,
        h: &ServerHeader,
        tls: Option<RecordReader>,
        rest: &[u8],
    ) {
        let stats = Arc::clone(&self.proxy.rust_stats);
        let options = &self.proxy.settings.rust_only;
        let mut untried = dc_addresses(h.dc, &options.dc_addrs, options.prefer_ipv6);
        if untried.is_empty() {
            stats.direct_unknown_dc.fetch_add(1, Ordering::Relaxed);
            return self.close_client(slot, false);
        }
        untried.reverse();
        let header = loop {
            let mut random = [0u8; HEADER_LEN];
            self.rng.fill(&mut random);
            match obfs2::build_client_header(&random, None, h.tag, h.dc) {
                Ok(header) => break header,
                Err(obfs2::ERR_FORBIDDEN) => continue,
                Err(_) => return self.close_client(slot, false),
            }
        };
        let counters = stats.dc(h.dc);
        let Some(crypto) = DirectCrypto::new(h, tls, &header, Arc::clone(&counters)) else {
            return self.close_client(slot, false);
        };
        let mut crypto = Box::new(crypto);
        let Some(stream) = self.connect_next(&mut untried) else {
            stats.direct_connect_failed.fetch_add(1, Ordering::Relaxed);
            return self.close_client(slot, false);
        };
        if !self.watch_dc_connect(slot, &stream) {
            return self.close_client(slot, false);
        }
        crypto.untried = untried;
        counters.connections.fetch_add(1, Ordering::Relaxed);
        counters.connections_total.fetch_add(1, Ordering::Relaxed);
        let mut out = OutQueue::default();
        out.push_slice(&header.header);
        let mut rest = rest.to_vec();
        crypto.client_plain_to_dc(&mut rest, &mut out);
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        c.raw = Vec::new();
        let n = out.len();
        c.phase = Phase::Relay(Box::new(Relay {
            stream,
            out,
            connected: false,
            read_paused: false,
            direct: Some(crypto),
        }));
        Counters::add(&self.proxy.counters.allocated_outbound, 1);
        self.account(0, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn the_built_in_table_and_its_media_test_and_cdn_ids() {
        let table = |dc| dc_addresses(dc, &[], false);
        let cases: [(i16, &str, &str); 9] = [
            (1, "149.154.175.50", "2001:b28:f23d:f001::a"),
            (2, "149.154.167.51", "2001:67c:4e8:f002::a"),
            (3, "149.154.175.100", "2001:b28:f23d:f003::a"),
            (4, "149.154.167.91", "2001:67c:4e8:f004::a"),
            (5, "149.154.171.5", "2001:b28:f23f:f005::a"),
            (-4, "149.154.167.91", "2001:67c:4e8:f004::a"),
            (10002, "149.154.167.40", "2001:67c:4e8:f002::e"),
            (-10001, "149.154.175.10", "2001:b28:f23d:f001::e"),
            (203, "91.105.192.100", "2a0a:f280:203:a:5000::100"),
        ];
        for (dc, four, six) in cases {
            let want = addrs(&[&format!("{four}:443"), &format!("[{six}]:443")]);
            assert_eq!(table(dc), want, "DC {dc}");
        }
        assert_eq!(table(-203), table(203));
        for unknown in [0, 6, -6, 10000, 10004, 20000, -30000, i16::MIN, i16::MAX] {
            assert_eq!(table(unknown), vec![], "{unknown}");
        }
    }

    #[test]
    fn prefer_ipv6_puts_the_v6_addresses_first_keeping_their_order() {
        assert_eq!(
            dc_addresses(2, &[], true),
            addrs(&["[2001:67c:4e8:f002::a]:443", "149.154.167.51:443"])
        );
        let given = addrs(&["10.0.0.1:1", "[::1]:2", "10.0.0.2:3", "[::2]:4"]);
        let table: Vec<(i16, SocketAddr)> = given.iter().map(|&a| (7, a)).collect();
        assert_eq!(
            dc_addresses(7, &table, true),
            addrs(&["[::1]:2", "[::2]:4", "10.0.0.1:1", "10.0.0.2:3"])
        );
        assert_eq!(
            dc_addresses(7, &table, false),
            addrs(&["10.0.0.1:1", "10.0.0.2:3", "[::1]:2", "[::2]:4"])
        );
    }

    #[test]
    fn overrides_replace_the_table_for_their_exact_id_only() {
        let local = SocketAddr::from(([127, 0, 0, 1], 7000));
        let media = SocketAddr::from(([127, 0, 0, 2], 7001));
        let table = [(2, local), (-2, media), (10000, local), (203, media)];
        assert_eq!(dc_addresses(2, &table, false), vec![local]);
        assert_eq!(dc_addresses(2, &table, true), vec![local]);
        assert_eq!(dc_addresses(-2, &table, false), vec![media]);
        assert_eq!(dc_addresses(10000, &table, false), vec![local]);
        assert_eq!(dc_addresses(203, &table, false), vec![media]);
        assert_eq!(
            dc_addresses(3, &table, false),
            addrs(&["149.154.175.100:443", "[2001:b28:f23d:f003::a]:443"])
        );
    }
}
