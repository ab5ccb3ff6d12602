//! Every transport, concurrency, sizes, quick acks.
use crate::harness::*;
use mtproxy_testkit::client::{ClientError, ClientOptions, Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{quick_ack_token, reply_pattern, Behaviour, Event};
use mtproxy_testkit::fronting::FakeDomain;
use std::time::Duration;

fn echo_round(client: &mut TestClient, len: usize, seed: u32) {
    let p = packet(len, seed);
    client.send_packet(&p, false).unwrap();
    match client.recv_packet(WAIT).unwrap() {
        Received::Packet(got) => assert_eq!(got, p, "echo of {len} bytes differs"),
        other => panic!("expected the echo, got {other:?}"),
    }
}

#[test]
fn every_obfs2_transport_with_concurrent_clients() {
    let rig = Rig::start(&[]);
    let secrets = [
        (SECRET_HEX.to_string(), Transport::Abridged),
        (SECRET_HEX.to_string(), Transport::Intermediate),
        (format!("dd{SECRET_HEX}"), Transport::Padded),
    ];
    std::thread::scope(|scope| {
        for (k, (secret, transport)) in secrets.iter().enumerate() {
            for c in 0..6u32 {
                let rig = &rig;
                scope.spawn(move || {
                    let mut client = rig.client(secret, *transport);
                    for i in 0..15u32 {
                        let len = 56 + 4 * ((i * 97 + c * 13) as usize % 600);
                        echo_round(&mut client, len, (k as u32) << 16 | c << 8 | i);
                    }
                });
            }
        }
    });
    let reqs = rig
        .me
        .handle()
        .events()
        .iter()
        .filter(|e| matches!(e, Event::ProxyReq(_)))
        .count();
    assert_eq!(reqs, 3 * 6 * 15);
}

#[test]
fn fake_tls_transport_echoes_and_unauthenticated_bytes_go_to_the_domain() {
    let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let d = format!("localhost:{}", domain.port());
    let rig = Rig::start(&["-D", &d]);
    let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
    let secret = format!("ee{SECRET_HEX}{hex_domain}");
    let mut clients: Vec<TestClient> = (0..4)
        .map(|_| rig.client(&secret, Transport::Padded))
        .collect();
    for (i, client) in clients.iter_mut().enumerate() {
        for j in 0..5u32 {
            echo_round(client, 56 + 4 * 700 * j as usize, i as u32 * 10 + j);
        }
    }
    // A plain obfuscated2 client is not served in -D mode: relayed instead.
    let mut probe = std::net::TcpStream::connect(rig.proxy.addr()).unwrap();
    std::io::Write::write_all(&mut probe, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let got = domain.wait_for(WAIT, |conns| {
        conns
            .iter()
            .find(|c| c.received.starts_with(b"GET / ") && c.received.len() >= 27)
            .map(|c| c.received.clone())
    });
    assert_eq!(
        got.as_deref(),
        Some(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..])
    );
    probe.set_read_timeout(Some(WAIT)).unwrap();
    let mut reply = vec![0u8; FakeDomain::tls_like_reply().len()];
    std::io::Read::read_exact(&mut probe, &mut reply).unwrap();
    assert_eq!(reply, FakeDomain::tls_like_reply());
}

#[test]
fn largest_packet_passes_and_a_larger_one_closes() {
    let rig = Rig::start(&[]);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    echo_round(&mut client, 1_044_480, 1);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    // An intermediate length header one word over the limit, then data.
    let mut frame = 1_044_484u32.to_le_bytes().to_vec();
    frame.extend_from_slice(&packet(4096, 2));
    client.send_unframed(&frame).unwrap();
    assert!(
        client.recv_packet(WAIT).is_err(),
        "an oversized packet must close the connection"
    );
}

#[test]
fn quick_acks_reach_the_client() {
    let rig = Rig::start(&[]);
    rig.me.handle().set_behaviour(Behaviour::SimpleAck);
    for (secret, transport) in [
        (SECRET_HEX.to_string(), Transport::Abridged),
        (SECRET_HEX.to_string(), Transport::Intermediate),
        (format!("dd{SECRET_HEX}"), Transport::Padded),
    ] {
        let mut client = rig.client(&secret, transport);
        let p = packet(64, 9);
        client.send_packet(&p, true).unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            got.push(client.recv_packet(WAIT).unwrap());
        }
        assert!(
            got.contains(&Received::QuickAck(quick_ack_token(&p))),
            "{transport:?}: {got:?}"
        );
        assert!(got.contains(&Received::Packet(p.clone())), "{transport:?}");
    }
}

#[test]
fn one_byte_writes_are_reassembled() {
    let rig = Rig::start(&[]);
    let options = ClientOptions {
        one_byte_writes: true,
        ..ClientOptions::default()
    };
    let mut client = TestClient::connect(
        rig.proxy.addr(),
        &format!("dd{SECRET_HEX}"),
        Transport::Padded,
        2,
        options,
    )
    .unwrap();
    for i in 0..3 {
        echo_round(&mut client, 120, i);
    }
}

#[test]
fn ad_tag_and_addresses_reach_the_middle_end() {
    let tag = "fedcba9876543210fedcba9876543210";
    let rig = Rig::start(&["-P", tag]);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    echo_round(&mut client, 80, 3);
    let local_port = client.stream().local_addr().unwrap().port();
    let req = rig
        .me
        .handle()
        .wait_for(Duration::from_secs(1), |events| {
            events.iter().find_map(|e| match e {
                Event::ProxyReq(r) => Some(r.clone()),
                _ => None,
            })
        })
        .unwrap();
    assert_eq!(req.ad_tag.map(|t| t[0]), Some(0xfe));
    assert_eq!(req.client_port, i32::from(local_port));
    assert_eq!(req.proxy_port, i32::from(rig.proxy.port));
    assert_eq!(
        req.client_ip.to_ipv4_mapped(),
        Some(std::net::Ipv4Addr::LOCALHOST)
    );
}

/// Asks for a `len`-byte answer and checks that it arrives whole.
fn big_answer_round(client: &mut TestClient, len: usize, what: &str) {
    client.send_packet(&packet(64, len as u32), false).unwrap();
    match client.recv_packet(WAIT) {
        Ok(Received::Packet(got)) => assert!(
            got == reply_pattern(len),
            "{what}: answer of {len} bytes arrived as {} bytes or changed",
            got.len()
        ),
        other => panic!("{what}: answer of {len} bytes: got {other:?}"),
    }
}

#[test]
fn answers_around_and_over_the_client_packet_limit_reach_every_transport() {
    // The client packet limit (1044480) bounds what a client sends, not what
    // the middle-end answers: answers up to a middle-end frame (16 MiB) must
    // reach every transport, fake-TLS cut into records.
    const LIMIT: usize = 1_044_480;
    let sizes = [LIMIT - 16, LIMIT, LIMIT + 16, 2 << 20];
    let rig = Rig::start(&["--http-stats"]);
    let mut clients = [
        (SECRET_HEX.to_string(), Transport::Abridged),
        (SECRET_HEX.to_string(), Transport::Intermediate),
        (format!("dd{SECRET_HEX}"), Transport::Padded),
    ]
    .map(|(secret, transport)| (rig.client(&secret, transport), transport));
    let domain = FakeDomain::start(FakeDomain::tls_like_reply()).unwrap();
    let d = format!("localhost:{}", domain.port());
    let tls_rig = Rig::start(&["-D", &d]);
    let hex_domain: String = b"localhost".iter().map(|b| format!("{b:02x}")).collect();
    let mut tls_client = tls_rig.client(&format!("ee{SECRET_HEX}{hex_domain}"), Transport::Padded);
    for len in sizes {
        rig.me.handle().set_behaviour(Behaviour::ReplyBytes(len));
        for (client, transport) in clients.iter_mut() {
            big_answer_round(client, len, &format!("{transport:?}"));
        }
        tls_rig
            .me
            .handle()
            .set_behaviour(Behaviour::ReplyBytes(len));
        big_answer_round(&mut tls_client, len, "fake TLS");
    }
    let dropped: i64 = rig.stats()["dropped_responses"].parse().unwrap();
    assert_eq!(dropped, 0);
}

#[test]
fn a_middle_end_frame_over_16_mib_closes_its_clients_at_once_logged_and_counted() {
    let rig = Rig::start(&["--http-stats"]);
    let mut client = rig.client(SECRET_HEX, Transport::Intermediate);
    echo_round(&mut client, 64, 1);
    rig.me.handle().set_behaviour(Behaviour::OversizedFrame);
    client.send_packet(&packet(64, 2), false).unwrap();
    let started = std::time::Instant::now();
    let got = client.recv_packet(WAIT);
    assert!(
        matches!(got, Err(ClientError::Closed) | Err(ClientError::Io(_))),
        "the client must be closed at once, got {got:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let dropped: i64 = rig.stats()["dropped_responses"].parse().unwrap();
    assert!(dropped >= 1, "dropped_responses = {dropped}");
    let log = rig.proxy.stderr_text();
    assert!(
        log.contains("middle-end frame over 16777216 bytes"),
        "no log line:\n{log}"
    );
}

#[test]
fn more_than_upstreams_sixteen_secrets_are_served() {
    // The harness gives one -S; 16 more make 17, past upstream's limit of 16
    // (ours is 128, the CLI's limit, the same constant on both sides).
    let extra: Vec<String> = (1..=16u8).map(|i| format!("{i:02x}").repeat(16)).collect();
    let mut args: Vec<&str> = Vec::new();
    for secret in &extra {
        args.extend(["-S", secret.as_str()]);
    }
    let rig = Rig::start(&args);
    let mut last = rig.client(&extra[15], Transport::Intermediate);
    let p = packet(64, 17);
    last.send_packet(&p, false).unwrap();
    assert_eq!(last.recv_packet(WAIT).unwrap(), Received::Packet(p));
}
