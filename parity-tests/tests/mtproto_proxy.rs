//! mtproto-proxy, C against Rust, end to end in one process: each side's
//! proxy runs a worker thread on its own loopback listener, in front of its
//! own fake middle-end, with the same test seed. Client sessions (same
//! client seed) must produce the same packets at the client, the same
//! RPC_PROXY_REQs (flags, ext_conn_id, addresses, ad tag, payload) and
//! RPC_CLOSE_EXTs at the middle-end, the same fake-TLS record boundaries
//! and the same counters. Ports are the only thing allowed to differ.
//!
//! Two pairs of proxies: one plain (abridged, intermediate, padded) and one
//! with a fronting domain, which serves fake-TLS clients only. The session
//! runner is in `session.rs`, sessions at the protocol's limits in
//! `limits.rs`, random sessions in `random.rs`.
mod limits;
mod random;
mod session;

use mtproxy_core::runtime::{Domain, ProxySettings};
use mtproxy_sys::c::mtproto_proxy as rust_proxy;
use mtproxy_sys::cref::mtproto_proxy as c_proxy;
use mtproxy_testkit::client::{ClientOptions, Received, TestClient, Transport};
use mtproxy_testkit::fake_me::{Behaviour, Event, FakeMe, FakeMeConfig, SecretSource};
use mtproxy_testkit::fronting::FakeDomain;
use session::{compare, Link, Session};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

const SECRET: [u8; 16] = *b"0123456789abcdef";
/// Start-up only (the pool's handshakes); sessions scale their own
/// deadlines to their work (`session.rs`).
const WAIT: Duration = Duration::from_secs(20);
/// The ME connections each proxy keeps: its one target (DCs 2 and 4 share
/// the address) at the default `min_connections`, one worker.
const POOL: usize = 4;
/// The fake-TLS pair's fronting domain: the SNI `ee` secrets carry.
const DOMAIN: &str = "example.com";

fn proxy_secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 37 + 11) as u8).collect()
}

/// The proxy's counters a session may move, as `(name, value)`.
fn counters(stats: &c_proxy::ProxyStats) -> [(&'static str, i64); 7] {
    [
        ("forwarded_queries", stats.tot_forwarded_queries),
        ("dropped_queries", stats.dropped_queries),
        ("forwarded_responses", stats.tot_forwarded_responses),
        ("dropped_responses", stats.dropped_responses),
        ("forwarded_simple_acks", stats.tot_forwarded_simple_acks),
        ("dropped_simple_acks", stats.dropped_simple_acks),
        ("ext_connections_created", stats.ext_connections_created),
    ]
}

/// One side: its fake middle-end, its proxy (running) and its address.
struct Side {
    me: FakeMe,
    addr: SocketAddr,
    stats: Box<dyn Fn() -> c_proxy::ProxyStats + Send + Sync>,
    stop: Box<dyn Fn() + Send + Sync>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Side {
    /// The proxy's count of ready ME connections plus bound clients.
    fn encrypted(&self) -> i64 {
        (self.stats)().total_encrypted_connections
    }
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
    ($module:ident, $domains:expr) => {{
        let me = FakeMe::start(FakeMeConfig {
            seed: Some(5),
            ..FakeMeConfig::new(SecretSource::Bytes(proxy_secret()))
        })
        .unwrap();
        let settings = ProxySettings {
            secrets: vec![SECRET],
            domains: $domains,
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
        let stats_of = Arc::clone(&proxy);
        let side = Side {
            me,
            addr,
            stats: Box::new(move || {
                let mut stats = $module::ProxyStats::default();
                stats_of.collect_stats(&mut stats);
                stats
            }),
            stop: Box::new(move || proxy.stop(0)),
            worker: Some(worker),
        };
        // The whole pool is up, at the middle-end and in the proxy, before
        // any session: both sides then drew the same nonces and bind
        // clients over the same set of ready connections.
        assert!(
            session::wait_idle(&side, WAIT),
            "{} proxy's pool never became ready",
            stringify!($module)
        );
        side
    }};
}

struct Pair {
    c: Side,
    rust: Side,
}

/// The fake-TLS pair's fronting domain (never reached by a valid client).
fn fronting_port() -> u16 {
    static DOMAIN: OnceLock<FakeDomain> = OnceLock::new();
    DOMAIN
        .get_or_init(|| FakeDomain::start(FakeDomain::tls_like_reply()).unwrap())
        .port()
}

fn start_pair(fake_tls: bool) -> Pair {
    let domains = || {
        if !fake_tls {
            return Vec::new();
        }
        vec![Domain {
            name: DOMAIN.as_bytes().to_vec(),
            relay_ipv4: 0x7f00_0001,
            relay_port: fronting_port(),
        }]
    };
    Pair {
        c: start_side!(c_proxy, domains()),
        rust: start_side!(rust_proxy, domains()),
    }
}

/// Runs `test` on the plain pair or the fake-TLS one (which serves fake-TLS
/// clients only), one test at a time. A pair is kept from test to test while
/// its sides agree (each session then finds them in the same state); a
/// test that fails drops it, so the next test, or the next shrinking step,
/// starts from fresh proxies instead of inheriting the divergence.
fn with_pair<T>(fake_tls: bool, test: impl FnOnce(&Pair) -> Result<T, String>) -> T {
    static PLAIN: Mutex<Option<Pair>> = Mutex::new(None);
    static TLS: Mutex<Option<Pair>> = Mutex::new(None);
    let slot = if fake_tls { &TLS } else { &PLAIN };
    let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    let pair = guard.get_or_insert_with(|| start_pair(fake_tls));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(pair)));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(message)) => {
            *guard = None;
            panic!("{message}");
        }
        Err(panic) => {
            *guard = None;
            std::panic::resume_unwind(panic);
        }
    }
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
    let (from_c, from_rust) = with_pair(false, |pair| {
        for side in [&pair.c, &pair.rust] {
            assert_eq!(side.encrypted(), POOL as i64, "pool ready, no client bound");
        }
        Ok((spread(&pair.c, 2 * POOL), spread(&pair.rust, 2 * POOL)))
    });
    assert_eq!(from_c, from_rust);
    // Round-robin over the whole pool.
    assert_eq!(from_c, vec![0, 1, 2, 3, 0, 1, 2, 3]);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// evidence: abridged, intermediate, padded, fake-tls, ans, simple-ack, close-ext
#[test]
fn scripted_sessions_match() {
    for link in Link::ALL {
        for behaviour in [
            Behaviour::Echo,
            Behaviour::SimpleAck,
            Behaviour::ReplyBytes(5000),
            Behaviour::CloseExt,
            Behaviour::Stall,
            Behaviour::DropConnection,
        ] {
            compare(&Session {
                packets: vec![(56, false), (1024, true), (60_000, false), (64, true)],
                behaviour,
                ..Session::new(link)
            });
        }
    }
}

#[test]
fn tls_profiles_are_taken_for_known_domains_only_alike() {
    use mtproxy_core::net::fake_tls::TlsProfile;
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
