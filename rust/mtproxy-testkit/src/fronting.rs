//! A fake fronting domain for the anti-probing path (docs/PROTOCOL.md §2.6): the
//! web server the proxy relays a connection to when its first bytes are not
//! a valid fake-TLS hello. It records everything each connection sent and
//! answers once with fixed bytes after the first bytes arrive.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a blocking read waits before checking for shutdown.
const READ_POLL: Duration = Duration::from_millis(200);
/// How long a write may block on a peer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one accepted connection has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainConn {
    /// Every byte received, in order.
    pub received: Vec<u8>,
    /// Whether the reply was written.
    pub replied: bool,
    /// Whether the peer closed (EOF) or the connection failed.
    pub closed: bool,
}

struct Shared {
    reply: Vec<u8>,
    stop: AtomicBool,
    conns: Mutex<Vec<DomainConn>>,
    changed: Condvar,
    /// Clones of the open connections' sockets, to close them on shutdown.
    sockets: Mutex<Vec<(usize, TcpStream)>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn update(&self, conn: usize, f: impl FnOnce(&mut DomainConn)) {
        if let Some(c) = lock(&self.conns).get_mut(conn) {
            f(c);
        }
        self.changed.notify_all();
    }
}

/// A running fake fronting domain on 127.0.0.1; stops, closes its
/// connections and joins its threads when dropped. Connections are numbered
/// from 0 in accept order.
pub struct FakeDomain {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeDomain {
    /// Binds 127.0.0.1:0 and starts accepting; every connection gets `reply`
    /// once, after its first received bytes.
    pub fn start(reply: Vec<u8>) -> io::Result<FakeDomain> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            reply,
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            sockets: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("fake-domain-accept".into())
            .spawn(move || accept_loop(&listener, &acceptor_shared))?;
        Ok(FakeDomain {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// A fixed answer that looks like the start of a TLS 1.2/1.3 server
    /// flight: a handshake record (`16 03 03`) holding a ServerHello-shaped
    /// body, then a ChangeCipherSpec record and an application-data record
    /// of filler. It is NOT real TLS (no valid key share, nothing a TLS
    /// client could finish a handshake with); it only has the framing a
    /// relayed ClientHello should get back.
    pub fn tls_like_reply() -> Vec<u8> {
        let mut body = vec![0x02, 0x00, 0x00, 0x46, 0x03, 0x03];
        body.extend((0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11))); // random
        body.push(0x20); // session id length
        body.extend((0..32u8).map(|i| i ^ 0x5a));
        body.extend([0x13, 0x01, 0x00]); // TLS_AES_128_GCM_SHA256, no compression
        let mut out = vec![0x16, 0x03, 0x03];
        out.extend((body.len() as u16).to_be_bytes());
        out.extend(body);
        out.extend([0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
        let filler: Vec<u8> = (0..64u32).map(|i| (i * 13 + 7) as u8).collect();
        out.extend([0x17, 0x03, 0x03]);
        out.extend((filler.len() as u16).to_be_bytes());
        out.extend(filler);
        out
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of every connection's record so far.
    pub fn connections(&self) -> Vec<DomainConn> {
        lock(&self.shared.conns).clone()
    }

    /// The bytes connection `conn` (from 0) has sent so far.
    pub fn received(&self, conn: usize) -> Option<Vec<u8>> {
        lock(&self.shared.conns)
            .get(conn)
            .map(|c| c.received.clone())
    }

    /// Waits until `found` returns `Some` for the connection records
    /// (checked now and after every change), or `timeout` passes (`None`).
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut found: impl FnMut(&[DomainConn]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut conns = lock(&self.shared.conns);
        loop {
            if let Some(value) = found(&conns) {
                return Some(value);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            conns = self
                .shared
                .changed
                .wait_timeout(conns, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for FakeDomain {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor out of its blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, socket) in lock(&self.shared.sockets).drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let setup = stream
            .set_read_timeout(Some(READ_POLL))
            .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true))
            .and_then(|()| stream.try_clone());
        let Ok(registered) = setup else { continue };
        let conn = {
            let mut conns = lock(&shared.conns);
            conns.push(DomainConn::default());
            conns.len() - 1
        };
        lock(&shared.sockets).push((conn, registered));
        shared.changed.notify_all();
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("fake-domain-conn-{conn}"))
            .spawn(move || serve(stream, conn, &conn_shared));
        match spawned {
            Ok(thread) => {
                let mut threads = lock(&shared.threads);
                // Finished threads need no join; dropping them detaches.
                threads.retain(|t| !t.is_finished());
                threads.push(thread);
            }
            Err(_) => {
                lock(&shared.sockets).retain(|(c, _)| *c != conn);
                shared.update(conn, |c| c.closed = true);
            }
        }
    }
}

fn serve(mut stream: TcpStream, conn: usize, shared: &Shared) {
    let mut buf = [0u8; 4096];
    let mut replied = false;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let chunk = buf.get(..n).unwrap_or_default();
                shared.update(conn, |c| c.received.extend_from_slice(chunk));
                if !replied {
                    replied = true;
                    if stream.write_all(&shared.reply).is_err() {
                        break;
                    }
                    shared.update(conn, |c| c.replied = true);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => break,
        }
    }
    // Close our end now, so the peer sees EOF, and forget the socket.
    let _ = stream.shutdown(Shutdown::Both);
    lock(&shared.sockets).retain(|(c, _)| *c != conn);
    shared.update(conn, |c| c.closed = true);
}
