//! The generator threads: one epoll loop each over its share of the
//! connections, every connection a non-blocking state machine.

use super::{stamp, LoadConfig, Mode, POLL_MS, READ_CHUNK, SETUP_TIMEOUT};
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
pub(super) struct Counts {
    pub(super) up: u64,
    pub(super) down: u64,
    pub(super) round_trips: u64,
    pub(super) errors: u64,
}

/// What the threads share.
pub(super) struct Shared<'a> {
    pub(super) config: &'a LoadConfig,
    pub(super) secret: obfs2::Secret,
    pub(super) request_len: usize,
    /// Set-up finished on every thread (or failed): the main thread measures.
    pub(super) setup_barrier: Barrier,
    /// The measured phase starts.
    pub(super) start_barrier: Barrier,
    pub(super) stop: AtomicBool,
    pub(super) abort: AtomicBool,
    pub(super) first_error: Mutex<Option<String>>,
    pub(super) up: AtomicU64,
    pub(super) down: AtomicU64,
    pub(super) errors: AtomicU64,
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
pub(super) struct ThreadResult {
    pub(super) counts: Counts,
    pub(super) rtts: Vec<u64>,
    pub(super) setup_done_at: Instant,
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
pub(super) fn worker(shared: &Shared, ids: &[u64]) -> ThreadResult {
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
