//! The load generator behind `mtproxy-load`: N client connections through a
//! proxy to a middle-end (normally the fake one), measured from outside.
//!
//! The engine is a few threads (`threads`, default 1), each with its own
//! edge-triggered epoll instance and a share of the connections, every
//! connection a non-blocking state machine: connect → handshake (the
//! obfuscated2 header, or the fake-TLS ClientHello / ServerHello / CCS and
//! first record) → keep `window` packets in flight (a new packet as each
//! answer arrives) → read answers. The framing, the obfuscated2 header, the
//! fake-TLS hello and records are `mtproxy_core`'s codecs, the same ones the
//! blocking [`TestClient`](crate::client::TestClient) uses. A run has two
//! phases: set-up (all connections connected and handshaken, at most
//! `connect_concurrency` handshakes in progress per thread; in idle mode
//! also one round trip each), then the measured phase of `duration`.
//!
//! Process figures come from /proc: the proxy's CPU seconds and RSS from
//! /proc/PID, the generator's own CPU seconds from /proc/self, so a report
//! shows when the generator rather than the proxy is the bottleneck.

use crate::client::{build_header, ctr_context, Transport, XorShift};
use mtproxy_core::crypto::aesni256::AesContext;
use mtproxy_core::net::{ext_framing, fake_tls, obfs2};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the connections do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send packets of `size` and read the answers (ME behaviour echo: both
    /// ways; reply:64: upload).
    Echo,
    /// Send small requests and read whatever comes back (ME behaviour
    /// reply:N gives the download size).
    Download,
    /// Connect, do one round trip, then hold the connection idle.
    Idle,
}

/// Handshakes in progress at once per thread, by default.
pub const DEFAULT_CONNECT_CONCURRENCY: usize = 64;
/// How long a connection's set-up may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes taken from a socket per read.
const READ_CHUNK: usize = 256 * 1024;
/// Longest epoll sleep: how often a thread looks at the stop flag when idle.
const POLL_MS: u16 = 20;

#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub proxy: SocketAddr,
    pub secret: String,
    pub transport: Transport,
    pub dc: i16,
    pub connections: usize,
    pub size: usize,
    /// Packets in flight per connection.
    pub window: usize,
    pub duration: Duration,
    pub mode: Mode,
    /// The proxy's pid, for CPU and memory figures.
    pub pid: Option<u32>,
    /// The middle-end's pid (normally the fake one on the same machine),
    /// for its CPU in the measured phase.
    pub me_pid: Option<u32>,
    /// Print progress to stderr every second.
    pub progress: bool,
    /// Generator threads (each its own epoll loop); at least 1.
    pub threads: usize,
    /// Handshakes in progress at once per thread during set-up.
    pub connect_concurrency: usize,
}

impl LoadConfig {
    /// One intermediate-transport echo connection to `proxy` for 5 s,
    /// 1 KiB packets, window 1, one thread, no progress output.
    pub fn new(proxy: SocketAddr, secret: &str) -> LoadConfig {
        LoadConfig {
            proxy,
            secret: secret.to_string(),
            transport: Transport::Intermediate,
            dc: 2,
            connections: 1,
            size: 1024,
            window: 1,
            duration: Duration::from_secs(5),
            mode: Mode::Echo,
            pid: None,
            me_pid: None,
            progress: false,
            threads: 1,
            connect_concurrency: DEFAULT_CONNECT_CONCURRENCY,
        }
    }
}

/// The figures of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub connections: usize,
    pub seconds: f64,
    pub handshakes_per_sec: f64,
    /// Proxy CPU milliseconds per connection set-up (handshake plus, in
    /// idle mode, the first round trip).
    pub handshake_cpu_ms: Option<f64>,
    /// Request bytes whose answer arrived in the measured phase.
    pub up_bytes: u64,
    /// Answer bytes received in the measured phase.
    pub down_bytes: u64,
    pub up_mb_per_sec: f64,
    pub down_mb_per_sec: f64,
    /// Answers received in the measured phase.
    pub round_trips: u64,
    pub rtt_p50_us: u64,
    pub rtt_p99_us: u64,
    pub errors: u64,
    /// Proxy CPU seconds (user + system) during the measured phase.
    pub proxy_cpu_seconds: Option<f64>,
    /// Proxy CPU seconds per GB relayed (both directions counted).
    pub cpu_seconds_per_gb: Option<f64>,
    /// The part of it spent in the kernel (system time): TCP and wake-ups.
    pub kernel_seconds_per_gb: Option<f64>,
    pub proxy_rss_kib_before: Option<u64>,
    pub proxy_rss_kib_after: Option<u64>,
    /// (RSS after connecting − before) / connections, in bytes.
    pub rss_bytes_per_connection: Option<f64>,
    /// Generator threads.
    pub threads: usize,
    /// The proxy's system time in the measured phase.
    pub proxy_kernel_seconds: Option<f64>,
    /// The generator's own CPU seconds (user + system, all its threads)
    /// in the measured phase.
    pub generator_cpu_s: f64,
    /// The system part of `generator_cpu_s`.
    pub generator_kernel_s: f64,
    /// `generator_cpu_s` per GB (both directions).
    pub generator_cpu_s_per_gb: Option<f64>,
    /// The generator's CPU milliseconds per connection set-up.
    pub generator_handshake_cpu_ms: f64,
    /// The middle-end's CPU seconds in the measured phase (with `me_pid`).
    pub me_cpu_s: Option<f64>,
}

/// A packet the proxy forwards (§3.1), `len` rounded up to a multiple of 4
/// and at least 56, stamped with `seq`.
pub fn load_packet(len: usize, seq: u64) -> Vec<u8> {
    let mut p = vec![0x5au8; packet_len(len)];
    stamp(&mut p, seq);
    p
}

fn packet_len(len: usize) -> usize {
    len.max(56).div_ceil(4) * 4
}

fn stamp(packet: &mut [u8], seq: u64) {
    if let Some(head) = packet.first_chunk_mut::<8>() {
        *head = (seq | 1 << 63).to_le_bytes();
    }
}

/// User + system CPU seconds of a process, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    user_and_system_seconds(pid).map(|(user, system)| user + system)
}

/// (user, system) CPU seconds of a process, from /proc/PID/stat.
pub fn user_and_system_seconds(pid: u32) -> Option<(f64, f64)> {
    stat_seconds(&format!("/proc/{pid}/stat"))
}

/// (user, system) CPU seconds of this process, all threads, from
/// /proc/self/stat; (0, 0) if unreadable.
pub fn own_cpu_seconds() -> (f64, f64) {
    stat_seconds("/proc/self/stat").unwrap_or((0.0, 0.0))
}

fn stat_seconds(path: &str) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / clock_ticks(), stime / clock_ticks()))
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux ABI this runs on.
    100.0
}

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Where a connection is.
enum State {
    /// Non-blocking connect in progress (the handshake bytes are queued).
    Connecting,
    /// Fake TLS: ClientHello sent, waiting for the ServerHello flight.
    AwaitHello(Box<TlsPending>),
    /// Handshake sent; packets flow.
    Ready,
}

struct TlsPending {
    key: [u8; obfs2::SECRET_LEN],
    client_random: [u8; 32],
    session_id: [u8; 32],
    /// The obfuscated2 header, sent in the first record after the CCS.
    header: [u8; obfs2::HEADER_LEN],
    flight: Vec<u8>,
}

struct Conn {
    /// `None` once the connection failed (closed).
    stream: Option<TcpStream>,
    state: State,
    mode: i32,
    encrypt: AesContext,
    decrypt: AesContext,
    records: Option<fake_tls::RecordReader>,
    decoder: ext_framing::FrameDecoder,
    /// Bytes to send; `out[out_at..]` not yet written.
    out: Vec<u8>,
    out_at: usize,
    /// Writes may succeed (no EAGAIN or short write since the last EPOLLOUT).
    writable: bool,
    /// Packets sent whose answer has not arrived.
    in_flight: usize,
    sent_total: u64,
    answers: u64,
    seq: u64,
    /// When the last packet was queued (RTT with window 1).
    sent_at: Instant,
    started: Instant,
    setup_done: bool,
}

impl Conn {
    fn alive(&self) -> bool {
        self.stream.is_some()
    }
}

/// Reusable buffers of one thread.
struct Scratch {
    read: Vec<u8>,
    plain: Vec<u8>,
    /// A decoded answer (room for the longest; pages untouched until used).
    packet: Vec<u8>,
    /// The request payload template.
    payload: Vec<u8>,
    frame: Vec<u8>,
    rng: XorShift,
}

/// Figures a thread gathers in the measured phase.
#[derive(Default)]
struct Counts {
    up: u64,
    down: u64,
    round_trips: u64,
    errors: u64,
}

/// What the threads share.
struct Shared<'a> {
    config: &'a LoadConfig,
    secret: obfs2::Secret,
    request_len: usize,
    /// Set-up finished on every thread (or failed): the main thread measures.
    setup_barrier: Barrier,
    /// The measured phase starts.
    start_barrier: Barrier,
    stop: AtomicBool,
    abort: AtomicBool,
    first_error: Mutex<Option<String>>,
    up: AtomicU64,
    down: AtomicU64,
    errors: AtomicU64,
}

impl Shared<'_> {
    fn fail(&self, message: String) {
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(message);
        }
        self.abort.store(true, Ordering::Relaxed);
    }
}

/// What one thread hands back.
struct ThreadResult {
    counts: Counts,
    rtts: Vec<u64>,
    setup_done_at: Instant,
}

/// Starts a non-blocking connect.
fn start_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket::socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let stream = TcpStream::from(fd);
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A new connection, connecting, with its handshake bytes queued, and for
/// fake TLS what the ServerHello check needs.
type NewConn = (Conn, Option<Box<TlsPending>>);

fn new_conn(shared: &Shared, rng: &mut XorShift, id: u64) -> Result<NewConn, String> {
    let config = shared.config;
    let secret = &shared.secret;
    let fake_tls = secret.kind == obfs2::SECRET_FAKE_TLS;
    let transport = if fake_tls {
        Transport::Padded
    } else {
        config.transport
    };
    let header = build_header(rng, Some(&secret.key), transport.tag(), config.dc)
        .map_err(|e| e.to_string())?;
    let mut encrypt = ctr_context(&header.encrypt).map_err(|e| e.to_string())?;
    // The header was encrypted with the first 64 keystream bytes.
    encrypt
        .crypt_in_place(&mut [0; obfs2::HEADER_LEN])
        .map_err(|_| "crypto".to_string())?;
    let decrypt = ctr_context(&header.decrypt).map_err(|e| e.to_string())?;
    let (out, tls) = if fake_tls {
        let domain = secret.domain.get(..secret.domain_len).unwrap_or_default();
        let mut hello = vec![0u8; fake_tls::MIN_CLIENT_HELLO];
        let mut random = [0u8; 64];
        rng.fill(&mut random);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let len = fake_tls::build_client_hello(
            &secret.key,
            domain,
            now as u32,
            &random,
            hello.len(),
            &mut hello,
        )
        .map_err(|code| format!("ClientHello: error {code}"))?;
        hello.truncate(len);
        let field = |at: usize| {
            let mut v = [0u8; 32];
            if let Some(src) = hello.get(at..at + 32) {
                v.copy_from_slice(src);
            }
            v
        };
        let pending = TlsPending {
            key: secret.key,
            client_random: field(fake_tls::RANDOM_OFFSET),
            session_id: field(fake_tls::SESSION_ID_OFFSET),
            header: header.header,
            flight: Vec::new(),
        };
        (hello, Some(pending))
    } else {
        (header.header.to_vec(), None)
    };
    let stream = start_connect(config.proxy).map_err(|e| format!("connect: {e}"))?;
    let now = Instant::now();
    let conn = Conn {
        stream: Some(stream),
        state: State::Connecting,
        mode: transport.framing_mode(),
        encrypt,
        decrypt,
        records: None,
        decoder: ext_framing::FrameDecoder::new(transport.framing_mode(), ext_framing::FROM_PROXY)
            .map_err(|code| format!("framing: error {code}"))?,
        out,
        out_at: 0,
        writable: false,
        in_flight: 0,
        sent_total: 0,
        answers: 0,
        seq: id << 32,
        sent_at: now,
        started: now,
        setup_done: false,
    };
    Ok((conn, tls.map(Box::new)))
}

/// One thread's connections and loop.
struct Worker<'s, 'a> {
    shared: &'s Shared<'a>,
    epoll: Epoll,
    conns: Vec<Conn>,
    /// Fake-TLS hello state of connections still connecting, by index.
    tls_waiting: Vec<Option<Box<TlsPending>>>,
    scratch: Scratch,
    counts: Counts,
    rtts: Vec<u64>,
    measuring: bool,
    /// Connections in the measured phase's reach (set-up complete, alive).
    setup_done: usize,
}

impl<'s, 'a> Worker<'s, 'a> {
    fn new(shared: &'s Shared<'a>) -> io::Result<Self> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let max_request = shared.request_len;
        Ok(Worker {
            shared,
            epoll,
            conns: Vec::new(),
            tls_waiting: Vec::new(),
            scratch: Scratch {
                read: vec![0; READ_CHUNK],
                plain: vec![0; READ_CHUNK],
                packet: vec![0; ext_framing::MAX_ANSWER_LEN],
                payload: vec![0x5a; max_request],
                frame: vec![
                    0;
                    ext_framing::MAX_HEADER_LEN
                        + max_request
                        + ext_framing::MAX_CLIENT_PADDING
                ],
                rng: XorShift::from_entropy(),
            },
            counts: Counts::default(),
            rtts: Vec::new(),
            measuring: false,
            setup_done: 0,
        })
    }

    fn open(&mut self, id: u64) -> Result<(), String> {
        let (conn, tls) = new_conn(self.shared, &mut self.scratch.rng, id)?;
        let index = self.conns.len();
        if let Some(stream) = &conn.stream {
            let flags = EpollFlags::EPOLLIN
                | EpollFlags::EPOLLOUT
                | EpollFlags::EPOLLRDHUP
                | EpollFlags::EPOLLET;
            self.epoll
                .add(stream, EpollEvent::new(flags, index as u64))
                .map_err(|e| format!("epoll: {e}"))?;
        }
        self.conns.push(conn);
        self.tls_waiting.push(tls);
        Ok(())
    }

    /// May `conn` queue another request now?
    fn may_send(&self, conn: &Conn) -> bool {
        let config = self.shared.config;
        match (self.measuring, config.mode) {
            (false, Mode::Idle) => conn.sent_total == 0,
            (false, _) | (true, Mode::Idle) => false,
            (true, _) => {
                conn.in_flight < config.window && !self.shared.stop.load(Ordering::Relaxed)
            }
        }
    }

    /// Handles one epoll report for connection `index`.
    fn handle(&mut self, index: usize, flags: EpollFlags) -> Result<(), String> {
        let Some(conn) = self.conns.get_mut(index) else {
            return Ok(());
        };
        let Some(stream) = &conn.stream else {
            return Ok(());
        };
        if matches!(conn.state, State::Connecting) {
            if !flags.intersects(EpollFlags::EPOLLOUT | EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP)
            {
                return Ok(());
            }
            if let Some(error) = stream.take_error().map_err(|e| e.to_string())? {
                return Err(format!("connect: {error}"));
            }
            conn.state = match self.tls_waiting.get_mut(index).and_then(Option::take) {
                Some(pending) => State::AwaitHello(pending),
                None => State::Ready,
            };
            conn.writable = true;
        } else if flags.contains(EpollFlags::EPOLLERR) {
            let error = stream.take_error().map_err(|e| e.to_string())?;
            return Err(format!("socket error {error:?}"));
        }
        if flags.contains(EpollFlags::EPOLLOUT) {
            conn.writable = true;
        }
        if flags.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP | EpollFlags::EPOLLHUP) {
            self.read_all(index)?;
        }
        self.pump(index)
    }

    /// Reads until the socket has no more (a short read or EAGAIN).
    fn read_all(&mut self, index: usize) -> Result<(), String> {
        loop {
            let Some(conn) = self.conns.get_mut(index) else {
                return Ok(());
            };
            let Some(stream) = conn.stream.as_mut() else {
                return Ok(());
            };
            let n = match stream.read(&mut self.scratch.read) {
                Ok(0) => return Err("closed by the proxy".into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read: {e}")),
            };
            self.take_input(index, n)?;
            if n < self.scratch.read.len() {
                return Ok(());
            }
        }
    }

    /// Processes `scratch.read[..n]`, just read from connection `index`.
    fn take_input(&mut self, index: usize, n: usize) -> Result<(), String> {
        let Some(conn) = self.conns.get_mut(index) else {
            return Ok(());
        };
        let input = self.scratch.read.get(..n).unwrap_or_default();
        if let State::AwaitHello(pending) = &mut conn.state {
            pending.flight.extend_from_slice(input);
            let info = match fake_tls::parse_server_hello(
                &pending.flight,
                &pending.client_random,
                &pending.session_id,
                &pending.key,
            ) {
                Ok(info) => info,
                Err(fake_tls::ERR_NEED_MORE) => return Ok(()),
                Err(code) => return Err(format!("ServerHello: error {code}")),
            };
            let flight = std::mem::take(&mut pending.flight);
            let header = pending.header;
            conn.state = State::Ready;
            conn.records = Some(fake_tls::RecordReader::new(false));
            // The CCS, then the first record with the obfuscated2 header.
            let start = conn.out.len();
            conn.out
                .resize(start + 6 + fake_tls::wrapped_len(header.len()), 0);
            conn.out[start..start + 6].copy_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
            fake_tls::wrap_records(&header, &mut conn.out[start + 6..])
                .map_err(|code| format!("records: error {code}"))?;
            let rest = flight.get(info.total_len..).unwrap_or_default();
            return self.take_records(index, rest);
        }
        if conn.records.is_some() {
            let input = std::mem::take(&mut self.scratch.read);
            let result = self.take_records(index, input.get(..n).unwrap_or_default());
            self.scratch.read = input;
            return result;
        }
        let data = self.scratch.read.get_mut(..n).unwrap_or_default();
        conn.decrypt
            .crypt_in_place(data)
            .map_err(|_| "decrypt".to_string())?;
        let data = std::mem::take(&mut self.scratch.read);
        let result = self.decode(index, data.get(..n).unwrap_or_default());
        self.scratch.read = data;
        result
    }

    /// Unwraps fake-TLS record bytes, decrypts and decodes their payload.
    fn take_records(&mut self, index: usize, mut input: &[u8]) -> Result<(), String> {
        let mut plain = std::mem::take(&mut self.scratch.plain);
        let result = (|| {
            while !input.is_empty() {
                let Some(conn) = self.conns.get_mut(index) else {
                    return Ok(());
                };
                let Some(records) = conn.records.as_mut() else {
                    return Ok(());
                };
                let (consumed, produced) = records
                    .feed(input, &mut plain)
                    .map_err(|code| format!("records: error {code}"))?;
                let chunk = plain.get_mut(..produced).unwrap_or_default();
                conn.decrypt
                    .crypt_in_place(chunk)
                    .map_err(|_| "decrypt".to_string())?;
                self.decode(index, plain.get(..produced).unwrap_or_default())?;
                input = input.get(consumed..).unwrap_or_default();
            }
            Ok(())
        })();
        self.scratch.plain = plain;
        result
    }

    /// Feeds decrypted stream bytes to the decoder and takes the answers.
    fn decode(&mut self, index: usize, mut data: &[u8]) -> Result<(), String> {
        let window_one = self.shared.config.window == 1;
        let request_len = self.shared.request_len as u64;
        let Some(conn) = self.conns.get_mut(index) else {
            return Ok(());
        };
        loop {
            let took = conn
                .decoder
                .feed(data)
                .map_err(|code| format!("framing: error {code}"))?;
            data = data.get(took..).unwrap_or_default();
            let mut taken = 0;
            while let Some(info) = conn
                .decoder
                .next_packet(&mut self.scratch.packet)
                .map_err(|code| format!("framing: error {code}"))?
            {
                taken += 1;
                if info.quick_ack {
                    continue;
                }
                conn.in_flight = conn.in_flight.saturating_sub(1);
                conn.answers += 1;
                if self.measuring {
                    // Upload counts requests answered (delivered), not
                    // bytes handed to the kernel: a deep window would
                    // otherwise count megabytes never relayed.
                    self.counts.up += request_len;
                    self.counts.down += info.length as u64;
                    self.counts.round_trips += 1;
                    if window_one {
                        self.rtts.push(conn.sent_at.elapsed().as_micros() as u64);
                    }
                }
            }
            if data.is_empty() {
                return Ok(());
            }
            if took == 0 && taken == 0 {
                return Err("framing: decoder stuck".into());
            }
        }
    }

    /// Queues requests as allowed and writes until the socket is full.
    fn pump(&mut self, index: usize) -> Result<(), String> {
        loop {
            let Some(conn) = self.conns.get(index) else {
                return Ok(());
            };
            if conn.out_at >= conn.out.len() {
                let ready = matches!(conn.state, State::Ready);
                if !(ready && self.may_send(conn)) {
                    break;
                }
                self.queue_request(index)?;
            }
            let Some(conn) = self.conns.get_mut(index) else {
                return Ok(());
            };
            if !conn.writable || matches!(conn.state, State::Connecting) {
                break;
            }
            let Some(stream) = conn.stream.as_mut() else {
                return Ok(());
            };
            let pending = conn.out.get(conn.out_at..).unwrap_or_default();
            match stream.write(pending) {
                Ok(0) => return Err("write returned 0".into()),
                Ok(n) => {
                    conn.out_at += n;
                    if conn.out_at >= conn.out.len() {
                        conn.out.clear();
                        conn.out_at = 0;
                    } else {
                        // A short write: the send buffer is full and the
                        // kernel will report EPOLLOUT when it has room.
                        conn.writable = false;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.writable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        self.check_setup(index);
        Ok(())
    }

    /// Frames, encrypts (and wraps) one request into the connection's output.
    fn queue_request(&mut self, index: usize) -> Result<(), String> {
        let len = self.shared.request_len;
        let scratch = &mut self.scratch;
        let Some(conn) = self.conns.get_mut(index) else {
            return Ok(());
        };
        conn.seq += 1;
        let payload = scratch.payload.get_mut(..len).unwrap_or_default();
        stamp(payload, conn.seq);
        let mut padding = [0u8; 3];
        let padding_len = if conn.mode == ext_framing::MODE_PADDED {
            scratch.rng.fill(&mut padding);
            scratch.rng.below_or_eq(padding.len())
        } else {
            0
        };
        let padding = padding.get(..padding_len).unwrap_or_default();
        let frame = &mut scratch.frame;
        let n = ext_framing::encode_packet(
            ext_framing::FROM_CLIENT,
            conn.mode,
            false,
            payload,
            padding,
            frame,
        )
        .map_err(|code| format!("framing: error {code}"))?;
        let frame = frame.get_mut(..n).unwrap_or_default();
        conn.encrypt
            .crypt_in_place(frame)
            .map_err(|_| "encrypt".to_string())?;
        if conn.records.is_some() {
            let start = conn.out.len();
            conn.out.resize(start + fake_tls::wrapped_len(n), 0);
            fake_tls::wrap_records(frame, &mut conn.out[start..])
                .map_err(|code| format!("records: error {code}"))?;
        } else {
            conn.out.extend_from_slice(frame);
        }
        conn.in_flight += 1;
        conn.sent_total += 1;
        conn.sent_at = Instant::now();
        Ok(())
    }

    /// Marks a connection's set-up complete when it is.
    fn check_setup(&mut self, index: usize) {
        let idle = self.shared.config.mode == Mode::Idle;
        let Some(conn) = self.conns.get_mut(index) else {
            return;
        };
        if conn.setup_done || !conn.alive() {
            return;
        }
        let done = if idle {
            conn.answers >= 1
        } else {
            matches!(conn.state, State::Ready) && conn.out_at >= conn.out.len()
        };
        if done {
            conn.setup_done = true;
            self.setup_done += 1;
        }
    }

    /// Closes a failed connection.
    fn kill(&mut self, index: usize) {
        if let Some(conn) = self.conns.get_mut(index) {
            if let Some(stream) = conn.stream.take() {
                let _ = self.epoll.delete(&stream);
            }
            if conn.setup_done {
                self.setup_done = self.setup_done.saturating_sub(1);
            }
        }
    }

    /// One epoll wait and its events; `Err` is the first failure in set-up.
    fn poll_once(&mut self, events: &mut [EpollEvent], timeout_ms: u16) -> Result<(), String> {
        let n = match self.epoll.wait(events, EpollTimeout::from(timeout_ms)) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(format!("epoll_wait: {e}")),
        };
        for event in events.iter().take(n) {
            let index = event.data() as usize;
            if let Err(message) = self.handle(index, event.events()) {
                if !self.measuring {
                    return Err(format!("connection {index}: {message}"));
                }
                self.counts.errors += 1;
                self.kill(index);
            }
        }
        Ok(())
    }

    /// Set-up: opens `ids` with at most `connect_concurrency` handshakes in
    /// progress; returns when all are done, or the first failure.
    fn setup(&mut self, ids: &[u64]) -> Result<(), String> {
        let shared = self.shared;
        let concurrency = shared.config.connect_concurrency.max(1);
        let mut events = vec![EpollEvent::empty(); 1024];
        let mut last_check = Instant::now();
        let mut reported = 0;
        while self.setup_done < ids.len() {
            if shared.abort.load(Ordering::Relaxed) {
                return Ok(());
            }
            while self.conns.len() < ids.len() && self.conns.len() - self.setup_done < concurrency {
                let id = ids[self.conns.len()];
                self.open(id)?;
            }
            self.poll_once(&mut events, POLL_MS)?;
            if last_check.elapsed() >= Duration::from_millis(100) {
                last_check = Instant::now();
                if let Some((i, _)) = self
                    .conns
                    .iter()
                    .enumerate()
                    .find(|(_, c)| !c.setup_done && c.started.elapsed() > SETUP_TIMEOUT)
                {
                    return Err(format!("connection {i}: set-up timed out"));
                }
            }
            if shared.config.progress && self.setup_done / 1000 > reported {
                reported = self.setup_done / 1000;
                eprintln!("mtproxy-load: {} connections up", self.setup_done);
            }
        }
        Ok(())
    }

    /// The measured phase: keeps every connection's window full until stop.
    fn measure(&mut self) {
        let shared = self.shared;
        self.measuring = true;
        for index in 0..self.conns.len() {
            if let Err(_message) = self.pump(index) {
                self.counts.errors += 1;
                self.kill(index);
            }
        }
        let mut events = vec![EpollEvent::empty(); 1024];
        let mut published = (0, 0, 0);
        while !shared.stop.load(Ordering::Relaxed) {
            // Cannot fail in the measured phase: errors are counted.
            let _ = self.poll_once(&mut events, POLL_MS);
            let now = (self.counts.up, self.counts.down, self.counts.errors);
            shared.up.fetch_add(now.0 - published.0, Ordering::Relaxed);
            shared
                .down
                .fetch_add(now.1 - published.1, Ordering::Relaxed);
            shared
                .errors
                .fetch_add(now.2 - published.2, Ordering::Relaxed);
            published = now;
        }
    }
}

/// One generator thread: set-up, barrier, measured phase.
fn worker(shared: &Shared, ids: &[u64]) -> ThreadResult {
    let mut result = ThreadResult {
        counts: Counts::default(),
        rtts: Vec::new(),
        setup_done_at: Instant::now(),
    };
    let mut worker = match Worker::new(shared) {
        Ok(worker) => Some(worker),
        Err(e) => {
            shared.fail(format!("epoll: {e}"));
            None
        }
    };
    if let Some(w) = worker.as_mut() {
        if let Err(message) = w.setup(ids) {
            shared.fail(message);
        }
    }
    result.setup_done_at = Instant::now();
    shared.setup_barrier.wait();
    shared.start_barrier.wait();
    if shared.abort.load(Ordering::Relaxed) {
        return result;
    }
    if let Some(mut w) = worker {
        w.measure();
        result.counts = std::mem::take(&mut w.counts);
        result.rtts = std::mem::take(&mut w.rtts);
    }
    result
}

/// Runs the load and returns the report.
pub fn run(config: &LoadConfig) -> Result<Report, String> {
    let secret = obfs2::parse_secret(config.secret.as_bytes())
        .map_err(|_| "the secret is in none of the accepted forms".to_string())?;
    let threads = config.threads.clamp(1, config.connections.max(1));
    let request_len = packet_len(match config.mode {
        Mode::Echo => config.size,
        Mode::Download | Mode::Idle => 64,
    });
    let shared = Shared {
        config,
        secret,
        request_len,
        setup_barrier: Barrier::new(threads + 1),
        start_barrier: Barrier::new(threads + 1),
        stop: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        first_error: Mutex::new(None),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    };
    // Connection ids dealt round-robin to the threads.
    let ids: Vec<Vec<u64>> = (0..threads)
        .map(|t| {
            (t..config.connections)
                .step_by(threads)
                .map(|i| i as u64)
                .collect()
        })
        .collect();
    let mut report = Report {
        connections: config.connections,
        threads,
        ..Report::default()
    };
    report.proxy_rss_kib_before = config.pid.and_then(rss_kib);
    let proxy_cpu = || config.pid.and_then(user_and_system_seconds);
    let setup_proxy_cpu = proxy_cpu();
    let setup_own_cpu = own_cpu_seconds();
    let setup_start = Instant::now();
    let (results, measured) = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .iter()
            .map(|ids| {
                let shared = &shared;
                scope.spawn(move || worker(shared, ids))
            })
            .collect();
        shared.setup_barrier.wait();
        // Set-up figures.
        let setup_end_cpu = proxy_cpu();
        let setup_end_own = own_cpu_seconds();
        let mut measured = Measured {
            setup_proxy_cpu: setup_proxy_cpu
                .zip(setup_end_cpu)
                .map(|(a, b)| cpu_delta(a, b)),
            setup_own_cpu: cpu_delta(setup_own_cpu, setup_end_own),
            ..Measured::default()
        };
        if config.mode == Mode::Idle {
            measured.rss_after_setup = config.pid.and_then(rss_kib);
        }
        let aborted = shared.abort.load(Ordering::Relaxed);
        let before = proxy_cpu();
        let me_before = config.me_pid.and_then(cpu_seconds);
        let own_before = own_cpu_seconds();
        let started = Instant::now();
        shared.start_barrier.wait();
        if !aborted {
            let mut last = Instant::now();
            while started.elapsed() < config.duration {
                let left = config.duration.saturating_sub(started.elapsed());
                std::thread::sleep(left.min(Duration::from_millis(100)));
                if config.progress && last.elapsed() >= Duration::from_secs(1) {
                    last = Instant::now();
                    eprintln!(
                        "mtproxy-load: {:.0}s up {:.1} MB down {:.1} MB errors {}",
                        started.elapsed().as_secs_f64(),
                        shared.up.load(Ordering::Relaxed) as f64 / 1e6,
                        shared.down.load(Ordering::Relaxed) as f64 / 1e6,
                        shared.errors.load(Ordering::Relaxed)
                    );
                }
            }
        }
        shared.stop.store(true, Ordering::Relaxed);
        measured.seconds = started.elapsed().as_secs_f64();
        measured.proxy_cpu = before.zip(proxy_cpu()).map(|(a, b)| (b.0 - a.0, b.1 - a.1));
        measured.me_cpu = me_before
            .zip(config.me_pid.and_then(cpu_seconds))
            .map(|(a, b)| b - a);
        let own_after = own_cpu_seconds();
        measured.own_cpu = (own_after.0 - own_before.0, own_after.1 - own_before.1);
        let results: Vec<ThreadResult> =
            handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (results, measured)
    });
    if let Some(message) = shared.first_error.lock().ok().and_then(|e| e.clone()) {
        return Err(message);
    }
    if results.len() != threads {
        return Err("a generator thread panicked".into());
    }
    let setup_end = results
        .iter()
        .map(|r| r.setup_done_at)
        .max()
        .unwrap_or(setup_start);
    let setup_secs = setup_end.duration_since(setup_start).as_secs_f64();
    let n = config.connections.max(1) as f64;
    report.handshakes_per_sec = config.connections as f64 / setup_secs.max(1e-9);
    report.handshake_cpu_ms = measured.setup_proxy_cpu.map(|cpu| cpu * 1e3 / n);
    report.generator_handshake_cpu_ms = measured.setup_own_cpu * 1e3 / n;
    let mut rtts = Vec::new();
    for result in results {
        report.up_bytes += result.counts.up;
        report.down_bytes += result.counts.down;
        report.round_trips += result.counts.round_trips;
        report.errors += result.counts.errors;
        rtts.extend(result.rtts);
    }
    let seconds = measured.seconds;
    report.seconds = seconds;
    report.up_mb_per_sec = report.up_bytes as f64 / 1e6 / seconds.max(1e-9);
    report.down_mb_per_sec = report.down_bytes as f64 / 1e6 / seconds.max(1e-9);
    rtts.sort_unstable();
    report.rtt_p50_us = percentile(&rtts, 0.50);
    report.rtt_p99_us = percentile(&rtts, 0.99);
    let gb = (report.up_bytes + report.down_bytes) as f64 / 1e9;
    if let Some((user, system)) = measured.proxy_cpu {
        report.proxy_cpu_seconds = Some(user + system);
        report.proxy_kernel_seconds = Some(system);
        if gb > 0.0 {
            report.cpu_seconds_per_gb = Some((user + system) / gb);
            report.kernel_seconds_per_gb = Some(system / gb);
        }
    }
    report.me_cpu_s = measured.me_cpu;
    report.generator_cpu_s = measured.own_cpu.0 + measured.own_cpu.1;
    report.generator_kernel_s = measured.own_cpu.1;
    if gb > 0.0 {
        report.generator_cpu_s_per_gb = Some(report.generator_cpu_s / gb);
    }
    if config.mode == Mode::Idle {
        report.proxy_rss_kib_after = measured.rss_after_setup;
        if let (Some(before), Some(after)) =
            (report.proxy_rss_kib_before, report.proxy_rss_kib_after)
        {
            report.rss_bytes_per_connection =
                Some((after.saturating_sub(before) * 1024) as f64 / n);
        }
    } else {
        report.proxy_rss_kib_after = config.pid.and_then(rss_kib);
    }
    Ok(report)
}

/// Figures the main thread takes at the phase boundaries.
#[derive(Default)]
struct Measured {
    setup_proxy_cpu: Option<f64>,
    setup_own_cpu: f64,
    rss_after_setup: Option<u64>,
    seconds: f64,
    /// The proxy's (user, system) seconds in the measured phase.
    proxy_cpu: Option<(f64, f64)>,
    own_cpu: (f64, f64),
    me_cpu: Option<f64>,
}

fn cpu_delta(a: (f64, f64), b: (f64, f64)) -> f64 {
    (b.0 - a.0) + (b.1 - a.1)
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "null".to_string(), |v| v.to_string())
}

impl Report {
    /// One JSON object (no external serializer: the fields are numbers).
    /// The generator's figures come last, after the fields older readers
    /// know.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"connections\":{},\"seconds\":{:.3},\"handshakes_per_sec\":{:.1},\"handshake_cpu_ms\":{},\"up_bytes\":{},\"down_bytes\":{},\"up_mb_per_sec\":{:.2},\"down_mb_per_sec\":{:.2},\"round_trips\":{},\"rtt_p50_us\":{},\"rtt_p99_us\":{},\"errors\":{},\"proxy_cpu_seconds\":{},\"cpu_seconds_per_gb\":{},\"kernel_seconds_per_gb\":{},\"proxy_rss_kib_before\":{},\"proxy_rss_kib_after\":{},\"rss_bytes_per_connection\":{},\"threads\":{},\"proxy_kernel_seconds\":{},\"generator_cpu_s\":{:.3},\"generator_kernel_s\":{:.3},\"generator_cpu_s_per_gb\":{},\"generator_handshake_cpu_ms\":{:.4},\"me_cpu_s\":{}}}",
            self.connections,
            self.seconds,
            self.handshakes_per_sec,
            opt(&self.handshake_cpu_ms.map(|v| format!("{v:.4}"))),
            self.up_bytes,
            self.down_bytes,
            self.up_mb_per_sec,
            self.down_mb_per_sec,
            self.round_trips,
            self.rtt_p50_us,
            self.rtt_p99_us,
            self.errors,
            opt(&self.proxy_cpu_seconds.map(|v| format!("{v:.3}"))),
            opt(&self.cpu_seconds_per_gb.map(|v| format!("{v:.3}"))),
            opt(&self.kernel_seconds_per_gb.map(|v| format!("{v:.3}"))),
            opt(&self.proxy_rss_kib_before),
            opt(&self.proxy_rss_kib_after),
            opt(&self.rss_bytes_per_connection.map(|v| format!("{v:.0}"))),
            self.threads,
            opt(&self.proxy_kernel_seconds.map(|v| format!("{v:.3}"))),
            self.generator_cpu_s,
            self.generator_kernel_s,
            opt(&self.generator_cpu_s_per_gb.map(|v| format!("{v:.3}"))),
            self.generator_handshake_cpu_ms,
            opt(&self.me_cpu_s.map(|v| format!("{v:.3}"))),
        )
    }

    /// A human-readable table.
    pub fn to_table(&self) -> String {
        let mut rows = vec![
            ("connections", self.connections.to_string()),
            ("seconds", format!("{:.2}", self.seconds)),
            ("handshakes/s", format!("{:.0}", self.handshakes_per_sec)),
            ("upload MB/s", format!("{:.2}", self.up_mb_per_sec)),
            ("download MB/s", format!("{:.2}", self.down_mb_per_sec)),
            ("round trips", self.round_trips.to_string()),
            ("errors", self.errors.to_string()),
        ];
        // Latency is sampled only with one packet in flight (--window 1).
        if self.rtt_p99_us > 0 {
            rows.push((
                "rtt p50 / p99 (us)",
                format!("{} / {}", self.rtt_p50_us, self.rtt_p99_us),
            ));
        }
        if let Some(v) = self.handshake_cpu_ms.filter(|_| self.connections >= 100) {
            rows.push(("proxy CPU ms/handshake", format!("{v:.4}")));
        }
        if let Some(cpu) = self.proxy_cpu_seconds {
            let kernel = self.proxy_kernel_seconds.unwrap_or(0.0);
            rows.push((
                "proxy CPU s",
                format!("{cpu:.3} (user {:.3}, kernel {kernel:.3})", cpu - kernel),
            ));
        }
        if let Some(v) = self.cpu_seconds_per_gb {
            rows.push(("proxy CPU s/GB", format!("{v:.3}")));
        }
        if let Some(v) = self.kernel_seconds_per_gb {
            rows.push(("  of which kernel", format!("{v:.3}")));
        }
        if let Some(v) = self.rss_bytes_per_connection {
            rows.push(("RSS bytes/conn", format!("{v:.0}")));
        }
        rows.push((
            "generator CPU s",
            format!(
                "{:.3} (user {:.3}, kernel {:.3}; {} thread{})",
                self.generator_cpu_s,
                self.generator_cpu_s - self.generator_kernel_s,
                self.generator_kernel_s,
                self.threads,
                if self.threads == 1 { "" } else { "s" }
            ),
        ));
        if let Some(v) = self.generator_cpu_s_per_gb {
            rows.push(("generator CPU s/GB", format!("{v:.3}")));
        }
        if let Some(v) = self.me_cpu_s {
            rows.push(("middle-end CPU s", format!("{v:.3}")));
        }
        if self.connections >= 100 {
            rows.push((
                "generator ms/handshake",
                format!("{:.4}", self.generator_handshake_cpu_ms),
            ));
        }
        rows.iter().map(|(k, v)| format!("{k:<22} {v}\n")).collect()
    }
}
