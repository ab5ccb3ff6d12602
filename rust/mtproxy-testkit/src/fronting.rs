//! A fake fronting domain for the anti-probing path (docs/PROTOCOL.md §2.6): the
//! web server the proxy relays a connection to when its first bytes are not
//! a valid fake-TLS hello, and the server the proxy probes at start-up
//! (§2.4). Two modes:
//!
//! - [`FakeDomain::start`]: records everything each connection sent and
//!   answers once with fixed bytes after the first bytes arrive.
//! - [`FakeDomain::start_tls`]: a real TLS 1.3 server (rustls, ring
//!   provider) with a generated certificate chain whose size the test picks
//!   ([`TlsOptions`]). Any SNI is accepted (one certificate for all). After
//!   the handshake it records the decrypted application data and answers it
//!   once with [`TlsOptions::reply`]. Non-TLS input fails the handshake
//!   (rustls may send an alert) and the connection is closed; it is recorded
//!   like any other.
//!
//! Both modes record, per connection, every byte received and every byte
//! sent ([`DomainConn::sent`]); in TLS mode [`DomainConn::first_flight`] is
//! what the server wrote in answer to the ClientHello, which
//! [`crate::tls::parse_server_flight`] takes apart.
//!
//! How rustls 0.23 writes its first flight (measured with
//! [`crate::tls::parse_server_flight`] by `tests/fronting.rs`, and matching
//! its source: `HandshakeFlightTls13`): the ServerHello record (`16 03 03`,
//! 122-byte body for X25519, extensions key_share then supported_versions),
//! the dummy ChangeCipherSpec record `14 03 03 00 01 01` (rustls always
//! sends it outside QUIC), then ONE `17 03 03` record holding
//! EncryptedExtensions, Certificate, CertificateVerify and Finished
//! coalesced. rustls buffers the whole encrypted flight and encrypts it as
//! one message, split only where it passes the 16 384-byte plaintext limit
//! (a full record is then 16 401 bytes: +1 content type, +16 AEAD tag). Its
//! length grows one for one with the Certificate message. Session tickets
//! (2 by default) come later, after the client's Finished, in records of
//! their own. Measured payload lengths of the app-data record(s), P-256
//! keys, X25519, TLS_AES_128_GCM_SHA256, ALPN h2 (one run; each chain is
//! freshly generated and its DER signatures vary, so ±3 bytes between runs):
//!
//! - self-signed leaf (`chain_len: 1`): 524
//! - leaf + root (the default): 897
//! - leaf + 2 intermediates + root: 1682
//! - leaf + root, `cert_padding: 4000`: 4909
//! - leaf + root, `cert_padding: 20000`: 16401 then 4530
//!
//! The same domain's record length varies by a byte or two between
//! connections: the ECDSA signature in CertificateVerify is DER, 70–72 bytes
//! (fewer with probability about 1/128). So a proxy probing it 20 times sees
//! a spread of up to 2 (rarely 3 or 4), not one fixed size (§2.4).

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
    /// Every byte sent, in order (the fixed reply; or in TLS mode the TLS
    /// records: first flight, alerts, tickets, encrypted answers).
    pub sent: Vec<u8>,
    /// TLS mode: how many bytes of `sent` the first write put out, i.e. the
    /// answer to the ClientHello (see [`DomainConn::first_flight`]).
    pub first_flight_len: Option<usize>,
    /// Whether the reply was written.
    pub replied: bool,
    /// Whether the peer closed (EOF) or the connection failed.
    pub closed: bool,
    /// TLS mode: the handshake completed.
    pub handshake_complete: bool,
    /// TLS mode: the server name the client sent.
    pub sni: Option<String>,
    /// TLS mode: decrypted application data received, in order.
    pub plaintext: Vec<u8>,
    /// TLS mode: why rustls gave up on the connection (e.g. not TLS).
    pub tls_error: Option<String>,
}

impl DomainConn {
    /// TLS mode: the bytes the server wrote in answer to the ClientHello
    /// (ServerHello record, CCS, encrypted flight); empty before that.
    pub fn first_flight(&self) -> &[u8] {
        self.first_flight_len
            .and_then(|len| self.sent.get(..len))
            .unwrap_or_default()
    }
}

/// The TLS server the fake domain plays, see [`FakeDomain::start_tls`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsOptions {
    /// Certificates sent: 1 = a self-signed leaf only, 2 = leaf and root,
    /// n = leaf, n − 2 intermediates and the root. 0 counts as 1.
    pub chain_len: usize,
    /// At least this many extra bytes in the leaf certificate (and so in the
    /// Certificate message), as extra DNS names in its subjectAltName (each
    /// name costs its length + 2; the last one may overshoot by up to 4
    /// bytes, and the enclosing DER lengths may grow by a byte or two).
    pub cert_padding: usize,
    /// ALPN protocols the server accepts, most preferred first. A client
    /// offering ALPN with no overlap gets a handshake failure, as from a real
    /// server; a client without ALPN is served anyway.
    pub alpn: Vec<Vec<u8>>,
    /// Names in the leaf certificate besides the padding (clients that check
    /// the certificate need the SNI here; any SNI is served regardless).
    pub names: Vec<String>,
    /// Sent once, encrypted, after the first application data arrives.
    pub reply: Vec<u8>,
    /// Rewrite the ServerHello on the wire so supported_versions comes before
    /// key_share (rustls writes key_share first). The handshake can then not
    /// be finished by a real client, but the flight has the other shape for
    /// probes, which only read it.
    pub swap_server_hello_extensions: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            chain_len: 2,
            cert_padding: 0,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            names: vec!["fake-domain.test".into(), "localhost".into()],
            reply: b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_vec(),
            swap_server_hello_extensions: false,
        }
    }
}

/// The TLS side of a [`FakeDomain::start_tls`] domain.
struct TlsServer {
    config: Arc<rustls::ServerConfig>,
    reply: Vec<u8>,
    swap_extensions: bool,
}

enum Mode {
    Fixed(Vec<u8>),
    Tls(TlsServer),
}

struct Shared {
    mode: Mode,
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
    chain: Vec<Vec<u8>>,
}

impl FakeDomain {
    /// Binds 127.0.0.1:0 and starts accepting; every connection gets `reply`
    /// once, after its first received bytes.
    pub fn start(reply: Vec<u8>) -> io::Result<FakeDomain> {
        FakeDomain::launch(Mode::Fixed(reply), Vec::new())
    }

    /// Binds 127.0.0.1:0 and serves TLS 1.3 on it with a freshly generated
    /// ECDSA P-256 certificate chain shaped by `options`.
    pub fn start_tls(options: TlsOptions) -> io::Result<FakeDomain> {
        let (chain, key) = generate_chain(&options).map_err(io::Error::other)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .and_then(|builder| {
                builder
                    .with_no_client_auth()
                    .with_single_cert(chain.clone(), key)
            })
            .map_err(io::Error::other)?;
        config.alpn_protocols = options.alpn;
        let tls = TlsServer {
            config: Arc::new(config),
            reply: options.reply,
            swap_extensions: options.swap_server_hello_extensions,
        };
        let chain = chain.into_iter().map(|c| c.as_ref().to_vec()).collect();
        FakeDomain::launch(Mode::Tls(tls), chain)
    }

    fn launch(mode: Mode, chain: Vec<Vec<u8>>) -> io::Result<FakeDomain> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mode,
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
            chain,
        })
    }

    /// TLS mode: the certificate chain it sends (DER, leaf first; the last
    /// one is the self-signed root, which a checking client can trust).
    /// Empty in fixed-reply mode.
    pub fn cert_chain(&self) -> &[Vec<u8>] {
        &self.chain
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
            .spawn(move || match &conn_shared.mode {
                Mode::Fixed(reply) => serve(stream, conn, reply, &conn_shared),
                Mode::Tls(tls) => serve_tls(stream, conn, tls, &conn_shared),
            });
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

fn serve(mut stream: TcpStream, conn: usize, reply: &[u8], shared: &Shared) {
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
                    if stream.write_all(reply).is_err() {
                        break;
                    }
                    shared.update(conn, |c| {
                        c.sent.extend_from_slice(reply);
                        c.replied = true;
                    });
                }
            }
            Err(e) if is_poll_timeout(&e) => {}
            Err(_) => break,
        }
    }
    finish(&stream, conn, shared);
}

fn is_poll_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Closes our end now, so the peer sees EOF, and forgets the socket.
fn finish(stream: &TcpStream, conn: usize, shared: &Shared) {
    let _ = stream.shutdown(Shutdown::Both);
    lock(&shared.sockets).retain(|(c, _)| *c != conn);
    shared.update(conn, |c| c.closed = true);
}

/// Writes everything rustls has queued in one write and records it; the
/// first such write is the first flight.
fn flush_tls(
    stream: &mut TcpStream,
    tls: &mut rustls::ServerConnection,
    conn: usize,
    server: &TlsServer,
    shared: &Shared,
) -> io::Result<()> {
    let mut out = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut out)?;
    }
    if out.is_empty() {
        return Ok(());
    }
    let first = lock(&shared.conns)
        .get(conn)
        .is_some_and(|c| c.first_flight_len.is_none());
    if first && server.swap_extensions {
        crate::tls::swap_first_two_server_hello_extensions(&mut out);
    }
    stream.write_all(&out)?;
    shared.update(conn, |c| {
        c.sent.extend_from_slice(&out);
        if c.first_flight_len.is_none() {
            c.first_flight_len = Some(c.sent.len());
        }
    });
    Ok(())
}

fn serve_tls(mut stream: TcpStream, conn: usize, server: &TlsServer, shared: &Shared) {
    let mut tls = match rustls::ServerConnection::new(Arc::clone(&server.config)) {
        Ok(tls) => tls,
        Err(e) => {
            shared.update(conn, |c| c.tls_error = Some(e.to_string()));
            finish(&stream, conn, shared);
            return;
        }
    };
    let mut buf = [0u8; 16 * 1024];
    let mut replied = false;
    'conn: loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if is_poll_timeout(&e) => continue,
            Err(_) => break,
        };
        let mut input = buf.get(..n).unwrap_or_default();
        shared.update(conn, |c| c.received.extend_from_slice(input));
        while !input.is_empty() {
            let state = tls.read_tls(&mut input).and_then(|_| {
                tls.process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            });
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    shared.update(conn, |c| c.tls_error = Some(e.to_string()));
                    // rustls queued an alert, if it had one to say.
                    let _ = flush_tls(&mut stream, &mut tls, conn, server, shared);
                    break 'conn;
                }
            };
            if !tls.is_handshaking() {
                let sni = tls.server_name().map(str::to_owned);
                shared.update(conn, |c| {
                    c.handshake_complete = true;
                    c.sni = sni;
                });
            }
            let mut plain = vec![0u8; state.plaintext_bytes_to_read()];
            if !plain.is_empty() && tls.reader().read_exact(&mut plain).is_ok() {
                shared.update(conn, |c| c.plaintext.extend_from_slice(&plain));
                if !replied {
                    replied = true;
                    if tls.writer().write_all(&server.reply).is_ok() {
                        shared.update(conn, |c| c.replied = true);
                    }
                }
            }
            if flush_tls(&mut stream, &mut tls, conn, server, shared).is_err()
                || state.peer_has_closed()
            {
                break 'conn;
            }
        }
    }
    finish(&stream, conn, shared);
}

/// The certificates (DER, leaf first) and the leaf's key for `options`.
type Chain = (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
);

/// Generates the chain for `options`: ECDSA P-256 keys, the leaf naming
/// `options.names` plus padding names.
fn generate_chain(options: &TlsOptions) -> Result<Chain, rcgen::Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    let mut names = options.names.clone();
    let mut padded = 0;
    let mut index = 0;
    while padded < options.cert_padding {
        // A DNS name costs its length plus 2 DER header bytes (under 128).
        let prefix = format!("pad{index}.");
        let suffix = ".invalid";
        let want = (options.cert_padding - padded).saturating_sub(2);
        let fill = want
            .saturating_sub(prefix.len() + suffix.len())
            .clamp(1, 60);
        let name = format!("{prefix}{}{suffix}", "x".repeat(fill));
        padded += name.len() + 2;
        names.push(name);
        index += 1;
    }

    let chain_len = options.chain_len.max(1);
    let leaf_key = KeyPair::generate()?;
    let mut leaf_params = CertificateParams::new(names)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "fake-domain leaf");
    if chain_len == 1 {
        let leaf = leaf_params.self_signed(&leaf_key)?;
        let key = rustls::pki_types::PrivateKeyDer::from(leaf_key);
        return Ok((vec![leaf.der().clone()], key));
    }
    let ca_params = |name: String| -> Result<CertificateParams, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ok(params)
    };
    // The root, then each intermediate signed by the one before.
    let root_key = KeyPair::generate()?;
    let root_params = ca_params("fake-domain root".into())?;
    let root = root_params.self_signed(&root_key)?;
    let mut issued = vec![root.der().clone()];
    let mut issuer_params = root_params;
    let mut issuer_key = root_key;
    for level in 1..chain_len - 1 {
        let key = KeyPair::generate()?;
        let params = ca_params(format!("fake-domain intermediate {level}"))?;
        let cert = params.signed_by(&key, &Issuer::from_params(&issuer_params, &issuer_key))?;
        issued.push(cert.der().clone());
        issuer_params = params;
        issuer_key = key;
    }
    let issuer = Issuer::from_params(&issuer_params, &issuer_key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;
    issued.push(leaf.der().clone());
    issued.reverse();
    Ok((issued, rustls::pki_types::PrivateKeyDer::from(leaf_key)))
}
