//! The engine-main module: runs the proxy as a process (contract:
//! ffi/include/mtp_engine_main.h, behaviour: docs/RUNTIME.md "Engine").
//!
//! Every other runtime module is reached through its contract
//! (`mtproxy_sys::c`), so the engine drives whichever side is linked.
mod links;
mod log;
mod probe;
mod refresh;
mod setup;
mod signals;
mod stats_server;

use crate::clock::unix_now;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use mtproxy_core::net::fake_tls;
use mtproxy_core::runtime::EngineConfig;
use mtproxy_sys::c::mtproto_proxy::Proxy;
use mtproxy_sys::c::net_events::{Event, Reactor, Waker};
use mtproxy_sys::c::{jobs_threads, md5, proc_stat, stats_http};

use signals::{Action, Signals};
use stats_server::{HttpCounters, StatsServer, StatsSource};

/// Exit status of a run that stopped on SIGTERM / SIGINT.
pub const EXIT_OK: i32 = 0;
/// Exit status of a run that could not start.
pub const EXIT_FAILURE: i32 = 1;

const EV_TIMER: u32 = mtproxy_sys::bindings::MTP_EV_TIMER;
const EV_WAKE: u32 = mtproxy_sys::bindings::MTP_EV_WAKE;

/// Engine reactor tokens below `stats_server::STATS_CONN_BASE`.
const TOKEN_SIGNALS: u64 = 1;
const TOKEN_STATS_LISTENER: u64 = 2;

/// The build string reported as `version`.
const VERSION: &str = concat!("mtproxy-rust-", env!("CARGO_PKG_VERSION"));

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The config file as loaded (for the stats page).
struct LoadedConfig {
    loaded_at: i64,
    size: usize,
    md5_hex: String,
}

impl LoadedConfig {
    fn new(text: &[u8]) -> LoadedConfig {
        LoadedConfig {
            loaded_at: unix_now(),
            size: text.len(),
            md5_hex: hex(&md5::md5(text)),
        }
    }
}

/// Fills the process fields of the stats page around the proxy's counters.
struct ProcessStats<'a> {
    proxy: &'a Proxy,
    domains: &'a [probe::Target],
    profiles: &'a probe::Profiles,
    config: &'a EngineConfig,
    loaded: &'a LoadedConfig,
    workers: u32,
    start_time: i64,
    /// Rust-only: the refresh of Telegram's files, when URLs are given.
    refresh: Option<&'a refresh::RefreshStats>,
}

impl StatsSource for ProcessStats<'_> {
    fn stats(&mut self, http: &HttpCounters, open_connections: usize) -> stats_http::ProxyStats {
        let mut s = stats_http::ProxyStats::default();
        self.proxy.collect_stats(&mut s);
        let now = unix_now();
        s.pid = i64::from(std::process::id());
        s.start_time = self.start_time;
        s.current_time = now;
        s.uptime = now - self.start_time;
        if let Ok(text) = std::fs::read("/proc/self/status") {
            // The parser converts the file's kB to bytes.
            let bytes = |key: &[u8]| proc_stat::parse_status_kb(&text, key).unwrap_or(0);
            s.vmsize_bytes = bytes(b"VmSize");
            s.vmrss_bytes = bytes(b"VmRSS");
            s.vmdata_bytes = bytes(b"VmData");
        }
        s.config_loaded_at = self.loaded.loaded_at;
        s.config_size = self.loaded.size as i64;
        s.workers = i64::from(self.workers);
        let queries = i64::try_from(http.queries).unwrap_or(i64::MAX);
        s.http_connections = open_connections as i64;
        s.pending_http_queries = 0;
        s.http_queries = queries;
        s.http_bad_headers = i64::try_from(http.bad_headers).unwrap_or(i64::MAX);
        s.http_qps_milli = queries.saturating_mul(1000) / s.uptime.max(1);
        s
    }

    fn extra(&self, prometheus: bool) -> Vec<u8> {
        let profiles = self
            .profiles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = unix_now();
        let mut out = Vec::new();
        for (target, profile) in self.domains.iter().zip(profiles.iter()) {
            let name = target.name.as_bytes();
            out.extend_from_slice(&stats_server::render(|buf| {
                fake_tls::render_profile_stats(name, profile, now, prometheus, buf)
            }));
        }
        if let Some(refresh) = self.refresh {
            out.extend_from_slice(&refresh.render(prometheus));
        }
        out
    }

    fn strings(&self) -> (&[u8], &[u8], &[u8]) {
        (
            self.config.config_file.as_bytes(),
            self.loaded.md5_hex.as_bytes(),
            VERSION.as_bytes(),
        )
    }
}

/// Runs the proxy until SIGTERM / SIGINT; returns the exit status.
pub fn run(config: &EngineConfig) -> i32 {
    match start(config) {
        Ok(running) => running.serve(),
        Err(reason) => {
            log::line(&format!("fatal: {reason}"));
            EXIT_FAILURE
        }
    }
}

/// Everything set up, workers running.
struct Running<'a> {
    config: &'a EngineConfig,
    proxy: Arc<Proxy>,
    jobs: Option<jobs_threads::Jobs>,
    workers: u32,
    finished: Arc<AtomicU32>,
    reactor: Reactor,
    signals: Signals,
    stats: Option<StatsServer>,
    loaded: LoadedConfig,
    start_time: i64,
    domains: Vec<probe::Target>,
    profiles: probe::Profiles,
    reprober: Option<probe::Reprober>,
    /// Saves the named users' quota state (Rust-only `--users-state`).
    users_saver: Option<crate::users::StateSaver>,
    /// Refetches Telegram's files (Rust-only `--config-url`,
    /// `--secret-url`).
    refresher: Option<refresh::Refresher>,
    refresh_stats: Option<Arc<refresh::RefreshStats>>,
}

fn start(config: &EngineConfig) -> Result<Running<'_>, String> {
    let start_time = unix_now();
    if let Some(path) = &config.log_file {
        log::redirect_stderr(path)?;
    }
    let refresh_options = &config.rust_only.refresh;
    let refresh_stats = (refresh_options.config_url.is_some()
        || refresh_options.secret_url.is_some())
    .then(|| Arc::new(refresh::RefreshStats::default()));
    if let Some(stats) = &refresh_stats {
        refresh::fetch_missing(
            refresh_options,
            &config.config_file,
            &config.aes_pwd_file,
            stats,
        )?;
    }
    // Direct mode (Rust-only) uses neither file: both are optional then.
    let direct = config.rust_only.direct;
    let proxy_secret = match setup::read_file(&config.aes_pwd_file, "proxy secret file") {
        Err(_) if direct => Vec::new(),
        other => other?,
    };
    let config_text = if direct && config.config_file.is_empty() {
        Vec::new()
    } else {
        setup::read_file(&config.config_file, "config file")?
    };
    let workers = match config.workers {
        0 => jobs_threads::cpu_count(),
        n => n,
    };
    let loaded = LoadedConfig::new(&config_text);
    let settings = setup::proxy_settings(config, workers, proxy_secret, config_text)?;
    let domains: Vec<probe::Target> = settings
        .domains
        .iter()
        .map(|d| probe::Target {
            name: String::from_utf8_lossy(&d.name).into_owned(),
            addr: std::net::SocketAddr::from((
                std::net::Ipv4Addr::from(d.relay_ipv4),
                d.relay_port,
            )),
        })
        .collect();
    let profiles: probe::Profiles = Arc::new(Mutex::new(vec![
        fake_tls::TlsProfile::default();
        domains.len()
    ]));
    let proxy = Proxy::new(&settings).map_err(|reason| {
        format!(
            "config {} / {}: {reason}",
            config.config_file, config.aes_pwd_file
        )
    })?;
    drop(settings);
    let (user, warning) =
        setup::resolve_user(config.user.as_deref(), nix::unistd::geteuid().is_root())?;
    if let Some(warning) = warning {
        log::line(&warning);
    }
    if let Some(warning) = setup::raise_file_limit(config) {
        log::line(&warning);
    }
    let clients = setup::bind_clients(config, workers)?;
    let stats_listener = if config.http_stats {
        Some(setup::bind_stats(config.stats_port)?)
    } else {
        None
    };
    let stats_port = match &stats_listener {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| format!("cannot read the stats port: {e}"))?
                .port(),
        ),
        None => None,
    };
    // Before anyone is told the ports: the first ServerHello already
    // looks like the domain.
    probe::first_round(&domains, &proxy, &profiles);
    if let Some(path) = &config.ports_file {
        setup::write_ports_file(path, &clients.ports, stats_port)?;
    }
    if let Some(user) = &user {
        setup::change_user(user)?;
    }
    if let Some(&port) = clients.ports.first() {
        for link in links::links(config, port) {
            println!("{link}");
        }
    }
    let mut reactor = Reactor::new().ok_or("cannot create the engine reactor")?;
    // Blocked before the workers start, so no thread takes them
    // asynchronously.
    let signals = Signals::new()?;
    reactor
        .add(signals.fd().as_raw_fd(), TOKEN_SIGNALS)
        .map_err(|code| format!("cannot watch the signalfd (error {code})"))?;
    let stats = match stats_listener {
        Some(listener) => Some(StatsServer::new(
            listener,
            TOKEN_STATS_LISTENER,
            &mut reactor,
        )?),
        None => None,
    };
    let proxy = Arc::new(proxy);
    let reprober =
        probe::Reprober::start(domains.clone(), Arc::clone(&proxy), Arc::clone(&profiles));
    let users_saver = match crate::rust_only::users() {
        Some(registry) if registry.has_state_file() => Some(
            crate::users::StateSaver::start(registry, config.rust_only.users.state_interval_secs)
                .map_err(|e| format!("cannot start the users state saver: {e}"))?,
        ),
        _ => None,
    };
    let finished = Arc::new(AtomicU32::new(0));
    let jobs = start_workers(
        &proxy,
        clients.listeners,
        &finished,
        reactor.waker(),
        workers,
    )?;
    let refresher = refresh_stats.as_ref().and_then(|stats| {
        refresh::Refresher::start(
            refresh_options,
            &config.config_file,
            &config.aes_pwd_file,
            Arc::clone(stats),
        )
    });
    log::line(&format!(
        "mtproxy started: {workers} workers, client ports {:?}",
        clients.ports
    ));
    Ok(Running {
        config,
        proxy,
        jobs: Some(jobs),
        workers,
        finished,
        reactor,
        signals,
        stats,
        loaded,
        start_time,
        domains,
        profiles,
        reprober: Some(reprober),
        users_saver,
        refresher,
        refresh_stats,
    })
}

/// Starts the workers; each gets its listeners and, when it returns,
/// counts itself in `finished` and wakes the engine.
fn start_workers(
    proxy: &Arc<Proxy>,
    listeners: Vec<Vec<std::os::fd::OwnedFd>>,
    finished: &Arc<AtomicU32>,
    waker: Waker,
    workers: u32,
) -> Result<jobs_threads::Jobs, String> {
    let handed: Vec<Mutex<Option<Vec<std::os::fd::OwnedFd>>>> =
        listeners.into_iter().map(|l| Mutex::new(Some(l))).collect();
    let proxy = Arc::clone(proxy);
    let finished_by_worker = Arc::clone(finished);
    let body = move |index: u32| {
        let fds = handed
            .get(index as usize)
            .and_then(|slot| slot.lock().ok()?.take())
            .unwrap_or_default();
        if let Err(code) = proxy.worker_run(index, fds) {
            log::line(&format!("worker {index} could not start (error {code})"));
        }
        finished_by_worker.fetch_add(1, Ordering::AcqRel);
        waker.wake();
    };
    jobs_threads::start(workers, body).ok_or_else(|| "cannot start the worker threads".to_string())
}

impl Running<'_> {
    /// The engine loop: signals, stats requests, worker exits.
    fn serve(mut self) -> i32 {
        let mut stopping = false;
        let mut events = [Event::default(); 64];
        let mut status = EXIT_OK;
        while self.finished.load(Ordering::Acquire) < self.workers {
            let n = match self.reactor.wait(&mut events, -1) {
                Ok(n) => n,
                Err(code) => {
                    log::line(&format!("engine reactor failed (error {code}); stopping"));
                    self.proxy.stop(0);
                    status = EXIT_FAILURE;
                    break;
                }
            };
            for event in &events[..n] {
                match event.token {
                    TOKEN_SIGNALS => {
                        for (signal, action) in self.signals.drain() {
                            self.on_signal(signal, action, &mut stopping);
                        }
                    }
                    0 if event.events & EV_WAKE != 0 => {}
                    token => self.on_stats_event(token, event.events),
                }
            }
            if !stopping && self.finished.load(Ordering::Acquire) > 0 {
                // A worker gave up on its own: the process cannot serve
                // as configured.
                log::line("a worker stopped unexpectedly; stopping");
                self.proxy.stop(0);
                stopping = true;
                status = EXIT_FAILURE;
            }
        }
        drop(self.reprober.take());
        if let Some(refresher) = self.refresher.take() {
            refresher.stop();
        }
        if let Some(jobs) = self.jobs.take() {
            jobs.join();
        }
        // After the workers: their closed clients have reported every byte.
        if let Some(saver) = self.users_saver.take() {
            saver.stop();
        }
        log::line("mtproxy stopped");
        status
    }

    fn on_signal(&mut self, signal: nix::sys::signal::Signal, action: Action, stopping: &mut bool) {
        match action {
            Action::Stop if *stopping => {
                log::line(&format!("received {signal} again: exiting at once"));
                std::process::exit(EXIT_OK);
            }
            Action::Stop => {
                log::line(&format!(
                    "received {signal}: stopping (grace {} ms)",
                    self.config.shutdown_grace_ms
                ));
                *stopping = true;
                self.proxy.stop(self.config.shutdown_grace_ms);
            }
            Action::Reload => self.reload(),
            Action::ReopenLog => {
                if let Some(path) = &self.config.log_file {
                    match log::redirect_stderr(path) {
                        Ok(()) => log::line("log file reopened"),
                        Err(reason) => log::line(&reason),
                    }
                }
            }
            Action::Ignore => log::verbose(self.config.verbosity, 1, &format!("ignored {signal}")),
        }
    }

    /// SIGHUP: rereads both files and hands them to the proxy, and the
    /// users file if there is one; on any failure the old one stays.
    fn reload(&mut self) {
        if let Some(registry) = crate::rust_only::users() {
            let file = self
                .config
                .rust_only
                .users
                .file
                .as_deref()
                .unwrap_or_default();
            match registry.reload(unix_now()) {
                Ok(count) => log::line(&format!("users reloaded from {file}: {count} users")),
                Err(reason) => log::line(&format!(
                    "users reload failed, keeping the users in force: {reason}"
                )),
            }
        }
        let files =
            setup::read_file(&self.config.aes_pwd_file, "proxy secret file").and_then(|secret| {
                setup::read_file(&self.config.config_file, "config file").map(|text| (secret, text))
            });
        let result = files.and_then(|(secret, text)| {
            self.proxy
                .reload(&text, &secret)
                .map(|()| text)
                .map_err(|reason| format!("config {}: {reason}", self.config.config_file))
        });
        match result {
            Ok(text) => {
                self.loaded = LoadedConfig::new(&text);
                log::line(&format!("config reloaded from {}", self.config.config_file));
            }
            Err(reason) => log::line(&format!("reload failed, keeping the old config: {reason}")),
        }
    }

    fn on_stats_event(&mut self, token: u64, events: u32) {
        let Some(stats) = self.stats.as_mut() else {
            return;
        };
        let mut source = ProcessStats {
            proxy: &self.proxy,
            domains: &self.domains,
            profiles: &self.profiles,
            config: self.config,
            loaded: &self.loaded,
            workers: self.workers,
            start_time: self.start_time,
            refresh: self.refresh_stats.as_deref(),
        };
        stats.handle(&mut self.reactor, token, events, &mut source);
    }
}
