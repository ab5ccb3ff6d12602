//! The figures of one run and their JSON and table forms.

/// The figures of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub connections: usize,
    pub seconds: f64,
    pub handshakes_per_sec: f64,
    /// Proxy CPU milliseconds per connection set-up (handshake plus, in
    /// idle mode, the first round trip).
    pub handshake_cpu_ms: Option<f64>,
    /// Request bytes whose answer arrived in the measured phase.
    pub up_bytes: u64,
    /// Answer bytes received in the measured phase.
    pub down_bytes: u64,
    pub up_mb_per_sec: f64,
    pub down_mb_per_sec: f64,
    /// Answers received in the measured phase.
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
    /// Generator threads.
    pub threads: usize,
    /// The proxy's system time in the measured phase.
    pub proxy_kernel_seconds: Option<f64>,
    /// The generator's own CPU seconds (user + system, all its threads)
    /// in the measured phase.
    pub generator_cpu_s: f64,
    /// The system part of `generator_cpu_s`.
    pub generator_kernel_s: f64,
    /// `generator_cpu_s` per GB (both directions).
    pub generator_cpu_s_per_gb: Option<f64>,
    /// The generator's CPU milliseconds per connection set-up.
    pub generator_handshake_cpu_ms: f64,
    /// The middle-end's CPU seconds in the measured phase (with `me_pid`).
    pub me_cpu_s: Option<f64>,
}

pub(super) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "null".to_string(), |v| v.to_string())
}

impl Report {
    /// One JSON object (no external serializer: the fields are numbers).
    /// The generator's figures come last, after the fields older readers
    /// know.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"connections\":{},\"seconds\":{:.3},\"handshakes_per_sec\":{:.1},\"handshake_cpu_ms\":{},\"up_bytes\":{},\"down_bytes\":{},\"up_mb_per_sec\":{:.2},\"down_mb_per_sec\":{:.2},\"round_trips\":{},\"rtt_p50_us\":{},\"rtt_p99_us\":{},\"errors\":{},\"proxy_cpu_seconds\":{},\"cpu_seconds_per_gb\":{},\"kernel_seconds_per_gb\":{},\"proxy_rss_kib_before\":{},\"proxy_rss_kib_after\":{},\"rss_bytes_per_connection\":{},\"threads\":{},\"proxy_kernel_seconds\":{},\"generator_cpu_s\":{:.3},\"generator_kernel_s\":{:.3},\"generator_cpu_s_per_gb\":{},\"generator_handshake_cpu_ms\":{:.4},\"me_cpu_s\":{}}}",
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
            self.threads,
            opt(&self.proxy_kernel_seconds.map(|v| format!("{v:.3}"))),
            self.generator_cpu_s,
            self.generator_kernel_s,
            opt(&self.generator_cpu_s_per_gb.map(|v| format!("{v:.3}"))),
            self.generator_handshake_cpu_ms,
            opt(&self.me_cpu_s.map(|v| format!("{v:.3}"))),
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
            let kernel = self.proxy_kernel_seconds.unwrap_or(0.0);
            rows.push((
                "proxy CPU s",
                format!("{cpu:.3} (user {:.3}, kernel {kernel:.3})", cpu - kernel),
            ));
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
        rows.push((
            "generator CPU s",
            format!(
                "{:.3} (user {:.3}, kernel {:.3}; {} thread{})",
                self.generator_cpu_s,
                self.generator_cpu_s - self.generator_kernel_s,
                self.generator_kernel_s,
                self.threads,
                if self.threads == 1 { "" } else { "s" }
            ),
        ));
        if let Some(v) = self.generator_cpu_s_per_gb {
            rows.push(("generator CPU s/GB", format!("{v:.3}")));
        }
        if let Some(v) = self.me_cpu_s {
            rows.push(("middle-end CPU s", format!("{v:.3}")));
        }
        if self.connections >= 100 {
            rows.push((
                "generator ms/handshake",
                format!("{:.4}", self.generator_handshake_cpu_ms),
            ));
        }
        rows.iter().map(|(k, v)| format!("{k:<22} {v}\n")).collect()
    }
}
