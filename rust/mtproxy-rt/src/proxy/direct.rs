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
//! (relay.rs): a [`Relay`] with [`DirectCrypto`] attached, so the
//! backpressure, flush and close rules are the relay's.

use super::buffers::OutQueue;
use super::client::{ctr, Phase};
use super::relay::Relay;
use super::routing::{token, Kind};
use super::worker::Worker;
use super::Counters;
use crate::rust_only::DcCounters;
use mtproxy_core::crypto::aesni256::AesContext;
use mtproxy_core::net::fake_tls::{self as tls, RecordReader};
use mtproxy_core::net::obfs2::{self, ServerHeader, HEADER_LEN};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Port of every built-in DC address.
const DC_PORT: u16 = 443;
/// Production DCs 1..=5 (public addresses).
const PRODUCTION: [Ipv4Addr; 5] = [
    Ipv4Addr::new(149, 154, 175, 50),
    Ipv4Addr::new(149, 154, 167, 51),
    Ipv4Addr::new(149, 154, 175, 100),
    Ipv4Addr::new(149, 154, 167, 91),
    Ipv4Addr::new(149, 154, 171, 5),
];
/// Test DCs 1..=3 (ids 10001..=10003; public addresses).
const TEST: [Ipv4Addr; 3] = [
    Ipv4Addr::new(149, 154, 175, 10),
    Ipv4Addr::new(149, 154, 167, 40),
    Ipv4Addr::new(149, 154, 175, 117),
];
/// Test DC ids are production ids plus this.
const TEST_OFFSET: i32 = 10_000;

/// Where DC `dc` is: an exact `--dc-addr` override first; else the built-in
/// table, where a negative id (a media DC) uses its DC's address and
/// `10000 + n` is test DC `n`. `None` for 0 and every other id: the client
/// is closed.
pub(crate) fn dc_address(dc: i16, overrides: &[(i16, SocketAddr)]) -> Option<SocketAddr> {
    if let Some(&(_, addr)) = overrides.iter().find(|(id, _)| *id == dc) {
        return Some(addr);
    }
    let id = i32::from(dc).abs();
    let (table, n): (&[Ipv4Addr], i32) = if id > TEST_OFFSET {
        (&TEST, id - TEST_OFFSET)
    } else {
        (&PRODUCTION, id)
    };
    let index = usize::try_from(n.checked_sub(1)?).ok()?;
    let ip = *table.get(index)?;
    Some(SocketAddr::V4(SocketAddrV4::new(ip, DC_PORT)))
}

/// The two AES-CTR streams of each side of a direct relay.
pub(crate) struct DirectCrypto {
    /// Client → proxy, and proxy → client.
    client_dec: AesContext,
    client_enc: AesContext,
    /// Record framing of a fake-TLS client.
    tls: Option<RecordReader>,
    /// Proxy → DC, and DC → proxy.
    dc_enc: AesContext,
    dc_dec: AesContext,
    pub counters: Arc<DcCounters>,
}

fn crypt(ctx: &mut AesContext, data: &mut [u8]) {
    // CTR accepts any length, so this cannot fail.
    let _ = ctx.crypt_in_place(data);
}

impl DirectCrypto {
    /// Client ciphertext (TLS records for a fake-TLS client) → bytes for
    /// the DC, appended to `out`. `Err` on a broken record.
    pub fn client_to_dc(&mut self, data: &[u8], out: &mut OutQueue) -> Result<usize, ()> {
        let mut plain = match self.tls.as_mut() {
            Some(reader) => {
                let mut payload = vec![0u8; data.len()];
                let (mut done, mut made) = (0, 0);
                while done < data.len() {
                    let (used, n) = reader
                        .feed(&data[done..], &mut payload[made..])
                        .map_err(|_| ())?;
                    done += used;
                    made += n;
                }
                payload.truncate(made);
                payload
            }
            None => data.to_vec(),
        };
        self.client_plain_to_dc(&mut plain, out);
        Ok(plain.len())
    }

    /// obfuscated2 ciphertext of the client (no records) → the DC.
    fn client_plain_to_dc(&mut self, data: &mut [u8], out: &mut OutQueue) {
        crypt(&mut self.client_dec, data);
        crypt(&mut self.dc_enc, data);
        self.counters
            .bytes_to_dc
            .fetch_add(data.len() as i64, Ordering::Relaxed);
        out.push_slice(data);
    }

    /// DC ciphertext → bytes for the client (in records for fake TLS),
    /// appended to `out`.
    pub fn dc_to_client(&mut self, data: &mut [u8], out: &mut OutQueue) {
        crypt(&mut self.dc_dec, data);
        crypt(&mut self.client_enc, data);
        self.counters
            .bytes_from_dc
            .fetch_add(data.len() as i64, Ordering::Relaxed);
        if self.tls.is_some() {
            let plain: &[u8] = data;
            out.append_with(tls::wrapped_len(plain.len()), |dst| {
                let _ = tls::wrap_records(plain, dst);
            });
        } else {
            out.push_slice(data);
        }
    }
}

impl Worker<'_> {
    pub(crate) fn direct_mode(&self) -> bool {
        self.proxy.settings.rust_only.direct
    }

    /// The client's handshake succeeded in direct mode: connect to its DC,
    /// queue the new header and the bytes that came after the client's.
    pub(crate) fn start_direct(
        &mut self,
        slot: usize,
        h: &ServerHeader,
        tls: Option<RecordReader>,
        rest: &[u8],
    ) {
        let stats = Arc::clone(&self.proxy.rust_stats);
        let Some(addr) = dc_address(h.dc, &self.proxy.settings.rust_only.dc_addrs) else {
            stats.direct_unknown_dc.fetch_add(1, Ordering::Relaxed);
            return self.close_client(slot, false);
        };
        let (Some(mut client_dec), Some(client_enc)) = (ctr(&h.read), ctr(&h.write)) else {
            return self.close_client(slot, false);
        };
        // The client's header used the first 64 keystream bytes.
        crypt(&mut client_dec, &mut [0u8; HEADER_LEN]);
        let header = loop {
            let mut random = [0u8; HEADER_LEN];
            self.rng.fill(&mut random);
            match obfs2::build_client_header(&random, None, h.tag, h.dc) {
                Ok(header) => break header,
                Err(obfs2::ERR_FORBIDDEN) => continue,
                Err(_) => return self.close_client(slot, false),
            }
        };
        let (Some(mut dc_enc), Some(dc_dec)) = (ctr(&header.encrypt), ctr(&header.decrypt)) else {
            return self.close_client(slot, false);
        };
        crypt(&mut dc_enc, &mut [0u8; HEADER_LEN]);
        let Ok(stream) = super::me::connect_nonblocking(addr) else {
            stats.direct_connect_failed.fetch_add(1, Ordering::Relaxed);
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
        let counters = stats.dc(h.dc);
        counters.connections.fetch_add(1, Ordering::Relaxed);
        counters.connections_total.fetch_add(1, Ordering::Relaxed);
        let mut crypto = Box::new(DirectCrypto {
            client_dec,
            client_enc,
            tls,
            dc_enc,
            dc_dec,
            counters,
        });
        let mut out = OutQueue::default();
        out.push_slice(&header.header);
        let mut rest = rest.to_vec();
        crypto.client_plain_to_dc(&mut rest, &mut out);
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        if let Some(timer) = c.handshake_timer.take() {
            self.reactor.cancel(timer);
        }
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

    fn v4(a: [u8; 4], port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::from((a, port)))
    }

    #[test]
    fn the_built_in_table_and_its_media_and_test_ids() {
        assert_eq!(dc_address(1, &[]), v4([149, 154, 175, 50], 443));
        assert_eq!(dc_address(2, &[]), v4([149, 154, 167, 51], 443));
        assert_eq!(dc_address(3, &[]), v4([149, 154, 175, 100], 443));
        assert_eq!(dc_address(4, &[]), v4([149, 154, 167, 91], 443));
        assert_eq!(dc_address(5, &[]), v4([149, 154, 171, 5], 443));
        assert_eq!(dc_address(-4, &[]), v4([149, 154, 167, 91], 443));
        assert_eq!(dc_address(10002, &[]), v4([149, 154, 167, 40], 443));
        assert_eq!(dc_address(-10001, &[]), v4([149, 154, 175, 10], 443));
        for unknown in [0, 6, -6, 10000, 10004, 20000, -30000, i16::MIN, i16::MAX] {
            assert_eq!(dc_address(unknown, &[]), None, "{unknown}");
        }
    }

    #[test]
    fn overrides_win_for_their_exact_id_only() {
        let local = SocketAddr::from(([127, 0, 0, 1], 7000));
        let media = SocketAddr::from(([127, 0, 0, 2], 7001));
        let table = [(2, local), (-2, media), (10000, local)];
        assert_eq!(dc_address(2, &table), Some(local));
        assert_eq!(dc_address(-2, &table), Some(media));
        assert_eq!(dc_address(10000, &table), Some(local));
        assert_eq!(dc_address(3, &table), v4([149, 154, 175, 100], 443));
    }
}
