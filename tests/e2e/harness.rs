//! Starting the built `mtproxy-rust` against the test kit's fakes.
use mtproxy_testkit::client::{ClientOptions, TestClient, Transport};
use mtproxy_testkit::fake_me::{FakeMe, FakeMeConfig, SecretSource};
use mtproxy_testkit::process::ChildGuard;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const SECRET_HEX: &str = "0123456789abcdef0123456789abcdef";
pub const WAIT: Duration = Duration::from_secs(20);
/// Connections a worker keeps to a target by default (`min_connections`,
/// docs/PROTOCOL.md §5.1).
pub const DEFAULT_POOL: usize = 4;

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mtproxy-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A proxy-secret file's bytes (128 bytes like the official one).
pub fn proxy_secret() -> Vec<u8> {
    (0..128u32).map(|i| (i * 37 + 11) as u8).collect()
}

/// A fake middle-end, the files pointing the proxy at it, and the proxy.
pub struct Rig {
    pub scratch: Scratch,
    pub me: FakeMe,
    pub proxy: Proxy,
    /// ME connections the proxy keeps in all (pool size × workers).
    pub pool: usize,
}

pub struct Proxy {
    pub child: ChildGuard,
    pub port: u16,
    pub stats_port: Option<u16>,
    pub stderr: PathBuf,
}

impl Proxy {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn pid(&self) -> i32 {
        self.child.id().expect("proxy running") as i32
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

pub fn start_me(scratch: &Scratch, port: u16) -> FakeMe {
    let secret = scratch.path("proxy-secret");
    if !secret.exists() {
        std::fs::write(&secret, proxy_secret()).unwrap();
    }
    // A restart on a fixed port may find the old middle-end's accepted
    // sockets still closing (EADDRINUSE): poll until they are gone.
    let deadline = Instant::now() + WAIT;
    loop {
        match FakeMe::start(FakeMeConfig {
            port,
            ..FakeMeConfig::new(SecretSource::File(secret.clone()))
        }) {
            Ok(me) => return me,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("fake middle-end starts: {e}"),
        }
    }
}

/// The proxy binary under test, pinned at first use: a hard link to the
/// file cargo built for this test run, so a later build of another feature
/// set (which replaces target/debug/mtproxy-rust) cannot change the binary
/// under tests still running.
pub fn proxy_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_mtproxy-rust"));
        let dir = std::env::temp_dir().join(format!("mtproxy-e2e-bin-{}", std::process::id()));
        let pinned = dir.join("mtproxy-rust");
        let _ = std::fs::remove_file(&pinned);
        let linked =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::hard_link(&built, &pinned));
        if linked.is_ok() {
            pinned
        } else {
            built
        }
    })
}

/// Runs the binary with `args` and expects a start-up refusal: exit status
/// 2 and `needle` in the one error line.
pub fn refused(args: &[&str], needle: &str) {
    let out = Command::new(proxy_bin())
        .args(args)
        .output()
        .expect("run mtproxy-rust");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.contains(needle), "{args:?}: {stderr}");
}

/// The user the tests run the proxy as (`-u`, always explicit): the current
/// one, so it can read the scratch files and reread them on SIGHUP (root
/// here: the proxy then warns about `-u root`).
pub fn run_user() -> String {
    let uid = nix::unistd::geteuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| "root".to_string(), |u| u.name)
}

/// The proxy's command line with the rig's files plus `extra` arguments,
/// its output going to `proxy.stdout` / `proxy.stderr`, without `-u`.
pub fn proxy_command(scratch: &Scratch, conf: &Path, extra: &[&str]) -> Command {
    let stderr = scratch.path("proxy.stderr");
    let stdout = scratch.path("proxy.stdout");
    let mut cmd = Command::new(proxy_bin());
    cmd.args([
        "-H",
        "0",
        "-p",
        "0",
        "-M",
        "1",
        "-S",
        SECRET_HEX,
        "--aes-pwd",
    ])
    .arg(scratch.path("proxy-secret"))
    .arg("--ports-file")
    .arg(scratch.path("ports"))
    .args(extra)
    .arg(conf)
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&stdout).unwrap())
    .stderr(std::fs::File::create(&stderr).unwrap());
    cmd
}

/// Starts the proxy binary with the rig's files plus `extra` arguments
/// (and `-u` [`run_user`] unless `extra` has one) and waits until it has
/// bound its ports.
pub fn start_proxy(scratch: &Scratch, conf: &Path, extra: &[&str]) -> Proxy {
    let ports_file = scratch.path("ports");
    let _ = std::fs::remove_file(&ports_file);
    let stderr = scratch.path("proxy.stderr");
    let user = run_user();
    let mut args: Vec<&str> = Vec::new();
    if !extra.contains(&"-u") {
        args.extend(["-u", &user]);
    }
    args.extend(extra);
    let mut cmd = proxy_command(scratch, conf, &args);
    let mut child = ChildGuard::new(cmd.spawn().expect("spawn mtproxy-rust"));
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(&ports_file) {
            let mut port = None;
            let mut stats_port = None;
            for line in text.lines() {
                match line.split_once(' ') {
                    Some(("client", p)) if port.is_none() => port = p.trim().parse().ok(),
                    Some(("stats", p)) => stats_port = p.trim().parse().ok(),
                    _ => {}
                }
            }
            let port = port.expect("client port in ports file");
            return Proxy {
                child,
                port,
                stats_port,
                stderr,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "proxy exited with {status} before binding:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "proxy did not write its ports file"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Rig {
    /// Fake ME for DC 2 (default), proxy with one worker and `extra` args.
    pub fn start(extra: &[&str]) -> Rig {
        Rig::start_conf("", extra, DEFAULT_POOL)
    }

    /// Like `start`, with `conf_head` written before the config's proxy
    /// lines and `pool` the ME connections the proxy is expected to keep.
    pub fn start_conf(conf_head: &str, extra: &[&str], pool: usize) -> Rig {
        let scratch = Scratch::new();
        let me = start_me(&scratch, 0);
        let conf = scratch.path("proxy-multi.conf");
        std::fs::write(&conf, format!("{conf_head}{}", me.proxy_multi_conf(&[2]))).unwrap();
        let proxy = start_proxy(&scratch, &conf, extra);
        let rig = Rig {
            scratch,
            me,
            proxy,
            pool,
        };
        rig.wait_me_ready();
        rig
    }

    /// Waits until the proxy's whole middle-end pool finished its
    /// handshakes (as the middle-end sees it).
    pub fn wait_me_ready(&self) {
        let ready = self.me.handle().wait_ready_connections(self.pool, WAIT);
        assert!(
            ready,
            "{} ready ME connections, {} expected; proxy stderr:\n{}",
            self.me.handle().ready_connections().len(),
            self.pool,
            self.proxy.stderr_text()
        );
    }

    /// Polls /stats until `key` has `value` (the proxy's own view, e.g. of
    /// its ready connections); panics at the deadline.
    pub fn wait_stat(&self, key: &str, value: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let stats = self.stats();
            let now = stats.get(key).and_then(|v| v.trim().parse::<i64>().ok());
            if now == Some(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/stats {key} stayed {now:?}, expected {value}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn client(&self, secret: &str, transport: Transport) -> TestClient {
        TestClient::connect(
            self.proxy.addr(),
            secret,
            transport,
            2,
            ClientOptions::default(),
        )
        .unwrap_or_else(|e| panic!("connect: {e}; proxy stderr:\n{}", self.proxy.stderr_text()))
    }

    pub fn stats(&self) -> std::collections::HashMap<String, String> {
        let (status, body) = http_get(self.proxy.stats_port.expect("stats port"), "/stats");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// `GET path` on 127.0.0.1:port: (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// An MTProto-looking packet the proxy forwards (§3.1: nonzero auth key id,
/// at least 56 bytes, a multiple of 4), `len` bytes, its content derived
/// from `seed`.
pub fn packet(len: usize, seed: u32) -> Vec<u8> {
    assert!(len >= 56 && len % 4 == 0);
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut p: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    p[0] = 1;
    // Bit 31 of the fake middle-end's quick-ack confirm (the first 4
    // bytes), as clients expect (docs/PROTOCOL.md §3.2).
    p[3] |= 0x80;
    p
}

/// Resident memory of a process in KiB (/proc/PID/status VmRSS).
pub fn rss_kib(pid: i32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
}

/// Reads until the peer closes (or the wait ends): the bytes and whether
/// the close came.
pub fn drain(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// Sends a recorded `hello` to `proxy` on a new connection and checks the
/// proxy relays it unchanged to `domain` (to a connection after its first
/// `skip`, the start-up probe's) and passes the domain's answer back.
pub fn replay_reaches_the_domain(
    proxy: SocketAddr,
    hello: &[u8],
    domain: &mtproxy_testkit::fronting::FakeDomain,
    skip: usize,
) {
    use mtproxy_testkit::fronting::FakeDomain;
    let mut replay = TcpStream::connect(proxy).unwrap();
    replay.write_all(hello).unwrap();
    let relayed = domain.wait_for(WAIT, |conns| {
        conns
            .iter()
            .skip(skip)
            .find(|c| c.received.len() >= hello.len())
            .map(|c| c.received.clone())
    });
    assert_eq!(
        relayed.as_deref(),
        Some(hello),
        "the replay reaches the domain unchanged"
    );
    let mut reply = vec![0u8; FakeDomain::tls_like_reply().len()];
    replay.set_read_timeout(Some(WAIT)).unwrap();
    replay.read_exact(&mut reply).unwrap();
    assert_eq!(reply, FakeDomain::tls_like_reply());
}
