//! mtproto-proxy, C against Rust, end to end in one process: each side's
//! proxy runs a worker thread on its own loopback listener, in front of its
//! own fake middle-end, with the same test seed. Scripted client sessions
//! (same client seed) must produce the same packets at the client and the
//! same RPC_PROXY_REQs (flags, ext_conn_id, addresses, ad tag, payload) at
//! the middle-end. Ports are the only thing allowed to differ.
use mtproxy_core::runtime::ProxySettings;
use mtproxy_sys::c::mtproto_proxy as rust_proxy;
use mtproxy_sys::cref::mtproto_proxy as c_proxy;
use mtproxy_testkit::client::{ClientOptions, Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{Behaviour, Event, FakeMe, FakeMeConfig, SecretSource};
use proptest::prelude::*;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const WAIT: Duration = Duration::from_secs(20);
/// The ME connections each proxy keeps: its one target (DCs 2 and 4 share
/// the address) at the default `min_connections`, one worker.
const POOL: usize = 4;

fn proxy_secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 37 + 11) as u8).collect()
}

/// One side: its fake middle-end, its proxy (running) and its address.
struct Side {
    me: FakeMe,
    addr: SocketAddr,
    /// The proxy's count of ready ME connections plus bound clients.
    encrypted: Box<dyn Fn() -> i64 + Send + Sync>,
    stop: Box<dyn Fn() + Send + Sync>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Side {
    fn drop(&mut self) {
        (self.stop)();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

macro_rules! start_side {
    ($module:ident) => {{
        let me = FakeMe::start(FakeMeConfig {
            seed: Some(5),
            ..FakeMeConfig::new(SecretSource::Bytes(proxy_secret()))
        })
        .unwrap();
        let settings = ProxySettings {
            secrets: vec![SECRET],
            ad_tag: Some([0xab; 16]),
            proxy_secret: proxy_secret(),
            config: me.proxy_multi_conf(&[2, 4]).into_bytes(),
            workers: 1,
            buffer_limit: 64 << 20,
            seed: 42,
            ..ProxySettings::default()
        };
        let proxy = Arc::new($module::Proxy::new(&settings).expect("proxy accepts the settings"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let runner = Arc::clone(&proxy);
        let worker = std::thread::spawn(move || {
            runner.worker_run(0, vec![OwnedFd::from(listener)]).unwrap();
        });
        // The whole pool is up, at the middle-end and in the proxy, before
        // any session: both sides then drew the same nonces and bind
        // clients over the same set of ready connections.
        let ready = me.handle().wait_ready_connections(POOL, WAIT);
        assert!(
            ready,
            "{} proxy never reached its middle-end",
            stringify!($module)
        );
        let stats_of = Arc::clone(&proxy);
        let encrypted = Box::new(move || {
            let mut stats = $module::ProxyStats::default();
            stats_of.collect_stats(&mut stats);
            stats.total_encrypted_connections
        });
        let deadline = std::time::Instant::now() + WAIT;
        while encrypted() != POOL as i64 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} proxy's pool never became ready",
                stringify!($module)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Side {
            me,
            addr,
            encrypted,
            stop: Box::new(move || proxy.stop(0)),
            worker: Some(worker),
        }
    }};
}

/// An RPC_PROXY_REQ without the ports: flags, ext_conn_id, client address,
/// ad tag, payload.
type Request = (u32, i64, std::net::Ipv6Addr, Option<[u8; 16]>, Vec<u8>);

/// What a session looked like from outside, ports left out.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    at_client: Vec<Received>,
    at_me: Vec<Request>,
    closes: usize,
}

#[derive(Clone, Debug)]
struct Session {
    secret: String,
    transport: Transport,
    dc: i16,
    packets: Vec<(usize, bool)>,
    client_seed: u64,
    behaviour: Behaviour,
}

fn run_session(side: &Side, s: &Session) -> Observed {
    let before = side.me.handle().events().len();
    side.me.handle().set_behaviour(s.behaviour);
    let options = ClientOptions {
        seed: Some(s.client_seed),
        ..ClientOptions::default()
    };
    let mut client = TestClient::connect(side.addr, &s.secret, s.transport, s.dc, options).unwrap();
    let mut at_client = Vec::new();
    for (i, &(len, quick_ack)) in s.packets.iter().enumerate() {
        let mut p = vec![(i as u8).wrapping_mul(31); len];
        p[0] = 1;
        // The fake middle-end's quick-ack confirm is the first 4 bytes;
        // clients expect bit 31 set in it (docs/PROTOCOL.md §3.2).
        p[3] |= 0x80;
        client.send_packet(&p, quick_ack).unwrap();
        let answers = match s.behaviour {
            Behaviour::SimpleAck if quick_ack => 2,
            _ => 1,
        };
        for _ in 0..answers {
            at_client.push(client.recv_packet(WAIT).unwrap());
        }
    }
    drop(client);
    // The close reaches the middle-end as RPC_CLOSE_EXT.
    side.me
        .handle()
        .wait_for(WAIT, |ev| {
            ev[before..]
                .iter()
                .any(|e| matches!(e, Event::CloseConn { .. }))
                .then_some(())
        })
        .expect("close reported");
    let events = side.me.handle().events();
    let mut at_me = Vec::new();
    let mut closes = 0;
    for e in &events[before..] {
        match e {
            Event::ProxyReq(r) => at_me.push((
                r.flags,
                r.ext_conn_id,
                r.client_ip,
                r.ad_tag,
                r.packet.clone(),
            )),
            Event::CloseConn { .. } => closes += 1,
            _ => {}
        }
    }
    Observed {
        at_client,
        at_me,
        closes,
    }
}

struct Pair {
    c: Side,
    rust: Side,
}

/// Both proxies, started once for the whole file; sessions run one at a time.
fn pair() -> &'static Mutex<Pair> {
    static PAIR: OnceLock<Mutex<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        Mutex::new(Pair {
            c: start_side!(c_proxy),
            rust: start_side!(rust_proxy),
        })
    })
}

fn compare(s: &Session) {
    let pair = pair().lock().unwrap_or_else(|e| e.into_inner());
    let from_c = run_session(&pair.c, s);
    let from_rust = run_session(&pair.rust, s);
    assert_eq!(from_c, from_rust, "session {s:?}");
    assert_eq!(from_c.at_me.len(), s.packets.len());
}

/// Opens `n` clients one after the other (each sends one packet and reads
/// its echo, so it is bound), then closes them. Returns which clients
/// shared an ME connection: each client's connection numbered by first
/// appearance (the fake middle-end's own connection ids depend on accept
/// order, which is the kernel's).
fn spread(side: &Side, n: usize) -> Vec<usize> {
    let before = side.me.handle().events().len();
    side.me.handle().set_behaviour(Behaviour::Echo);
    let plain = hex(&SECRET);
    let mut clients = Vec::new();
    for i in 0..n {
        let options = ClientOptions {
            seed: Some(1000 + i as u64),
            ..ClientOptions::default()
        };
        let mut c =
            TestClient::connect(side.addr, &plain, Transport::Intermediate, 2, options).unwrap();
        let p = vec![i as u8 + 1; 64];
        c.send_packet(&p, false).unwrap();
        assert_eq!(c.recv_packet(WAIT).unwrap(), Received::Packet(p));
        clients.push(c);
    }
    let events = side.me.handle().events();
    let mut labels: Vec<u64> = Vec::new();
    let mut pattern = Vec::new();
    for e in &events[before..] {
        if let Event::ProxyReq(r) = e {
            let label = labels.iter().position(|&c| c == r.conn).unwrap_or_else(|| {
                labels.push(r.conn);
                labels.len() - 1
            });
            pattern.push(label);
        }
    }
    drop(clients);
    let closes = side.me.handle().wait_for(WAIT, |ev| {
        let n_closes = ev[before..]
            .iter()
            .filter(|e| matches!(e, Event::CloseConn { .. }))
            .count();
        (n_closes == n).then_some(())
    });
    assert!(closes.is_some(), "every close reported");
    pattern
}

// evidence: intermediate, ans
#[test]
fn clients_spread_over_the_pool_alike() {
    let pair = pair().lock().unwrap_or_else(|e| e.into_inner());
    for side in [&pair.c, &pair.rust] {
        assert_eq!(
            (side.encrypted)(),
            POOL as i64,
            "pool ready, no client bound"
        );
    }
    let from_c = spread(&pair.c, 2 * POOL);
    let from_rust = spread(&pair.rust, 2 * POOL);
    assert_eq!(from_c, from_rust);
    // Round-robin over the whole pool.
    assert_eq!(from_c, vec![0, 1, 2, 3, 0, 1, 2, 3]);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// evidence: abridged, intermediate, padded, ans, simple-ack
#[test]
fn scripted_sessions_match() {
    let plain = hex(&SECRET);
    for (secret, transport) in [
        (plain.clone(), Transport::Abridged),
        (plain.clone(), Transport::Intermediate),
        (format!("dd{plain}"), Transport::Padded),
    ] {
        for behaviour in [
            Behaviour::Echo,
            Behaviour::SimpleAck,
            Behaviour::ReplyBytes(5000),
        ] {
            compare(&Session {
                secret: secret.clone(),
                transport,
                dc: 4,
                packets: vec![(56, false), (1024, true), (60_000, false), (64, true)],
                client_seed: 9,
                behaviour,
            });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: parity_tests::config().cases.min(24), ..parity_tests::config() })]

    // evidence: abridged, intermediate, padded, ans, simple-ack
    #[test]
    fn random_sessions_match(
        kind in 0..3usize,
        dc in prop_oneof![Just(2i16), Just(4), Just(-2), Just(99)],
        packets in proptest::collection::vec((14usize..3000, any::<bool>()), 1..6),
        client_seed in any::<u64>(),
    ) {
        let plain = hex(&SECRET);
        let (secret, transport) = match kind {
            0 => (plain, Transport::Abridged),
            1 => (plain, Transport::Intermediate),
            _ => (format!("dd{plain}"), Transport::Padded),
        };
        compare(&Session {
            secret,
            transport,
            dc,
            packets: packets.into_iter().map(|(words, qa)| (words * 4, qa)).collect(),
            client_seed,
            behaviour: Behaviour::SimpleAck,
        });
    }
}

#[test]
fn tls_profiles_are_taken_for_known_domains_only_alike() {
    use mtproxy_core::net::fake_tls::TlsProfile;
    use mtproxy_core::runtime::Domain;
    let settings = ProxySettings {
        secrets: vec![SECRET],
        domains: vec![Domain {
            name: b"example.com".to_vec(),
            relay_ipv4: 0x7f00_0001,
            relay_port: 443,
        }],
        proxy_secret: proxy_secret(),
        config: b"proxy 127.0.0.1:1;".to_vec(),
        workers: 1,
        buffer_limit: 64 << 20,
        ..ProxySettings::default()
    };
    let c_side = c_proxy::Proxy::new(&settings).expect("C proxy");
    let rust_side = rust_proxy::Proxy::new(&settings).expect("Rust proxy");
    let profile = TlsProfile {
        learned: 1,
        app_data_len: 900,
        ..TlsProfile::default()
    };
    for index in [0, 1, u32::MAX] {
        assert_eq!(
            c_side.set_tls_profile(index, &profile),
            rust_side.set_tls_profile(index, &profile),
            "domain index {index}"
        );
    }
    assert!(rust_side.set_tls_profile(0, &profile));
}
