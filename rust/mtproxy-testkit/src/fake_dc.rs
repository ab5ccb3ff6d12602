//! A fake Telegram DC for the proxy's direct mode (README "Direct mode"):
//! accepts obfuscated2 connections on 127.0.0.1:0 with the secret-less key
//! derivation (docs/PROTOCOL.md §1.3), checks the 64-byte header (transport
//! tag), and echoes every received byte back re-encrypted: the transport
//! framing (abridged, intermediate, padded) reads the same both ways, so a
//! test client gets its own packets back. It records each connection's DC
//! id, tag and decrypted bytes, can push unsolicited bytes and close a
//! connection on demand.

use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use mtproxy_core::net::obfs2::{self, CtrKey, HEADER_LEN};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the fake DC saw on one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DcConnection {
    /// The header decoded (a transport tag under the secret-less keys).
    pub header_ok: bool,
    pub dc: i16,
    pub tag: u32,
    /// Decrypted bytes after the header.
    pub received: Vec<u8>,
    /// The proxy closed the connection.
    pub closed: bool,
}

struct Conn {
    info: DcConnection,
    /// The writing half and its cipher (echo and push share it).
    writer: Option<(TcpStream, AesContext)>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    conns: Mutex<Vec<Conn>>,
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
    /// Listens on 127.0.0.1 with a kernel-chosen port.
    pub fn start() -> io::Result<FakeDc> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if acceptor_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&acceptor_shared);
                let index = {
                    let mut conns = shared.conns.lock().unwrap_or_else(PoisonError::into_inner);
                    conns.push(Conn {
                        info: DcConnection::default(),
                        writer: None,
                    });
                    conns.len() - 1
                };
                std::thread::spawn(move || serve(&shared, index, stream));
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
        let conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        conns.iter().map(|c| c.info.clone()).collect()
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
        let mut conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some((stream, enc)) = conns.get_mut(index).and_then(|c| c.writer.as_mut()) else {
            return false;
        };
        let mut data = plain.to_vec();
        crypt(enc, &mut data);
        stream.write_all(&data).is_ok()
    }

    /// Closes connection `index` from the DC's side.
    pub fn close(&self, index: usize) {
        let mut conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((stream, _)) = conns.get_mut(index).and_then(|c| c.writer.take()) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// One connection: the header, then decrypt, record and echo.
fn serve(shared: &Shared, index: usize, mut stream: TcpStream) {
    let with = |f: &mut dyn FnMut(&mut Conn)| {
        let mut conns = shared.conns.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = conns.get_mut(index) {
            f(c);
        }
    };
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
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = &mut buf[..n];
        crypt(&mut dec, data);
        let mut ok = true;
        with(&mut |c| {
            c.info.received.extend_from_slice(data);
            if let Some((w, enc)) = c.writer.as_mut() {
                let mut echo = data.to_vec();
                crypt(enc, &mut echo);
                ok = w.write_all(&echo).is_ok();
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

impl Drop for FakeDc {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor out of its blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let mut conns = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for c in conns.iter_mut() {
            if let Some((stream, _)) = c.writer.take() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
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
