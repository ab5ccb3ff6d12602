//! The fake fronting domain: recording, the one reply, shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mtproxy_testkit::fronting::FakeDomain;

const WAIT: Duration = Duration::from_secs(10);

/// xorshift64, for reproducible "random" chunk sizes.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn hello_like(len: usize) -> Vec<u8> {
    let mut out = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    out.extend((out.len()..len).map(|i| (i * 31 + 5) as u8));
    out
}

fn connect(domain: &FakeDomain) -> TcpStream {
    let stream = TcpStream::connect(domain.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

#[test]
fn tls_like_reply_starts_like_a_tls_handshake_record() {
    let reply = FakeDomain::tls_like_reply();
    assert_eq!(reply[..3], [0x16, 0x03, 0x03]);
    let len = u16::from_be_bytes([reply[3], reply[4]]) as usize;
    assert!(reply.len() > 5 + len, "more records follow the first");
    assert_eq!(reply[5], 0x02, "ServerHello-shaped");
}

#[test]
fn chunked_hello_is_recorded_and_answered_once() {
    let reply = FakeDomain::tls_like_reply();
    let domain = FakeDomain::start(reply.clone()).unwrap();
    let hello = hello_like(517);
    assert_eq!(hello.len(), 517);
    let mut stream = connect(&domain);
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut sent = 0;
    while sent < hello.len() {
        let size = (1 + next(&mut state) % 97) as usize;
        let end = (sent + size).min(hello.len());
        stream.write_all(&hello[sent..end]).unwrap();
        sent = end;
    }
    let mut got = vec![0u8; reply.len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, reply);
    let all = domain.wait_for(WAIT, |conns| {
        conns
            .first()
            .filter(|c| c.received.len() == hello.len() && c.replied)
            .cloned()
    });
    let conn = all.expect("all bytes recorded");
    assert_eq!(conn.received, hello);
    assert!(conn.replied);
    assert_eq!(domain.received(0).unwrap(), hello);
    // No second reply: after our EOF the domain sees EOF and closes.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "reply written only once");
    assert!(domain
        .wait_for(WAIT, |conns| conns[0].closed.then_some(()))
        .is_some());
}

#[test]
fn two_connections_are_recorded_separately() {
    let domain = FakeDomain::start(b"hi".to_vec()).unwrap();
    let mut a = connect(&domain);
    a.write_all(b"first").unwrap();
    let mut buf = [0u8; 2];
    a.read_exact(&mut buf).unwrap();
    assert!(domain
        .wait_for(WAIT, |c| (c.len() == 1 && c[0].received == b"first")
            .then_some(()))
        .is_some());
    let mut b = connect(&domain);
    b.write_all(b"second").unwrap();
    b.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    a.write_all(b"-more").unwrap();
    let conns = domain.wait_for(WAIT, |c| {
        (c.len() == 2 && c[0].received == b"first-more" && c[1].received == b"second")
            .then(|| c.to_vec())
    });
    assert!(conns.is_some(), "got {:?}", domain.connections());
    assert_eq!(domain.received(1).unwrap(), b"second");
    assert_eq!(domain.received(2), None);
}

#[test]
fn no_reply_before_the_first_bytes() {
    let domain = FakeDomain::start(b"x".to_vec()).unwrap();
    let stream = connect(&domain);
    assert!(domain
        .wait_for(WAIT, |c| (c.len() == 1).then_some(()))
        .is_some());
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    let early = (&stream).read(&mut buf);
    assert!(early.is_err(), "nothing sent before the client spoke");
}

#[test]
fn drop_joins_and_closes_open_connections() {
    let domain = FakeDomain::start(b"ok".to_vec()).unwrap();
    let mut stream = connect(&domain);
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 2];
    stream.read_exact(&mut buf).unwrap();
    let addr = domain.addr();
    drop(domain); // returns only once every thread is joined
    let mut rest = Vec::new();
    // The connection was shut down: EOF (or reset), not a hang.
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty());
    assert!(TcpStream::connect(addr).is_err(), "listener closed");
}
