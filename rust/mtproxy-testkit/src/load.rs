//! The load generator behind `mtproxy-load`: N client connections through a
//! proxy to a middle-end (normally the fake one), measured from outside.
//!
//! Each active connection runs on its own thread with a blocking
//! [`TestClient`]: it writes a window of packets, then reads their answers,
//! so every connection keeps up to `window` packets in flight. Idle mode
//! only connects and holds the connections (RSS per idle connection).
//! Process figures (CPU seconds, RSS) come from /proc/PID of the proxy.

use crate::client::{ClientOptions, Received, TestClient, Transport};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the connections do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send packets of `size` and read the echoes (ME behaviour echo).
    Echo,
    /// Send small requests and read whatever comes back (ME behaviour
    /// reply:N gives the download size).
    Download,
    /// Connect, do one round trip, then hold the connection idle.
    Idle,
}

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
    /// Print progress to stderr every second.
    pub progress: bool,
}

/// The figures of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub connections: usize,
    pub seconds: f64,
    pub handshakes_per_sec: f64,
    /// Proxy CPU milliseconds per connection set-up (handshake plus, in
    /// idle mode, the first round trip).
    pub handshake_cpu_ms: Option<f64>,
    pub up_bytes: u64,
    pub down_bytes: u64,
    pub up_mb_per_sec: f64,
    pub down_mb_per_sec: f64,
    pub round_trips: u64,
    pub rtt_p50_us: u64,
    pub rtt_p99_us: u64,
    pub errors: u64,
    /// Proxy CPU seconds (user + system) during the measured phase.
    pub proxy_cpu_seconds: Option<f64>,
    /// Proxy CPU seconds per GB relayed (both directions counted).
    pub cpu_seconds_per_gb: Option<f64>,
    /// The part of it spent in the kernel (system time): TCP and wake-ups.
    pub kernel_seconds_per_gb: Option<f64>,
    pub proxy_rss_kib_before: Option<u64>,
    pub proxy_rss_kib_after: Option<u64>,
    /// (RSS after connecting − before) / connections, in bytes.
    pub rss_bytes_per_connection: Option<f64>,
}

/// A packet the proxy forwards (§3.1), `len` rounded up to a multiple of 4
/// and at least 56, stamped with `seq`.
pub fn load_packet(len: usize, seq: u64) -> Vec<u8> {
    let len = len.max(56).div_ceil(4) * 4;
    let mut p = vec![0x5au8; len];
    p[..8].copy_from_slice(&(seq | 1 << 63).to_le_bytes());
    p
}

/// User + system CPU seconds of a process, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    user_and_system_seconds(pid).map(|(user, system)| user + system)
}

/// (user, system) CPU seconds of a process, from /proc/PID/stat.
pub fn user_and_system_seconds(pid: u32) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / clock_ticks(), stime / clock_ticks()))
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux ABI this runs on.
    100.0
}

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

struct Totals {
    up: AtomicU64,
    down: AtomicU64,
    round_trips: AtomicU64,
    errors: AtomicU64,
    rtts: Mutex<Vec<u64>>,
}

fn connect(config: &LoadConfig) -> Result<TestClient, String> {
    let options = ClientOptions {
        io_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    };
    TestClient::connect(
        config.proxy,
        &config.secret,
        config.transport,
        config.dc,
        options,
    )
    .map_err(|e| e.to_string())
}

fn run_connection(
    mut client: TestClient,
    config: &LoadConfig,
    stop: &AtomicBool,
    totals: &Totals,
    id: u64,
) {
    let request_len = match config.mode {
        Mode::Echo => config.size,
        Mode::Download | Mode::Idle => 64,
    };
    let mut seq = id << 32;
    let mut rtts = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        for _ in 0..config.window {
            seq += 1;
            if client
                .send_packet(&load_packet(request_len, seq), false)
                .is_err()
            {
                totals.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            totals.up.fetch_add(request_len as u64, Ordering::Relaxed);
        }
        for _ in 0..config.window {
            match client.recv_packet(Duration::from_secs(10)) {
                Ok(Received::Packet(p)) => {
                    totals.down.fetch_add(p.len() as u64, Ordering::Relaxed);
                }
                Ok(Received::QuickAck(_)) => {}
                Err(_) => {
                    totals.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        totals
            .round_trips
            .fetch_add(config.window as u64, Ordering::Relaxed);
        if config.window == 1 {
            rtts.push(started.elapsed().as_micros() as u64);
        }
    }
    if let Ok(mut all) = totals.rtts.lock() {
        all.extend(rtts);
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs the load and returns the report.
pub fn run(config: &LoadConfig) -> Result<Report, String> {
    let mut report = Report {
        connections: config.connections,
        ..Report::default()
    };
    report.proxy_rss_kib_before = config.pid.and_then(rss_kib);
    let connect_cpu = config.pid.and_then(cpu_seconds);
    let connect_start = Instant::now();
    let mut clients = Vec::with_capacity(config.connections);
    for i in 0..config.connections {
        let mut client = connect(config).map_err(|e| format!("connection {i}: {e}"))?;
        if config.mode == Mode::Idle {
            client
                .send_packet(&load_packet(64, i as u64), false)
                .and_then(|()| client.recv_packet(Duration::from_secs(10)))
                .map_err(|e| format!("connection {i}: first round trip: {e}"))?;
        }
        clients.push(client);
        if config.progress && i % 1000 == 999 {
            eprintln!("mtproxy-load: {} connections up", i + 1);
        }
    }
    let connect_secs = connect_start.elapsed().as_secs_f64();
    report.handshakes_per_sec = config.connections as f64 / connect_secs.max(1e-9);
    if let (Some(a), Some(b)) = (connect_cpu, config.pid.and_then(cpu_seconds)) {
        report.handshake_cpu_ms = Some((b - a) * 1e3 / config.connections.max(1) as f64);
    }
    if config.mode == Mode::Idle {
        report.proxy_rss_kib_after = config.pid.and_then(rss_kib);
        if let (Some(before), Some(after)) =
            (report.proxy_rss_kib_before, report.proxy_rss_kib_after)
        {
            report.rss_bytes_per_connection = Some(
                (after.saturating_sub(before) * 1024) as f64 / config.connections.max(1) as f64,
            );
        }
        let cpu_before = config.pid.and_then(cpu_seconds);
        std::thread::sleep(config.duration);
        report.seconds = config.duration.as_secs_f64();
        if let (Some(a), Some(b)) = (cpu_before, config.pid.and_then(cpu_seconds)) {
            report.proxy_cpu_seconds = Some(b - a);
        }
        return Ok(report);
    }
    let totals = Arc::new(Totals {
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
        round_trips: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        rtts: Mutex::new(Vec::new()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = config.pid.and_then(user_and_system_seconds);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (id, client) in clients.into_iter().enumerate() {
            let (stop, totals) = (&stop, &totals);
            scope.spawn(move || run_connection(client, config, stop, totals, id as u64));
        }
        let mut last = Instant::now();
        while started.elapsed() < config.duration {
            std::thread::sleep(Duration::from_millis(100).min(config.duration));
            if config.progress && last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                eprintln!(
                    "mtproxy-load: {:.0}s up {:.1} MB down {:.1} MB errors {}",
                    started.elapsed().as_secs_f64(),
                    totals.up.load(Ordering::Relaxed) as f64 / 1e6,
                    totals.down.load(Ordering::Relaxed) as f64 / 1e6,
                    totals.errors.load(Ordering::Relaxed)
                );
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let seconds = started.elapsed().as_secs_f64();
    report.seconds = seconds;
    report.up_bytes = totals.up.load(Ordering::Relaxed);
    report.down_bytes = totals.down.load(Ordering::Relaxed);
    report.up_mb_per_sec = report.up_bytes as f64 / 1e6 / seconds;
    report.down_mb_per_sec = report.down_bytes as f64 / 1e6 / seconds;
    report.round_trips = totals.round_trips.load(Ordering::Relaxed);
    report.errors = totals.errors.load(Ordering::Relaxed);
    let mut rtts = totals.rtts.lock().map(|r| r.clone()).unwrap_or_default();
    rtts.sort_unstable();
    report.rtt_p50_us = percentile(&rtts, 0.50);
    report.rtt_p99_us = percentile(&rtts, 0.99);
    if let (Some(a), Some(b)) = (cpu_before, config.pid.and_then(user_and_system_seconds)) {
        let cpu = (b.0 - a.0) + (b.1 - a.1);
        report.proxy_cpu_seconds = Some(cpu);
        let gb = (report.up_bytes + report.down_bytes) as f64 / 1e9;
        if gb > 0.0 {
            report.cpu_seconds_per_gb = Some(cpu / gb);
            report.kernel_seconds_per_gb = Some((b.1 - a.1) / gb);
        }
    }
    report.proxy_rss_kib_after = config.pid.and_then(rss_kib);
    Ok(report)
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "null".to_string(), |v| v.to_string())
}

impl Report {
    /// One JSON object (no external serializer: the fields are numbers).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"connections\":{},\"seconds\":{:.3},\"handshakes_per_sec\":{:.1},\"handshake_cpu_ms\":{},\"up_bytes\":{},\"down_bytes\":{},\"up_mb_per_sec\":{:.2},\"down_mb_per_sec\":{:.2},\"round_trips\":{},\"rtt_p50_us\":{},\"rtt_p99_us\":{},\"errors\":{},\"proxy_cpu_seconds\":{},\"cpu_seconds_per_gb\":{},\"kernel_seconds_per_gb\":{},\"proxy_rss_kib_before\":{},\"proxy_rss_kib_after\":{},\"rss_bytes_per_connection\":{}}}",
            self.connections,
            self.seconds,
            self.handshakes_per_sec,
            opt(&self.handshake_cpu_ms.map(|v| format!("{v:.4}"))),
            self.up_bytes,
            self.down_bytes,
            self.up_mb_per_sec,
            self.down_mb_per_sec,
            self.round_trips,
            self.rtt_p50_us,
            self.rtt_p99_us,
            self.errors,
            opt(&self.proxy_cpu_seconds.map(|v| format!("{v:.3}"))),
            opt(&self.cpu_seconds_per_gb.map(|v| format!("{v:.3}"))),
            opt(&self.kernel_seconds_per_gb.map(|v| format!("{v:.3}"))),
            opt(&self.proxy_rss_kib_before),
            opt(&self.proxy_rss_kib_after),
            opt(&self.rss_bytes_per_connection.map(|v| format!("{v:.0}"))),
        )
    }

    /// A human-readable table.
    pub fn to_table(&self) -> String {
        let mut rows = vec![
            ("connections", self.connections.to_string()),
            ("seconds", format!("{:.2}", self.seconds)),
            ("handshakes/s", format!("{:.0}", self.handshakes_per_sec)),
            ("upload MB/s", format!("{:.2}", self.up_mb_per_sec)),
            ("download MB/s", format!("{:.2}", self.down_mb_per_sec)),
            ("round trips", self.round_trips.to_string()),
            ("errors", self.errors.to_string()),
        ];
        // Latency is sampled only with one packet in flight (--window 1).
        if self.rtt_p99_us > 0 {
            rows.push((
                "rtt p50 / p99 (us)",
                format!("{} / {}", self.rtt_p50_us, self.rtt_p99_us),
            ));
        }
        if let Some(v) = self.handshake_cpu_ms.filter(|_| self.connections >= 100) {
            rows.push(("proxy CPU ms/handshake", format!("{v:.4}")));
        }
        if let Some(cpu) = self.proxy_cpu_seconds {
            rows.push(("proxy CPU s", format!("{cpu:.3}")));
        }
        if let Some(v) = self.cpu_seconds_per_gb {
            rows.push(("proxy CPU s/GB", format!("{v:.3}")));
        }
        if let Some(v) = self.kernel_seconds_per_gb {
            rows.push(("  of which kernel", format!("{v:.3}")));
        }
        if let Some(v) = self.rss_bytes_per_connection {
            rows.push(("RSS bytes/conn", format!("{v:.0}")));
        }
        rows.iter().map(|(k, v)| format!("{k:<20} {v}\n")).collect()
    }
}
