//! A fake Telegram middle-end (docs/PROTOCOL.md §4.11) for tests: it accepts the
//! proxy's RPC connections on loopback, runs the server end of the nonce and
//! handshake exchange, answers PROXY_REQs with a selectable behaviour and
//! records everything it received in a log the test can wait on.

mod conn;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::net::{Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mtproxy_core::common::pid;
use mtproxy_core::crypto::net_crypto_aes::{
    self, ConnectionKey, KeyError, KeyPurpose, RpcKeyParams, SECRET_MAX_LEN, SECRET_MIN_LEN,
};
use mtproxy_core::net::rpc_frame::CrcKind;
use mtproxy_core::net::rpc_handshake::{self as hs, HandshakeConfig, KeyInputs, Role, NONCE_BYTES};

/// Which accepted connection an event belongs to, counting from 1.
pub type ConnId = u64;

/// How the fake middle-end answers each RPC_PROXY_REQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// RPC_PROXY_ANS with the request's ext_conn_id and packet.
    Echo,
    /// RPC_PROXY_ANS carrying [`reply_pattern`] of this many bytes.
    ReplyBytes(usize),
    /// Like `Echo`, preceded by RPC_SIMPLE_ACK when the request asks for a
    /// quick ack (flag bit 31); its confirm is [`quick_ack_token`].
    SimpleAck,
    /// RPC_CLOSE_EXT for the request's ext_conn_id.
    CloseExt,
    /// Close the TCP connection.
    DropConnection,
    /// Read the request and never answer.
    Stall,
    /// Send the start of a frame longer than the RPC framing's 16 MiB limit
    /// (`rpc_frame::MAX_FRAME_LEN + 4`), which the proxy must refuse: it
    /// drops the connection and closes its clients.
    OversizedFrame,
}

/// Where the proxy secret comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Bytes(Vec<u8>),
    /// A raw proxy-secret file (§5.2), loaded as the proxy loads it.
    File(PathBuf),
}

/// How a [`FakeMe`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeMeConfig {
    pub secret: SecretSource,
    /// Whether to accept the proxy's CRC-32C offer.
    pub crc32c: bool,
    /// The behaviour of every connection until changed.
    pub behaviour: Behaviour,
    /// Seconds added to the clock (nonce timestamps and the skew check).
    pub clock_offset: i64,
    /// Seeds the nonce generator; random when `None`.
    pub seed: Option<u64>,
    /// Port on 127.0.0.1 to listen on; 0 = kernel-chosen. A fixed port lets
    /// a test restart the middle-end where the proxy's config points.
    pub port: u16,
    /// Whether the log records every message (requests with their packets,
    /// CLOSE_CONNs, PINGs). A long-running middle-end under load turns this
    /// off: nobody reads its log, which would grow by every byte uploaded.
    pub log_messages: bool,
}

impl FakeMeConfig {
    /// Echoing, CRC-32C accepted, true clock.
    pub fn new(secret: SecretSource) -> Self {
        FakeMeConfig {
            secret,
            crc32c: true,
            behaviour: Behaviour::Echo,
            clock_offset: 0,
            seed: None,
            port: 0,
            log_messages: true,
        }
    }
}

/// The phase of a connection an error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Nonce,
    Handshake,
    Data,
}

/// Why a connection was closed by the fake middle-end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnError {
    /// A socket error, or end of stream before the exchange finished.
    Io(io::ErrorKind),
    /// The frame decoder's code (`rpc_frame::ERR_*`: length, CRC, sequence).
    Frame(i32),
    /// The nonce or handshake check's code (`rpc_handshake::ERR_*`).
    Protocol(i32),
    /// The cipher refused (not expected).
    Crypto,
}

/// One RPC_PROXY_REQ as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyReqRecord {
    pub conn: ConnId,
    pub flags: u32,
    pub ext_conn_id: i64,
    /// IPv6, or IPv4-mapped.
    pub client_ip: Ipv6Addr,
    pub client_port: i32,
    pub proxy_ip: Ipv6Addr,
    pub proxy_port: i32,
    pub ad_tag: Option<[u8; 16]>,
    pub packet: Vec<u8>,
}

/// Everything the fake middle-end saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Accepted {
        conn: ConnId,
        peer: Option<SocketAddr>,
    },
    /// The exchange finished; later frames use `crc`.
    Ready {
        conn: ConnId,
        crc: CrcKind,
    },
    ProxyReq(ProxyReqRecord),
    CloseConn {
        conn: ConnId,
        ext_conn_id: i64,
    },
    /// A PING, answered with its PONG.
    Ping {
        conn: ConnId,
        ping_id: i64,
    },
    /// A PONG: the answer to a [`FakeMeHandle::sync`] PING.
    Pong {
        conn: ConnId,
        ping_id: i64,
    },
    /// A message with a known op that did not decode (`code` from the
    /// decoder), or an answer that could not be encoded; the connection
    /// stays open.
    BadMessage {
        conn: ConnId,
        op: u32,
        code: i32,
    },
    /// A message with an op the fake middle-end does not handle.
    UnknownOp {
        conn: ConnId,
        op: u32,
    },
    /// The connection was closed because of `error`.
    Failed {
        conn: ConnId,
        stage: Stage,
        error: ConnError,
    },
    /// The connection is gone (always the last event of a connection).
    Closed {
        conn: ConnId,
    },
}

/// The AES-256-CBC keys of one connection (§4.4): `client` protects
/// proxy → middle-end, `server` middle-end → proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionKeys {
    pub client: ConnectionKey,
    pub server: ConnectionKey,
}

/// The keys of a connection between the middle-end at `me_addr` and the
/// proxy at `proxy_addr` (the accepted socket's local and peer addresses).
/// Two IPv4 addresses give the IPv4 form, anything else the IPv6 form.
pub fn connection_keys(
    secret: &[u8],
    inputs: &KeyInputs,
    me_addr: SocketAddr,
    proxy_addr: SocketAddr,
) -> Result<ConnectionKeys, KeyError> {
    let mut params = RpcKeyParams {
        nonce_server: inputs.server_nonce,
        nonce_client: inputs.client_nonce,
        client_timestamp: inputs.client_ts,
        server_port: me_addr.port(),
        client_port: proxy_addr.port(),
        ..RpcKeyParams::default()
    };
    match (me_addr, proxy_addr) {
        (SocketAddr::V4(me), SocketAddr::V4(proxy)) => {
            params.server_ip = u32::from(*me.ip());
            params.client_ip = u32::from(*proxy.ip());
        }
        _ => {
            params.use_ipv6 = true;
            params.server_ipv6 = ipv6_of(me_addr).octets();
            params.client_ipv6 = ipv6_of(proxy_addr).octets();
        }
    }
    Ok(ConnectionKeys {
        client: net_crypto_aes::derive_keys(&params, secret, KeyPurpose::Client)?,
        server: net_crypto_aes::derive_keys(&params, secret, KeyPurpose::Server)?,
    })
}

fn ipv6_of(addr: SocketAddr) -> Ipv6Addr {
    match addr {
        SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
        SocketAddr::V6(v6) => *v6.ip(),
    }
}

/// The data a [`Behaviour::ReplyBytes`] answer carries: `len` rounded up to
/// a multiple of 4 (the answer's data must be whole words), byte `i` being
/// `i % 251`.
pub fn reply_pattern(len: usize) -> Vec<u8> {
    (0..len.next_multiple_of(4))
        .map(|i| (i % 251) as u8)
        .collect()
}

/// The confirm value of the SIMPLE_ACK for `packet`: its first 4 bytes,
/// little-endian (0 if shorter). The real middle-end derives it from the
/// client's auth key, which a fake one does not have.
pub fn quick_ack_token(packet: &[u8]) -> u32 {
    packet
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// State shared by the acceptor, the connections and the handles.
struct Shared {
    secret: Vec<u8>,
    crc32c: bool,
    clock_offset: i64,
    log_messages: bool,
    our_pid: [u8; pid::ENCODED_LEN],
    stop: AtomicBool,
    behaviour: Mutex<Behaviour>,
    overrides: Mutex<HashMap<ConnId, Behaviour>>,
    log: Mutex<Vec<Event>>,
    logged: Condvar,
    rng: Mutex<u64>,
    /// Clones of the open connections' sockets, to close them on shutdown.
    sockets: Mutex<HashMap<ConnId, TcpStream>>,
    /// The sending side of each ready connection, for [`FakeMeHandle::sync`].
    writers: Mutex<HashMap<ConnId, conn::SharedWriter>>,
    /// The next [`FakeMeHandle::sync`] PING id.
    next_ping: AtomicI64,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn record(&self, event: Event) {
        lock(&self.log).push(event);
        self.logged.notify_all();
    }

    /// Records a per-message event, built only if messages are logged.
    fn record_message(&self, event: impl FnOnce() -> Event) {
        if self.log_messages {
            self.record(event());
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn now(&self) -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        secs.saturating_add(self.clock_offset)
    }

    fn behaviour_for(&self, conn: ConnId) -> Behaviour {
        let own = lock(&self.overrides).get(&conn).copied();
        own.unwrap_or_else(|| *lock(&self.behaviour))
    }

    fn handshake_config(&self) -> HandshakeConfig {
        HandshakeConfig {
            role: Role::Server,
            key_select: key_select(&self.secret),
            want_crc32c: self.crc32c,
            our_pid: self.our_pid,
            // The middle-end does not check who the proxy is.
            peer_pid: [0; pid::ENCODED_LEN],
        }
    }

    /// 16 fresh nonce bytes (SplitMix64).
    fn random_nonce(&self) -> [u8; NONCE_BYTES] {
        let mut state = lock(&self.rng);
        let mut out = [0u8; NONCE_BYTES];
        for half in out.chunks_exact_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            half.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out
    }
}

/// The key signature: the secret's first 4 bytes, little-endian.
fn key_select(secret: &[u8]) -> u32 {
    secret
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b))
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_ok() {
        return u64::from_le_bytes(bytes);
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

fn load_secret(source: &SecretSource) -> io::Result<Vec<u8>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    match source {
        SecretSource::Bytes(bytes) if (SECRET_MIN_LEN..=SECRET_MAX_LEN).contains(&bytes.len()) => {
            Ok(bytes.clone())
        }
        SecretSource::Bytes(bytes) => Err(invalid(format!(
            "proxy secret must be {SECRET_MIN_LEN}..={SECRET_MAX_LEN} bytes, not {}",
            bytes.len()
        ))),
        SecretSource::File(path) => {
            let mut buf = [0u8; SECRET_MAX_LEN];
            let len = net_crypto_aes::load_proxy_secret(path, &mut buf)
                .map_err(|e| invalid(format!("cannot load {}: {e:?}", path.display())))?;
            Ok(buf.get(..len).unwrap_or_default().to_vec())
        }
    }
}

/// A handle on a running fake middle-end: its log and its behaviour.
#[derive(Clone)]
pub struct FakeMeHandle(Arc<Shared>);

impl FakeMeHandle {
    /// Sets the behaviour of every connection without its own. It applies
    /// to requests not yet in the log.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *lock(&self.0.behaviour) = behaviour;
    }

    /// Sets the behaviour of one connection.
    pub fn set_connection_behaviour(&self, conn: ConnId, behaviour: Behaviour) {
        lock(&self.0.overrides).insert(conn, behaviour);
    }

    /// Waits until some connection finished the nonce and handshake
    /// exchange (a proxy is connected); false after `timeout`.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |events| {
            events
                .iter()
                .any(|e| matches!(e, Event::Ready { .. }))
                .then_some(())
        })
        .is_some()
    }

    /// The connections that finished the exchange and are still open, in
    /// the order they became ready.
    pub fn ready_connections(&self) -> Vec<ConnId> {
        open_ready(&lock(&self.0.log))
    }

    /// Waits until at least `n` connections finished the exchange and are
    /// still open (a proxy's whole pool is up); false after `timeout`.
    pub fn wait_ready_connections(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |events| {
            (open_ready(events).len() >= n).then_some(())
        })
        .is_some()
    }

    /// Closes connection `conn` from this side (both directions, as a
    /// middle-end that dies would); false if it is not open.
    pub fn close_connection(&self, conn: ConnId) -> bool {
        lock(&self.0.sockets)
            .get(&conn)
            .is_some_and(|s| s.shutdown(Shutdown::Both).is_ok())
    }

    /// A barrier: sends a PING on every open ready connection and waits
    /// for its PONG (or the connection's end). The proxy answers in order,
    /// so whatever it sent before is in the log when this returns true;
    /// false after `timeout`.
    pub fn sync(&self, timeout: Duration) -> bool {
        let mut pending = Vec::new();
        for conn in self.ready_connections() {
            let ping_id = self.0.next_ping.fetch_add(1, Ordering::SeqCst);
            let writer = lock(&self.0.writers).get(&conn).cloned();
            if writer.is_some_and(|w| lock(&w).send(&hs::build_ping(ping_id)).is_ok()) {
                pending.push((conn, ping_id));
            }
        }
        self.wait_for(timeout, |events| {
            pending
                .iter()
                .all(|&(conn, ping_id)| {
                    events.iter().any(|e| {
                        *e == Event::Pong { conn, ping_id } || *e == Event::Closed { conn }
                    })
                })
                .then_some(())
        })
        .is_some()
    }

    /// A copy of the log so far.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.0.log).clone()
    }

    /// Waits until `found` returns `Some` for the log (checked now and after
    /// every new event), or `timeout` passes (then `None`).
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut found: impl FnMut(&[Event]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut log = lock(&self.0.log);
        loop {
            if let Some(value) = found(&log) {
                return Some(value);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            log = self
                .0
                .logged
                .wait_timeout(log, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The connections of `events` that became ready and did not close yet.
fn open_ready(events: &[Event]) -> Vec<ConnId> {
    let mut open = Vec::new();
    for e in events {
        match e {
            Event::Ready { conn, .. } => open.push(*conn),
            Event::Closed { conn } => open.retain(|c| c != conn),
            _ => {}
        }
    }
    open
}

/// A running fake middle-end on 127.0.0.1; stops, closes its connections
/// and joins its threads when dropped.
pub struct FakeMe {
    addr: SocketAddr,
    handle: FakeMeHandle,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeMe {
    /// Binds 127.0.0.1:`config.port` and starts accepting.
    pub fn start(config: FakeMeConfig) -> io::Result<FakeMe> {
        let secret = load_secret(&config.secret)?;
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let addr = listener.local_addr()?;
        let ip = match addr {
            SocketAddr::V4(v4) => u32::from(*v4.ip()),
            SocketAddr::V6(_) => 0,
        };
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i32);
        // The port field is an int16 on the wire; ports above 32767 wrap.
        let our_pid = pid::process_id_init(
            ip,
            addr.port() as i16,
            i64::from(std::process::id()),
            start_time,
        );
        let shared = Arc::new(Shared {
            secret,
            crc32c: config.crc32c,
            clock_offset: config.clock_offset,
            log_messages: config.log_messages,
            our_pid: pid::process_id_encode(&our_pid),
            stop: AtomicBool::new(false),
            behaviour: Mutex::new(config.behaviour),
            overrides: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            logged: Condvar::new(),
            rng: Mutex::new(config.seed.unwrap_or_else(random_seed)),
            sockets: Mutex::new(HashMap::new()),
            writers: Mutex::new(HashMap::new()),
            next_ping: AtomicI64::new(1),
            threads: Mutex::new(Vec::new()),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("fake-me-accept".into())
            .spawn(move || accept_loop(&listener, &acceptor_shared))?;
        Ok(FakeMe {
            addr,
            handle: FakeMeHandle(shared),
            acceptor: Some(acceptor),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> &FakeMeHandle {
        &self.handle
    }

    /// A proxy-multi.conf (§5.1) sending every DC in `dc_ids` here, the
    /// first one being the default.
    pub fn proxy_multi_conf(&self, dc_ids: &[i32]) -> String {
        let mut conf = String::new();
        for dc in dc_ids {
            let _ = writeln!(conf, "proxy_for {dc} 127.0.0.1:{};", self.port());
        }
        if let Some(first) = dc_ids.first() {
            let _ = writeln!(conf, "default {first};");
        }
        conf
    }
}

impl Drop for FakeMe {
    fn drop(&mut self) {
        let shared = &self.handle.0;
        shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor out of its blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, socket) in lock(&shared.sockets).drain() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&shared.threads).drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// How long a blocking read waits before checking for shutdown.
const READ_POLL: Duration = Duration::from_millis(200);
/// How long a write may block on a peer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut next_conn: ConnId = 1;
    for stream in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = stream else { continue };
        let conn = next_conn;
        next_conn += 1;
        let setup = stream
            .set_read_timeout(Some(READ_POLL))
            .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true))
            .and_then(|()| stream.try_clone());
        let Ok(registered) = setup else { continue };
        lock(&shared.sockets).insert(conn, registered);
        shared.record(Event::Accepted {
            conn,
            peer: stream.peer_addr().ok(),
        });
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("fake-me-conn-{conn}"))
            .spawn(move || conn::run(&stream, conn, &conn_shared));
        match spawned {
            Ok(thread) => {
                let mut threads = lock(&shared.threads);
                // Finished threads need no join; dropping them detaches.
                threads.retain(|t| !t.is_finished());
                threads.push(thread);
            }
            Err(error) => {
                lock(&shared.sockets).remove(&conn);
                let error = ConnError::Io(error.kind());
                let stage = Stage::Nonce;
                shared.record(Event::Failed { conn, stage, error });
                shared.record(Event::Closed { conn });
            }
        }
    }
}
