//! Wrong secrets, garbage, replays, stalls and slow readers.
use crate::harness::*;
use mtproxy_testkit::client::{ClientOptions, Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{Behaviour, Event};
use mtproxy_testkit::fronting::FakeDomain;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn forwarded(rig: &Rig) -> usize {
    rig.me
        .handle()
        .events()
        .iter()
        .filter(|e| matches!(e, Event::ProxyReq(_)))
        .count()
}

#[test]
fn wrong_secret_and_garbage_are_closed_without_an_answer() {
    let rig = Rig::start(&[]);
    let mut wrong = TestClient::connect(
        rig.proxy.addr(),
        "00000000000000000000000000000001",
        Transport::Intermediate,
        2,
        ClientOptions::default(),
    )
    .unwrap();
    let _ = wrong.send_packet(&packet(64, 1), false);
    let mut stream = wrong.into_stream();
    let (bytes, eof) = drain(&mut stream);
    assert!(
        bytes.is_empty() && eof,
        "wrong secret: got {} bytes, eof {eof}",
        bytes.len()
    );

    let mut garbage = TcpStream::connect(rig.proxy.addr()).unwrap();
    garbage.write_all(&packet(64, 77)).unwrap();
    garbage.write_all(&[0x55; 300]).unwrap();
    let (bytes, eof) = drain(&mut garbage);
    assert!(
        bytes.is_empty() && eof,
        "garbage: got {} bytes, eof {eof}",
        bytes.len()
    );
    assert_eq!(forwarded(&rig), 0);

    // The proxy still serves.
    let mut ok = rig.client(SECRET_HEX, Transport::Intermediate);
    ok.send_packet(&packet(64, 5), false).unwrap();
    assert_eq!(
        ok.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 5))
    );
}

#[test]
fn half_header_then_silence_does_not_block_others_and_is_closed() {
    let rig = Rig::start(&[]);
    let mut half = TcpStream::connect(rig.proxy.addr()).unwrap();
    half.write_all(&[0x11; 30]).unwrap();
    let mut ok = rig.client(SECRET_HEX, Transport::Abridged);
    ok.send_packet(&packet(64, 5), false).unwrap();
    assert_eq!(
        ok.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 5))
    );
    let started = Instant::now();
    let (bytes, eof) = drain(&mut half);
    assert!(
        bytes.is_empty() && eof,
        "the 10 s handshake deadline closes the connection"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn replayed_client_hello_is_relayed_to_the_domain() {
    let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let d = format!("localhost:{}", domain.port());
    let rig = Rig::start(&["-D", &d]);
    // The start-up domain probe's connections came before the rig was up.
    let probed = domain.connections().len();
    let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
    let secret = format!("ee{SECRET_HEX}{hex_domain}");
    let first = rig.client(&secret, Transport::Padded);
    let hello = first.client_hello().unwrap().to_vec();
    replay_reaches_the_domain(rig.proxy.addr(), &hello, &domain, probed);
    // A wrong secret in fake-TLS mode is relayed too.
    let wrong = format!("ee0000000000000000000000000000000f{hex_domain}");
    assert!(TestClient::connect(
        rig.proxy.addr(),
        &wrong,
        Transport::Padded,
        2,
        ClientOptions::default()
    )
    .is_err());
    let n = domain.wait_for(WAIT, |conns| {
        (conns.len() >= probed + 2).then_some(conns.len() - probed)
    });
    assert_eq!(n, Some(2));
}

#[test]
fn slow_reader_keeps_proxy_memory_bounded() {
    let rig = Rig::start(&[]);
    rig.me
        .handle()
        .set_behaviour(Behaviour::ReplyBytes(512 * 1024));
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    let before = rss_kib(rig.proxy.pid());
    // 64 requests ask for 32 MiB of answers; the client reads none of it.
    for i in 0..64 {
        client.send_packet(&packet(64, i), false).unwrap();
    }
    let stream = client.into_stream();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut peak = 0;
    while Instant::now() < deadline {
        peak = peak.max(rss_kib(rig.proxy.pid()));
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stream);
    assert!(
        peak < before + 16 * 1024,
        "proxy RSS grew from {before} KiB to {peak} KiB for one non-reading client"
    );
}

#[test]
fn unthrottled_bursts_both_ways_lose_nothing() {
    // TestClient cannot be split into a reader and a writer, so it writes
    // bursts of 16 x 64 KiB (four times the proxy's per-connection soft cap)
    // without reading, then reads the 16 echoes: both directions fill up
    // and backpressure must pause, not drop or reorder.
    const BURSTS: u32 = 40;
    const BURST: u32 = 16;
    const LEN: usize = 64 * 1024;
    let rig = Rig::start(&[]);
    let pid = rig.proxy.pid();
    let start_rss = rss_kib(pid);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    for b in 0..BURSTS {
        for k in 0..BURST {
            client
                .send_packet(&packet(LEN, b * BURST + k), false)
                .unwrap();
        }
        for k in 0..BURST {
            match client.recv_packet(WAIT).unwrap() {
                Received::Packet(p) => assert!(
                    p == packet(LEN, b * BURST + k),
                    "echo {} changed or out of order",
                    b * BURST + k
                ),
                other => panic!("{other:?}"),
            }
        }
    }
    let end_rss = rss_kib(pid);
    assert!(
        end_rss < start_rss + 64 * 1024,
        "RSS {start_rss} -> {end_rss} KiB"
    );
}

#[test]
fn a_client_that_never_reads_is_closed_as_a_flood_and_others_resume() {
    // One connection per worker, so both clients share the middle-end link.
    let rig = Rig::start_conf("min_connections 1;\n", &[], 1);
    rig.me
        .handle()
        .set_behaviour(Behaviour::ReplyBytes(512 * 1024));
    let mut hog = rig.client(SECRET_HEX, Transport::Intermediate);
    // 32 MiB of answers that are never read: the kernel's buffers fill, then
    // the proxy's queue for this client passes its cap and the middle-end
    // link (shared with the next client) stops being read.
    for i in 0..64 {
        hog.send_packet(&packet(64, i), false).unwrap();
    }
    let _hog = hog.into_stream();
    let mut other = rig.client(SECRET_HEX, Transport::Intermediate);
    other.send_packet(&packet(64, 99), false).unwrap();
    // After 10 s over the cap the hog is closed and the link moves again.
    match other.recv_packet(Duration::from_secs(40)).unwrap() {
        Received::Packet(p) => assert_eq!(p.len(), 512 * 1024),
        got => panic!("{got:?}"),
    }
    let flood: i64 = rig.stats()["connections_failed_flood"]
        .trim()
        .parse()
        .unwrap();
    assert_eq!(flood, 1, "the non-reading client is counted as a flood");
}

fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn garbage_storm_leaks_no_descriptors_and_service_continues() {
    let rig = Rig::start(&[]);
    let pid = rig.proxy.pid();
    let baseline = open_fds(pid);
    // 400 connections of every hostile shape, 50 at a time, while a real
    // client keeps round-tripping.
    std::thread::scope(|scope| {
        let rig = &rig;
        scope.spawn(move || {
            let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
            for i in 0..50 {
                client.send_packet(&packet(256, i), false).unwrap();
                assert_eq!(
                    client.recv_packet(WAIT).unwrap(),
                    Received::Packet(packet(256, i))
                );
            }
        });
        for batch in 0..8u32 {
            let handles: Vec<_> = (0..50u32)
                .map(|k| {
                    scope.spawn(move || {
                        let i = batch * 50 + k;
                        let Ok(mut s) = TcpStream::connect(rig.proxy.addr()) else {
                            return;
                        };
                        let junk = packet(64 + 4 * (i as usize % 300), i);
                        let data: &[u8] = match i % 4 {
                            0 => &junk[..(i as usize % 63) + 1],
                            1 => &junk,
                            2 => b"\x16\x03\x01\x02\x00",
                            _ => b"GET / HTTP/1.1\r\n\r\n",
                        };
                        let _ = s.write_all(data);
                        if i % 3 == 0 {
                            let _ = s.shutdown(std::net::Shutdown::Write);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        }
    });
    // Connections still in their 10 s handshake deadline close by then.
    let deadline = Instant::now() + Duration::from_secs(20);
    while open_fds(pid) > baseline + 1 {
        assert!(
            Instant::now() < deadline,
            "proxy holds {} fds, {baseline} before the storm",
            open_fds(pid)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut after = rig.client(SECRET_HEX, Transport::Abridged);
    after.send_packet(&packet(64, 1), false).unwrap();
    assert_eq!(
        after.recv_packet(WAIT).unwrap(),
        Received::Packet(packet(64, 1))
    );
}

#[test]
fn a_rejected_hello_naming_a_domain_is_relayed_to_that_domain_others_to_the_first() {
    let first = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let second = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let d1 = format!("localhost:{}", first.port());
    let d2 = format!("127.0.0.1:{}", second.port());
    let rig = Rig::start(&["-D", &d1, "-D", &d2]);
    // The start-up domain probe's connections came before the rig was up.
    let probed = |d: &FakeDomain| d.connections().len();
    let base = (probed(&first), probed(&second));
    let hex = |name: &str| -> String { name.bytes().map(|b| format!("{b:02x}")).collect() };
    let wrong_key = "0000000000000000000000000000000f";
    // (SNI the client sends, how many connections each domain has after it)
    let cases = [
        ("127.0.0.1", (0, 1)),   // names the second domain: relayed there
        ("localhost", (1, 1)),   // names the first one
        ("example.org", (2, 1)), // unknown SNI: the default (first) domain
    ];
    for (sni, want) in cases {
        let secret = format!("ee{wrong_key}{}", hex(sni));
        let refused = TestClient::connect(
            rig.proxy.addr(),
            &secret,
            Transport::Padded,
            2,
            ClientOptions::default(),
        );
        assert!(
            refused.is_err(),
            "SNI {sni}: a wrong key must not be served"
        );
        let count = |d: &FakeDomain| d.wait_for(Duration::ZERO, |c| Some(c.len())).unwrap_or(0);
        let want = (base.0 + want.0, base.1 + want.1);
        let deadline = Instant::now() + WAIT;
        while (count(&first), count(&second)) != want {
            assert!(
                Instant::now() < deadline,
                "SNI {sni}: domains got {:?}, want {want:?}",
                (count(&first), count(&second))
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    // Served clients are unaffected.
    let mut ok = rig.client(
        &format!("ee{SECRET_HEX}{}", hex("127.0.0.1")),
        Transport::Padded,
    );
    let p = packet(64, 1);
    ok.send_packet(&p, false).unwrap();
    assert_eq!(ok.recv_packet(WAIT).unwrap(), Received::Packet(p));
}
