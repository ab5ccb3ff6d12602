//! A fake Telegram DC for the proxy's direct mode (README "Direct mode"):
//! accepts obfuscated2 connections (127.0.0.1:0 unless told another
//! address) with the secret-less key derivation (docs/PROTOCOL.md §1.3),
//! checks the 64-byte header (transport tag), and answers as its
//! [`DcBehaviour`] says: echo every received byte back re-encrypted (the
//! transport framing reads the same both ways, so a test client gets its
//! own packets back), or one packet of N bytes per packet received (a sink
//! for upload and a source for download in `make perf`). It records each
//! connection's DC id, tag and (if asked) decrypted bytes, can push
//! unsolicited bytes and close a connection on demand.

use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use mtproxy_core::net::ext_framing::{self as framing, FrameDecoder};
use mtproxy_core::net::obfs2::{self, CtrKey, HEADER_LEN};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the fake DC answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcBehaviour {
    /// Every received byte back, re-encrypted (any transport, no framing).
    Echo,
    /// One packet of this many bytes (rounded up to a multiple of 4) per
    /// whole packet received, in the connection's transport framing: small
    /// for an upload sink, large for a download source.
    ReplyBytes(usize),
}

/// Where the fake DC listens and what it does.
#[derive(Clone, Debug)]
pub struct FakeDcConfig {
    pub bind: SocketAddr,
    pub behaviour: DcBehaviour,
    /// Keep each connection's decrypted bytes ([`DcConnection::received`]);
    /// off for load runs, where they would grow without bound.
    pub record: bool,
}

impl Default for FakeDcConfig {
    /// 127.0.0.1:0, echo, recording.
    fn default() -> FakeDcConfig {
        FakeDcConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            behaviour: DcBehaviour::Echo,
            record: true,
        }
    }
}

/// What the fake DC saw on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DcConnection {
    /// The header decoded (a transport tag under the secret-less keys).
    pub header_ok: bool,
    pub dc: i16,
    pub tag: u32,
    /// Decrypted bytes after the header (when recording).
    pub received: Vec<u8>,
    /// The proxy closed the connection.
    pub closed: bool,
}

struct Conn {
    info: DcConnection,
    /// The writing half and its cipher (echo and push share it).
    writer: Option<(TcpStream, AesContext)>,
}

struct Shared {
    behaviour: DcBehaviour,
    record: bool,
    stop: AtomicBool,
    /// One lock per connection, so a write blocked on a full socket holds
    /// up only its own connection.
    conns: Mutex<Vec<Arc<Mutex<Conn>>>>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            behaviour: DcBehaviour::Echo,
            record: true,
            stop: AtomicBool::new(false),
            conns: Mutex::default(),
        }
    }
}

/// A running fake DC; stops on drop.
pub struct FakeDc {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

fn ctr(key: &CtrKey) -> io::Result<AesContext> {
    AesContext::new(AesMode::Ctr, &key.key, &key.iv).map_err(|_| io::Error::other("bad CTR key"))
}

fn crypt(ctx: &mut AesContext, data: &mut [u8]) {
    let _ = ctx.crypt_in_place(data);
}

impl FakeDc {
    /// Echoes and records on 127.0.0.1 with a kernel-chosen port.
    pub fn start() -> io::Result<FakeDc> {
        FakeDc::start_with(FakeDcConfig::default())
    }

    pub fn start_with(config: FakeDcConfig) -> io::Result<FakeDc> {
        let listener = TcpListener::bind(config.bind)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour: config.behaviour,
            record: config.record,
            ..Shared::default()
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if acceptor_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&acceptor_shared);
                let conn = Arc::new(Mutex::new(Conn {
                    info: DcConnection::default(),
                    writer: None,
                }));
                lock(&shared.conns).push(Arc::clone(&conn));
                std::thread::spawn(move || serve(&shared, &conn, stream));
            }
        });
        Ok(FakeDc {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What every connection so far saw, in accept order.
    pub fn connections(&self) -> Vec<DcConnection> {
        let conns = lock(&self.shared.conns).clone();
        conns.iter().map(|c| lock(c).info.clone()).collect()
    }

    /// Polls until `check` holds for the connections or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, check: impl Fn(&[DcConnection]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if check(&self.connections()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `plain` (transport bytes) to the proxy on connection `index`,
    /// unsolicited; false if that connection is not open.
    pub fn push(&self, index: usize, plain: &[u8]) -> bool {
        let Some(conn) = self.conn(index) else {
            return false;
        };
        let mut conn = lock(&conn);
        let Some((stream, enc)) = conn.writer.as_mut() else {
            return false;
        };
        let mut data = plain.to_vec();
        crypt(enc, &mut data);
        stream.write_all(&data).is_ok()
    }

    /// Closes connection `index` from the DC's side.
    pub fn close(&self, index: usize) {
        if let Some((stream, _)) = self.conn(index).and_then(|c| lock(&c).writer.take()) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn conn(&self, index: usize) -> Option<Arc<Mutex<Conn>>> {
        lock(&self.shared.conns).get(index).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection: the header, then decrypt, record and echo.
fn serve(shared: &Shared, conn: &Mutex<Conn>, mut stream: TcpStream) {
    let with = |f: &mut dyn FnMut(&mut Conn)| f(&mut lock(conn));
    let mut header = [0u8; HEADER_LEN];
    let parsed = stream
        .read_exact(&mut header)
        .ok()
        .and_then(|()| obfs2::parse_header(&header, &[], false).ok());
    let ciphers = parsed.and_then(|h| Some((h, ctr(&h.read).ok()?, ctr(&h.write).ok()?)));
    let (Some((h, mut dec, enc)), Ok(writer)) = (ciphers, stream.try_clone()) else {
        with(&mut |c| c.info.closed = true);
        return;
    };
    crypt(&mut dec, &mut [0u8; HEADER_LEN]);
    with(&mut |c| {
        c.info.header_ok = true;
        c.info.dc = h.dc;
        c.info.tag = h.tag;
    });
    let mut writer = Some((writer, enc));
    with(&mut |c| c.writer = writer.take());
    let mut answer = match Answer::new(shared.behaviour, h.tag) {
        Ok(answer) => answer,
        Err(()) => {
            with(&mut |c| c.info.closed = true);
            return;
        }
    };
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = &mut buf[..n];
        crypt(&mut dec, data);
        let Ok(reply) = answer.take(data) else { break };
        let mut ok = true;
        with(&mut |c| {
            if shared.record {
                c.info.received.extend_from_slice(data);
            }
            if let Some((w, enc)) = c.writer.as_mut().filter(|_| !reply.is_empty()) {
                crypt(enc, reply);
                ok = w.write_all(reply).is_ok();
            }
        });
        if !ok {
            break;
        }
    }
    with(&mut |c| {
        c.info.closed = true;
        c.writer = None;
    });
}

/// The answers of one connection: what to send back for received bytes.
enum Answer {
    Echo(Vec<u8>),
    Reply {
        decoder: FrameDecoder,
        /// One packet taken out of the decoder (discarded).
        packet: Vec<u8>,
        /// The answer frame, plain, and the answers of one read.
        frame: Vec<u8>,
        out: Vec<u8>,
    },
}

impl Answer {
    fn new(behaviour: DcBehaviour, tag: u32) -> Result<Answer, ()> {
        let DcBehaviour::ReplyBytes(len) = behaviour else {
            return Ok(Answer::Echo(Vec::new()));
        };
        let mode = framing::mode_from_tag(tag).map_err(|_| ())?;
        let payload = vec![0x5au8; len.max(4).div_ceil(4) * 4];
        let mut frame = vec![0u8; payload.len() + framing::MAX_HEADER_LEN];
        let n = framing::encode_packet(framing::FROM_PROXY, mode, false, &payload, &[], &mut frame)
            .map_err(|_| ())?;
        frame.truncate(n);
        Ok(Answer::Reply {
            decoder: FrameDecoder::new(mode, framing::FROM_CLIENT).map_err(|_| ())?,
            packet: vec![0u8; framing::MAX_PACKET_LEN],
            frame,
            out: Vec::new(),
        })
    }

    /// The plain bytes to send back for decrypted `data`; `Err` on broken
    /// framing.
    fn take(&mut self, mut data: &[u8]) -> Result<&mut [u8], ()> {
        match self {
            Answer::Echo(out) => {
                out.clear();
                out.extend_from_slice(data);
                Ok(out)
            }
            Answer::Reply {
                decoder,
                packet,
                frame,
                out,
            } => {
                out.clear();
                while !data.is_empty() {
                    let took = decoder.feed(data).map_err(|_| ())?;
                    data = &data[took..];
                    while decoder.next_packet(packet).map_err(|_| ())?.is_some() {
                        out.extend_from_slice(frame);
                    }
                }
                Ok(out)
            }
        }
    }
}

impl Drop for FakeDc {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor out of its blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for c in lock(&self.shared.conns).iter() {
            if let Some((stream, _)) = lock(c).writer.take() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// A loopback address where a TCP connect never completes: a listener
/// that never accepts, with a one-connection queue already filled, so the
/// kernel drops every further SYN (the test of a DC that does not answer).
pub struct Unanswered {
    _listener: std::os::fd::OwnedFd,
    _filler: TcpStream,
    addr: SocketAddr,
}

impl Unanswered {
    pub fn start() -> io::Result<Unanswered> {
        use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn};
        let fd = socket::socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        socket::bind(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &SockaddrIn::new(127, 0, 0, 1, 0),
        )?;
        // Backlog 0 queues one connection; the filler takes it.
        socket::listen(&fd, Backlog::new(0).map_err(io::Error::from)?)?;
        let local: SockaddrIn = socket::getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd))?;
        let addr = SocketAddr::from((local.ip(), local.port()));
        let filler = TcpStream::connect(addr)?;
        Ok(Unanswered {
            _listener: fd,
            _filler: filler,
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_header_and_echoes_re_encrypted() {
        let dc = FakeDc::start().unwrap();
        let random = [0x42u8; HEADER_LEN];
        let h = obfs2::build_client_header(&random, None, obfs2::TAG_INTERMEDIATE, -3).unwrap();
        let mut enc = ctr(&h.encrypt).unwrap();
        let mut dec = ctr(&h.decrypt).unwrap();
        crypt(&mut enc, &mut [0u8; HEADER_LEN]);
        let mut s = TcpStream::connect(dc.addr()).unwrap();
        s.write_all(&h.header).unwrap();
        let mut data = b"\x04\0\0\0ping".to_vec();
        crypt(&mut enc, &mut data);
        s.write_all(&data).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut back = [0u8; 8];
        s.read_exact(&mut back).unwrap();
        crypt(&mut dec, &mut back);
        assert_eq!(&back, b"\x04\0\0\0ping");
        assert!(dc.push(0, b"\x01\0\0\0x"));
        let mut pushed = [0u8; 5];
        s.read_exact(&mut pushed).unwrap();
        crypt(&mut dec, &mut pushed);
        assert_eq!(&pushed, b"\x01\0\0\0x");
        let seen = dc.connections();
        assert_eq!((seen[0].dc, seen[0].tag), (-3, obfs2::TAG_INTERMEDIATE));
        assert!(seen[0].header_ok);
        assert_eq!(seen[0].received, b"\x04\0\0\0ping");
        dc.close(0);
        assert_eq!(s.read(&mut back).unwrap(), 0);
    }

    #[test]
    fn reply_mode_answers_each_whole_packet_in_the_transport_framing() {
        let dc = FakeDc::start_with(FakeDcConfig {
            behaviour: DcBehaviour::ReplyBytes(10),
            record: false,
            ..FakeDcConfig::default()
        })
        .unwrap();
        let h = obfs2::build_client_header(&[7; 64], None, obfs2::TAG_ABRIDGED, 2).unwrap();
        let mut enc = ctr(&h.encrypt).unwrap();
        let mut dec = ctr(&h.decrypt).unwrap();
        crypt(&mut enc, &mut [0u8; HEADER_LEN]);
        let mut s = TcpStream::connect(dc.addr()).unwrap();
        s.write_all(&h.header).unwrap();
        // Three abridged packets (8, 4 and 508 bytes), the last one split
        // across two writes.
        let mut data = vec![2u8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 9, 9, 9, 9, 0x7f, 127, 0, 0];
        data.extend_from_slice(&[3u8; 508]);
        crypt(&mut enc, &mut data);
        s.write_all(&data[..100]).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // 10 bytes round up to 12: a 1-byte header (3) and 12 bytes each.
        let mut two = [0u8; 26];
        s.read_exact(&mut two).unwrap();
        s.write_all(&data[100..]).unwrap();
        let mut third = [0u8; 13];
        s.read_exact(&mut third).unwrap();
        crypt(&mut dec, &mut two);
        crypt(&mut dec, &mut third);
        let mut frame = vec![3u8];
        frame.extend_from_slice(&[0x5a; 12]);
        assert_eq!(
            (&two[..13], &two[13..], &third[..]),
            (&frame[..], &frame[..], &frame[..])
        );
        assert!(dc.connections()[0].received.is_empty(), "recorded");
    }

    #[test]
    fn an_unanswered_address_never_completes_a_connect() {
        let hole = Unanswered::start().unwrap();
        let attempt = TcpStream::connect_timeout(&hole.addr(), Duration::from_millis(300));
        let error = attempt.expect_err("a connect completed");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
    }

    #[test]
    fn a_header_with_a_secret_is_not_accepted() {
        let dc = FakeDc::start().unwrap();
        let h =
            obfs2::build_client_header(&[0x42; 64], Some(&[1; 16]), obfs2::TAG_PADDED, 2).unwrap();
        let mut s = TcpStream::connect(dc.addr()).unwrap();
        s.write_all(&h.header).unwrap();
        assert!(dc.wait_for(Duration::from_secs(10), |c| c.len() == 1 && c[0].closed));
        assert!(!dc.connections()[0].header_ok);
    }
}
