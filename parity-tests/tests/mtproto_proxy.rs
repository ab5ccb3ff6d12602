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

fn proxy_secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 37 + 11) as u8).collect()
}

/// One side: its fake middle-end, its proxy (running) and its address.
struct Side {
    me: FakeMe,
    addr: SocketAddr,
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
        let ready = me.handle().wait_ready(WAIT);
        assert!(
            ready,
            "{} proxy never reached its middle-end",
            stringify!($module)
        );
        Side {
            me,
            addr,
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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
