//! One client session against one side, and the comparison of both sides.
//!
//! A session sends its packets one at a time and reads, after each, the
//! answers the packet calls for (predicted by the framing core's forward
//! filter and the middle-end's behaviour), ends with a PING the proxy
//! answers itself (so every packet before it was handled), closes, and
//! waits until the proxy is idle again and the middle-end has everything
//! the proxy sent (a PING/PONG barrier on every ME connection). Waits are
//! deadlines scaled to the bytes in flight, so a side that never answers
//! costs two seconds, not the start-up's 20.
use super::{counters, hex, with_pair, Side, DOMAIN, POOL, SECRET};
use mtproxy_core::net::ext_framing;
use mtproxy_testkit::client::{ClientError, ClientOptions, Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{Behaviour, Event};
use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The fixed part of every wait: loopback, two cores shared with builds.
const BASE_WAIT: Duration = Duration::from_secs(2);
/// The slowest throughput a healthy session has (unoptimised test build:
/// several AES passes per byte on each side, both proxies in this process).
const BYTES_PER_SEC: u64 = 2 << 20;

/// How a client reaches the proxy: secret form and transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Abridged,
    Intermediate,
    /// Padded intermediate (`dd` secret).
    Padded,
    /// Fake TLS (`ee` secret, padded inside), on the domain-fronted pair.
    FakeTls,
}

impl Link {
    pub const ALL: [Link; 4] = [
        Link::Abridged,
        Link::Intermediate,
        Link::Padded,
        Link::FakeTls,
    ];

    fn secret(self) -> String {
        let key = hex(&SECRET);
        match self {
            Link::Abridged | Link::Intermediate => key,
            Link::Padded => format!("dd{key}"),
            Link::FakeTls => format!("ee{key}{}", hex(DOMAIN.as_bytes())),
        }
    }

    pub fn transport(self) -> Transport {
        match self {
            Link::Abridged => Transport::Abridged,
            Link::Intermediate => Transport::Intermediate,
            Link::Padded | Link::FakeTls => Transport::Padded,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub link: Link,
    pub dc: i16,
    /// `(length, quick ack)`; a 12-byte packet is an RPC_PING, the rest
    /// carry a non-zero auth key id (forwarded from 56 bytes on). Longer
    /// than a client may send: only its length header is sent.
    pub packets: Vec<(usize, bool)>,
    pub client_seed: u64,
    pub behaviour: Behaviour,
    /// Fake TLS: payload bytes per record the client sends.
    pub tls_record_len: usize,
    /// Fake TLS: the 64-byte header shares its record(s) with the first
    /// packet (else it is a first record of exactly 64 bytes).
    pub tls_merge_header: bool,
}

impl Session {
    pub fn new(link: Link) -> Session {
        Session {
            link,
            dc: 4,
            packets: Vec::new(),
            client_seed: 9,
            behaviour: Behaviour::Echo,
            tls_record_len: ClientOptions::default().tls_record_len,
            tls_merge_header: false,
        }
    }
}

/// An RPC_PROXY_REQ without the ports: flags, ext_conn_id, client address,
/// ad tag, payload.
type Request = (u32, i64, Ipv6Addr, Option<[u8; 16]>, Blob);

/// A payload, shown by length, hash and first bytes: a failing case's
/// report stays readable with megabyte packets in it.
#[derive(PartialEq, Eq)]
pub struct Blob(Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // FNV-1a: enough to tell two payloads apart in a report.
        let hash = self.0.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let head = &self.0[..self.0.len().min(8)];
        write!(f, "{} bytes {head:02x?}.. fnv {hash:016x}", self.0.len())
    }
}

/// What the client got for one answer it waited for.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Packet(Blob),
    QuickAck(u32),
    Closed,
    Timeout,
    Failed(String),
}

/// What a session looked like from outside, ports left out.
#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    pub at_client: Vec<Outcome>,
    /// Fake TLS: the ServerHello flight's length and the payload length of
    /// every record after it.
    pub server_hello: Option<usize>,
    pub records: Vec<usize>,
    pub at_me: Vec<Request>,
    pub closes: usize,
    /// Counter deltas over the session.
    pub counters: Vec<(&'static str, i64)>,
}

/// The packet the session sends as its `i`-th: an RPC_PING if 12 bytes
/// long, else a recognisable pattern with a non-zero auth key id.
pub fn packet(i: usize, len: usize) -> Vec<u8> {
    if len == 12 {
        let mut ping = 0x5730_a2df_u32.to_le_bytes().to_vec();
        ping.extend_from_slice(&(i as u64).to_le_bytes());
        return ping;
    }
    let mut p = vec![(i as u8).wrapping_mul(31).wrapping_add(7); len];
    if let Some(first) = p.first_mut() {
        *first = 1;
    }
    // The fake middle-end's quick-ack confirm is the first 4 bytes;
    // clients expect bit 31 set in it (docs/PROTOCOL.md §3.2).
    if let Some(b) = p.get_mut(3) {
        *b |= 0x80;
    }
    p
}

/// What the client should see after sending `p`.
enum Expect {
    Answers(usize),
    /// The middle-end lets go of the client: the proxy closes it.
    Closed,
}

fn expect(p: &[u8], quick_ack: bool, behaviour: Behaviour) -> Expect {
    if p.len() > ext_framing::MAX_PACKET_LEN {
        return Expect::Closed;
    }
    let verdict = ext_framing::classify_packet(p);
    match verdict.action {
        ext_framing::PING => return Expect::Answers(1),
        ext_framing::DROP => return Expect::Answers(0),
        _ => {}
    }
    match behaviour {
        Behaviour::Echo | Behaviour::ReplyBytes(_) => Expect::Answers(1),
        Behaviour::SimpleAck => Expect::Answers(1 + usize::from(quick_ack)),
        Behaviour::Stall => Expect::Answers(0),
        Behaviour::CloseExt | Behaviour::DropConnection | Behaviour::OversizedFrame => {
            Expect::Closed
        }
    }
}

/// A deadline for moving `bytes` through a proxy and back.
pub fn wait_for_bytes(bytes: usize) -> Duration {
    BASE_WAIT + Duration::from_millis(bytes as u64 * 1000 / BYTES_PER_SEC)
}

/// Waits until the side has no client and its whole pool is ready (again,
/// after a middle-end dropped a connection) at both ends.
pub fn wait_idle(side: &Side, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let stats = (side.stats)();
        if stats.total_special_connections == 0
            && stats.total_encrypted_connections == POOL as i64
            && side.me.handle().ready_connections().len() == POOL
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The client framing's length header for a `len`-byte packet, written by
/// hand for lengths the framing core refuses to encode.
fn length_header(link: Link, len: usize, quick_ack: bool) -> Vec<u8> {
    let flag = if quick_ack { 0x80 } else { 0 };
    match link {
        Link::Abridged => {
            let words = (len / 4) as u32;
            let mut h = vec![0x7f | flag];
            h.extend_from_slice(&words.to_le_bytes()[..3]);
            h
        }
        _ => (len as u32 | u32::from(flag) << 24).to_le_bytes().to_vec(),
    }
}

fn outcome(result: Result<Received, ClientError>) -> Outcome {
    match result {
        Ok(Received::Packet(p)) => Outcome::Packet(Blob(p)),
        Ok(Received::QuickAck(confirm)) => Outcome::QuickAck(confirm),
        Err(ClientError::Closed) => Outcome::Closed,
        Err(ClientError::Timeout) => Outcome::Timeout,
        // A reset or a write after the close is a close too: which one the
        // client meets depends on how far it got writing when the proxy
        // closed (with bytes unread).
        Err(ClientError::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            Outcome::Closed
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn run_session(side: &Side, s: &Session, seed: u64) -> Result<Observed, String> {
    if !wait_idle(side, wait_for_bytes(0) * 5) {
        return Err("side not idle before the session".into());
    }
    let before = side.me.handle().events().len();
    let counters_before = counters(&(side.stats)());
    side.me.handle().set_behaviour(s.behaviour);
    let options = ClientOptions {
        seed: Some(seed),
        tls_record_len: s.tls_record_len,
        tls_merge_header: s.tls_merge_header,
        ..ClientOptions::default()
    };
    let mut client = TestClient::connect(
        side.addr,
        &s.link.secret(),
        s.link.transport(),
        s.dc,
        options,
    )
    .expect("connect");
    let mut at_client = Vec::new();
    let reply_len = match s.behaviour {
        Behaviour::ReplyBytes(n) => n,
        _ => 0,
    };
    let sentinel = (s.packets.len(), 12, false);
    let packets = s
        .packets
        .iter()
        .enumerate()
        .map(|(i, &(len, qa))| (i, len, qa));
    'session: for (i, len, quick_ack) in packets.chain([sentinel]) {
        let p = packet(i, len);
        let sent = if len > ext_framing::MAX_PACKET_LEN {
            client.send_unframed(&length_header(s.link, len, quick_ack))
        } else {
            client.send_packet(&p, quick_ack)
        };
        if let Err(e) = sent {
            at_client.push(outcome(Err(e)));
            break;
        }
        let wait = wait_for_bytes(2 * len + reply_len);
        let answers = match expect(&p, quick_ack, s.behaviour) {
            Expect::Answers(n) => n,
            Expect::Closed => {
                at_client.push(outcome(client.recv_packet(wait)));
                break;
            }
        };
        for _ in 0..answers {
            let got = outcome(client.recv_packet(wait));
            let failed = !matches!(got, Outcome::Packet(_) | Outcome::QuickAck(_));
            at_client.push(got);
            if failed {
                break 'session;
            }
        }
    }
    let server_hello = client.server_hello().map(<[u8]>::len);
    let records = client.records_received().to_vec();
    drop(client);
    if !wait_idle(side, wait_for_bytes(0) * 5) || !side.me.handle().sync(wait_for_bytes(0)) {
        return Err("side not idle after the session".into());
    }
    let events = side.me.handle().events();
    let mut at_me = Vec::new();
    let mut closes = 0;
    for e in &events[before..] {
        match e {
            Event::ProxyReq(r) => at_me.push((
                r.flags,
                r.ext_conn_id,
                r.client_ip,
                r.ad_tag,
                Blob(r.packet.clone()),
            )),
            Event::CloseConn { .. } => closes += 1,
            _ => {}
        }
    }
    let counters = counters(&(side.stats)())
        .iter()
        .zip(counters_before)
        .map(|(&(name, after), (_, before))| (name, after - before))
        .collect();
    Ok(Observed {
        at_client,
        server_hello,
        records,
        at_me,
        closes,
        counters,
    })
}

/// Runs `s` on both sides of its pair and compares what was seen.
pub fn compare(s: &Session) {
    // Fake TLS keeps a replay cache of ClientHellos (both sides): every
    // session draws a fresh client seed, the same on both sides.
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let seed = s.client_seed ^ run.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    with_pair(s.link == Link::FakeTls, |pair| {
        let from_c = run_session(&pair.c, s, seed).map_err(|e| format!("C: {e}; session {s:?}"))?;
        let from_rust =
            run_session(&pair.rust, s, seed).map_err(|e| format!("Rust: {e}; session {s:?}"))?;
        if from_c == from_rust {
            return Ok(());
        }
        Err(format!(
            "the sides differ on session {s:?}\n     C: {from_c:?}\n  Rust: {from_rust:?}"
        ))
    });
}
