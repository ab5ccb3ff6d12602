//! The load generator behind `mtproxy-load`: N client connections through a
//! proxy to a middle-end (normally the fake one), measured from outside.
//!
//! The engine is a few threads (`threads`, default 1), each with its own
//! edge-triggered epoll instance and a share of the connections, every
//! connection a non-blocking state machine: connect → handshake (the
//! obfuscated2 header, or the fake-TLS ClientHello / ServerHello / CCS and
//! first record) → keep `window` packets in flight (a new packet as each
//! answer arrives) → read answers. The framing, the obfuscated2 header, the
//! fake-TLS hello and records are `mtproxy_core`'s codecs, the same ones the
//! blocking [`TestClient`](crate::client::TestClient) uses. A run has two
//! phases: set-up (all connections connected and handshaken, at most
//! `connect_concurrency` handshakes in progress per thread; in idle mode
//! also one round trip each), then the measured phase of `duration`.
//!
//! Process figures come from /proc: the proxy's CPU seconds and RSS from
//! /proc/PID, the generator's own CPU seconds from /proc/self, so a report
//! shows when the generator rather than the proxy is the bottleneck.

mod engine;
mod procfs;
mod report;

pub use procfs::{cpu_seconds, own_cpu_seconds, rss_kib, user_and_system_seconds};
pub use report::Report;

use crate::client::Transport;
use engine::{worker, Shared, ThreadResult};
use mtproxy_core::net::obfs2;
use report::percentile;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// What the connections do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send packets of `size` and read the answers (ME behaviour echo: both
    /// ways; reply:64: upload).
    Echo,
    /// Send small requests and read whatever comes back (ME behaviour
    /// reply:N gives the download size).
    Download,
    /// Connect, do one round trip, then hold the connection idle.
    Idle,
}

/// Handshakes in progress at once per thread, by default.
pub const DEFAULT_CONNECT_CONCURRENCY: usize = 64;
/// How long a connection's set-up may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes taken from a socket per read.
const READ_CHUNK: usize = 256 * 1024;
/// Longest epoll sleep: how often a thread looks at the stop flag when idle.
const POLL_MS: u16 = 20;

#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub proxy: SocketAddr,
    pub secret: String,
    pub transport: Transport,
    pub dc: i16,
    pub connections: usize,
    pub size: usize,
    /// Packets in flight per connection.
    pub window: usize,
    pub duration: Duration,
    pub mode: Mode,
    /// The proxy's pid, for CPU and memory figures.
    pub pid: Option<u32>,
    /// The middle-end's pid (normally the fake one on the same machine),
    /// for its CPU in the measured phase.
    pub me_pid: Option<u32>,
    /// Print progress to stderr every second.
    pub progress: bool,
    /// Generator threads (each its own epoll loop); at least 1.
    pub threads: usize,
    /// Handshakes in progress at once per thread during set-up.
    pub connect_concurrency: usize,
}

impl LoadConfig {
    /// One intermediate-transport echo connection to `proxy` for 5 s,
    /// 1 KiB packets, window 1, one thread, no progress output.
    pub fn new(proxy: SocketAddr, secret: &str) -> LoadConfig {
        LoadConfig {
            proxy,
            secret: secret.to_string(),
            transport: Transport::Intermediate,
            dc: 2,
            connections: 1,
            size: 1024,
            window: 1,
            duration: Duration::from_secs(5),
            mode: Mode::Echo,
            pid: None,
            me_pid: None,
            progress: false,
            threads: 1,
            connect_concurrency: DEFAULT_CONNECT_CONCURRENCY,
        }
    }
}

/// A packet the proxy forwards (§3.1), `len` rounded up to a multiple of 4
/// and at least 56, stamped with `seq`.
pub fn load_packet(len: usize, seq: u64) -> Vec<u8> {
    let mut p = vec![0x5au8; packet_len(len)];
    stamp(&mut p, seq);
    p
}

fn packet_len(len: usize) -> usize {
    len.max(56).div_ceil(4) * 4
}

fn stamp(packet: &mut [u8], seq: u64) {
    if let Some(head) = packet.first_chunk_mut::<8>() {
        *head = (seq | 1 << 63).to_le_bytes();
    }
}

/// Runs the load and returns the report.
pub fn run(config: &LoadConfig) -> Result<Report, String> {
    let secret = obfs2::parse_secret(config.secret.as_bytes())
        .map_err(|_| "the secret is in none of the accepted forms".to_string())?;
    let threads = config.threads.clamp(1, config.connections.max(1));
    let request_len = packet_len(match config.mode {
        Mode::Echo => config.size,
        Mode::Download | Mode::Idle => 64,
    });
    let shared = Shared {
        config,
        secret,
        request_len,
        setup_barrier: Barrier::new(threads + 1),
        start_barrier: Barrier::new(threads + 1),
        stop: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        first_error: Mutex::new(None),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    };
    // Connection ids dealt round-robin to the threads.
    let ids: Vec<Vec<u64>> = (0..threads)
        .map(|t| {
            (t..config.connections)
                .step_by(threads)
                .map(|i| i as u64)
                .collect()
        })
        .collect();
    let mut report = Report {
        connections: config.connections,
        threads,
        ..Report::default()
    };
    report.proxy_rss_kib_before = config.pid.and_then(rss_kib);
    let proxy_cpu = || config.pid.and_then(user_and_system_seconds);
    let setup_proxy_cpu = proxy_cpu();
    let setup_own_cpu = own_cpu_seconds();
    let setup_start = Instant::now();
    let (results, measured) = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .iter()
            .map(|ids| {
                let shared = &shared;
                scope.spawn(move || worker(shared, ids))
            })
            .collect();
        shared.setup_barrier.wait();
        // Set-up figures.
        let setup_end_cpu = proxy_cpu();
        let setup_end_own = own_cpu_seconds();
        let mut measured = Measured {
            setup_proxy_cpu: setup_proxy_cpu
                .zip(setup_end_cpu)
                .map(|(a, b)| cpu_delta(a, b)),
            setup_own_cpu: cpu_delta(setup_own_cpu, setup_end_own),
            ..Measured::default()
        };
        if config.mode == Mode::Idle {
            measured.rss_after_setup = config.pid.and_then(rss_kib);
        }
        let aborted = shared.abort.load(Ordering::Relaxed);
        let before = proxy_cpu();
        let me_before = config.me_pid.and_then(cpu_seconds);
        let own_before = own_cpu_seconds();
        let started = Instant::now();
        shared.start_barrier.wait();
        if !aborted {
            let mut last = Instant::now();
            while started.elapsed() < config.duration {
                let left = config.duration.saturating_sub(started.elapsed());
                std::thread::sleep(left.min(Duration::from_millis(100)));
                if config.progress && last.elapsed() >= Duration::from_secs(1) {
                    last = Instant::now();
                    eprintln!(
                        "mtproxy-load: {:.0}s up {:.1} MB down {:.1} MB errors {}",
                        started.elapsed().as_secs_f64(),
                        shared.up.load(Ordering::Relaxed) as f64 / 1e6,
                        shared.down.load(Ordering::Relaxed) as f64 / 1e6,
                        shared.errors.load(Ordering::Relaxed)
                    );
                }
            }
        }
        shared.stop.store(true, Ordering::Relaxed);
        measured.seconds = started.elapsed().as_secs_f64();
        measured.proxy_cpu = before.zip(proxy_cpu()).map(|(a, b)| (b.0 - a.0, b.1 - a.1));
        measured.me_cpu = me_before
            .zip(config.me_pid.and_then(cpu_seconds))
            .map(|(a, b)| b - a);
        let own_after = own_cpu_seconds();
        measured.own_cpu = (own_after.0 - own_before.0, own_after.1 - own_before.1);
        let results: Vec<ThreadResult> =
            handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (results, measured)
    });
    if let Some(message) = shared.first_error.lock().ok().and_then(|e| e.clone()) {
        return Err(message);
    }
    if results.len() != threads {
        return Err("a generator thread panicked".into());
    }
    let setup_end = results
        .iter()
        .map(|r| r.setup_done_at)
        .max()
        .unwrap_or(setup_start);
    let setup_secs = setup_end.duration_since(setup_start).as_secs_f64();
    let n = config.connections.max(1) as f64;
    report.handshakes_per_sec = config.connections as f64 / setup_secs.max(1e-9);
    report.handshake_cpu_ms = measured.setup_proxy_cpu.map(|cpu| cpu * 1e3 / n);
    report.generator_handshake_cpu_ms = measured.setup_own_cpu * 1e3 / n;
    let mut rtts = Vec::new();
    for result in results {
        report.up_bytes += result.counts.up;
        report.down_bytes += result.counts.down;
        report.round_trips += result.counts.round_trips;
        report.errors += result.counts.errors;
        rtts.extend(result.rtts);
    }
    let seconds = measured.seconds;
    report.seconds = seconds;
    report.up_mb_per_sec = report.up_bytes as f64 / 1e6 / seconds.max(1e-9);
    report.down_mb_per_sec = report.down_bytes as f64 / 1e6 / seconds.max(1e-9);
    rtts.sort_unstable();
    report.rtt_p50_us = percentile(&rtts, 0.50);
    report.rtt_p99_us = percentile(&rtts, 0.99);
    let gb = (report.up_bytes + report.down_bytes) as f64 / 1e9;
    if let Some((user, system)) = measured.proxy_cpu {
        report.proxy_cpu_seconds = Some(user + system);
        report.proxy_kernel_seconds = Some(system);
        if gb > 0.0 {
            report.cpu_seconds_per_gb = Some((user + system) / gb);
            report.kernel_seconds_per_gb = Some(system / gb);
        }
    }
    report.me_cpu_s = measured.me_cpu;
    report.generator_cpu_s = measured.own_cpu.0 + measured.own_cpu.1;
    report.generator_kernel_s = measured.own_cpu.1;
    if gb > 0.0 {
        report.generator_cpu_s_per_gb = Some(report.generator_cpu_s / gb);
    }
    if config.mode == Mode::Idle {
        report.proxy_rss_kib_after = measured.rss_after_setup;
        if let (Some(before), Some(after)) =
            (report.proxy_rss_kib_before, report.proxy_rss_kib_after)
        {
            report.rss_bytes_per_connection =
                Some((after.saturating_sub(before) * 1024) as f64 / n);
        }
    } else {
        report.proxy_rss_kib_after = config.pid.and_then(rss_kib);
    }
    Ok(report)
}

/// Figures the main thread takes at the phase boundaries.
#[derive(Default)]
struct Measured {
    setup_proxy_cpu: Option<f64>,
    setup_own_cpu: f64,
    rss_after_setup: Option<u64>,
    seconds: f64,
    /// The proxy's (user, system) seconds in the measured phase.
    proxy_cpu: Option<(f64, f64)>,
    own_cpu: (f64, f64),
    me_cpu: Option<f64>,
}

fn cpu_delta(a: (f64, f64), b: (f64, f64)) -> f64 {
    (b.0 - a.0) + (b.1 - a.1)
}
