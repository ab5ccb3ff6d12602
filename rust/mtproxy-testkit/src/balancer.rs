//! A small TCP load balancer on loopback for fleet tests: each accepted
//! connection goes to the next backend in turn, preceded by a PROXY
//! protocol v2 header naming the client (as HAProxy's `send-proxy-v2`
//! does); then bytes are copied both ways until either side closes.

use mtproxy_core::net::proxy_protocol::encode_v2;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Balancer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Balancer {
    /// Listens on 127.0.0.1 (port 0) in front of `backends`.
    pub fn start(backends: Vec<SocketAddr>) -> io::Result<Balancer> {
        if backends.is_empty() {
            return Err(io::Error::other("a balancer needs a backend"));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for (turn, client) in listener.incoming().enumerate() {
                if stopping.load(Ordering::Acquire) {
                    break;
                }
                let Ok(client) = client else { continue };
                let backend = backends[turn % backends.len()];
                std::thread::spawn(move || {
                    let _ = forward(client, backend);
                });
            }
        });
        Ok(Balancer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn forward(client: TcpStream, backend: SocketAddr) -> io::Result<()> {
    let mut server = TcpStream::connect(backend)?;
    server.write_all(&encode_v2(client.peer_addr()?, client.local_addr()?, &[]))?;
    let (mut client_in, mut server_out) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}
