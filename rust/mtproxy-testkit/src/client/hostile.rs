//! Misbehaving connections for negative tests. Each returns the open socket
//! so the caller decides whether to stay silent, keep it open or drop it.
use super::{build_header, ClientError, Result, Transport, XorShift};
use mtproxy_core::net::obfs2;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn open(addr: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// Connects and sends `len` pseudo-random bytes from `seed`.
pub fn send_garbage(
    addr: SocketAddr,
    len: usize,
    seed: u64,
    timeout: Duration,
) -> Result<TcpStream> {
    let mut stream = open(addr, timeout)?;
    let mut garbage = vec![0u8; len];
    XorShift::new(seed).fill(&mut garbage);
    stream.write_all(&garbage)?;
    Ok(stream)
}

/// Connects and sends the first 32 bytes of a valid obfuscated2 header for
/// `secret` (plain or `dd` form), then nothing more.
pub fn send_half_header(
    addr: SocketAddr,
    secret: &str,
    transport: Transport,
    dc: i16,
    seed: u64,
    timeout: Duration,
) -> Result<TcpStream> {
    let secret = obfs2::parse_secret(secret.as_bytes()).map_err(|_| ClientError::BadSecret)?;
    let header = build_header(
        &mut XorShift::new(seed),
        Some(&secret.key),
        transport.tag(),
        dc,
    )?;
    let mut stream = open(addr, timeout)?;
    stream.write_all(
        header
            .header
            .get(..obfs2::HEADER_LEN / 2)
            .unwrap_or_default(),
    )?;
    Ok(stream)
}

/// Connects and sends `client_hello` (typically another connection's, from
/// [`super::TestClient::client_hello`]) unchanged.
pub fn replay_client_hello(
    addr: SocketAddr,
    client_hello: &[u8],
    timeout: Duration,
) -> Result<TcpStream> {
    let mut stream = open(addr, timeout)?;
    stream.write_all(client_hello)?;
    Ok(stream)
}
