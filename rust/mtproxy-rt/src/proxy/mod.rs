//! (runtime module: see ARCHITECTURE.md)
//! The mtproto-proxy module: the proxy's shared handle and its workers
//! (docs/RUNTIME.md). The handle holds what every worker shares: the
//! settings, the current config snapshot with its generation (bumped on
//! reload), the fake-TLS replay cache behind one lock, the counters that
//! `collect_stats` sums, and the wakers of the running workers so stop and
//! reload reach them. Each worker runs its own event loop ([`worker`]) on
//! its own reactor, used only through the net-events contract
//! (`mtproxy_sys::c::net_events`), so the same code runs on the C reactor.

mod buffers;
mod client;
mod client_session;
mod connections;
mod direct;
mod direct_session;
mod handshake;
mod me;
mod me_session;
mod proxy_header;
mod relay;
mod rng;
mod routing;
mod search_budget;
mod worker;

use crate::rust_only::RustStats;
use crate::shared_state::{Digest, SharedState};
use crate::users::{Registry, Table};
use mtproxy_core::mtproto::mtproto_config::ProxyConfig;
use mtproxy_core::net::fake_tls::{ReplayCache, TlsProfile};
use mtproxy_core::net::header_replay::HeaderReplayCache;
use mtproxy_core::runtime::ProxySettings;
use mtproxy_sys::bindings::mtp_proxy_stats;
use mtproxy_sys::c::net_events::Waker;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

pub use buffers::{OutQueue, QUEUE_SOFT_CAP};
pub(crate) use direct::dc_addresses;

/// Entries of the shared replay cache: ample for the hellos of two days on
/// a busy proxy, bounded so a flood of hellos cannot grow memory without
/// limit (about 100 bytes per entry).
const REPLAY_CACHE_ENTRIES: usize = mtproxy_core::runtime::policy::REPLAY_CACHE_ENTRIES;

/// Entries of the shared obfuscated2 header replay cache (Rust-only): about
/// 48 bytes each, so at most about 12 MiB (mtproxy-core `header_replay`).
pub const HEADER_REPLAY_ENTRIES: usize = 1 << 18;

/// Why a worker could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerError {
    /// The reactor could not be created or a listener not registered.
    System,
    /// The index is out of range or already running.
    Index,
}

/// One loaded config: the parsed table and the proxy secret it goes with.
pub(crate) struct Snapshot {
    pub generation: u64,
    pub config: ProxyConfig,
    pub proxy_secret: Vec<u8>,
    pub loaded_at: i64,
    pub size: usize,
}

/// Counters summed over the workers. Gauges are adjusted up and down by
/// the workers; totals only grow.
#[derive(Default)]
pub(crate) struct Counters {
    pub forwarded_queries: AtomicI64,
    pub dropped_queries: AtomicI64,
    pub forwarded_responses: AtomicI64,
    pub dropped_responses: AtomicI64,
    pub forwarded_simple_acks: AtomicI64,
    pub dropped_simple_acks: AtomicI64,
    pub failed_flood: AtomicI64,
    pub accept_failed: AtomicI64,
    pub clients: AtomicI64,
    pub me_connections: AtomicI64,
    pub ready_targets: AtomicI64,
    pub allocated_targets: AtomicI64,
    /// ME connections past the handshake.
    pub ready_connections: AtomicI64,
    pub ext_connections: AtomicI64,
    pub ext_connections_created: AtomicI64,
    pub allocated_inbound: AtomicI64,
    pub allocated_outbound: AtomicI64,
    pub active_events: AtomicI64,
    pub queued_bytes: AtomicI64,
    pub queued_chunks: AtomicI64,
}

impl Counters {
    pub fn add(counter: &AtomicI64, delta: i64) {
        counter.fetch_add(delta, Ordering::Relaxed);
    }
}

/// What all workers share; see the module docs.
pub struct Proxy {
    pub(crate) settings: ProxySettings,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Mirrors the snapshot's generation so workers check it without a lock.
    generation: AtomicU64,
    pub(crate) replay: Arc<Mutex<ReplayCache>>,
    /// Rust-only: digests of accepted obfuscated2 headers.
    pub(crate) header_replay: Arc<Mutex<HeaderReplayCache>>,
    /// Rust-only: both caches shared with a fleet (`--shared-state`).
    pub(crate) shared: Option<Arc<SharedState>>,
    /// Rust-only counters (direct mode, replays), shown by the Rust engine.
    pub(crate) rust_stats: Arc<RustStats>,
    /// Rust-only named users (`--users`); their table holds the `-S`
    /// secrets too.
    pub(crate) users: Option<Arc<Registry>>,
    /// The `-S` secrets as a handshake tries them, without users.
    anonymous: Arc<Table>,
    /// The fake ServerHello profile of each `-D` domain (index = domain
    /// index); the fallback until the engine's probe sets one.
    tls_profiles: RwLock<Vec<TlsProfile>>,
    pub(crate) counters: Counters,
    /// The waker of each running worker (index = worker index).
    wakers: Mutex<Vec<Option<Waker>>>,
    stopping: AtomicBool,
    grace_ms: AtomicU32,
    /// Process start (unix seconds), sent in the handshake's pid.
    pub(crate) start_time: i64,
}

pub(crate) use crate::clock::unix_now;

/// Where other instances' digests go (`--shared-state`): this process's
/// replay caches, as if accepted here now.
fn fleet_digests_into(
    replay: Arc<Mutex<ReplayCache>>,
    header_replay: Arc<Mutex<HeaderReplayCache>>,
) -> crate::shared_state::Apply {
    Box::new(move |digest| match digest {
        Digest::TlsRandom(key) => replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(&key, unix_now()),
        Digest::Obfs2Header(d) => {
            header_replay
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert_digest(d);
        }
    })
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.stop();
        }
    }
}

/// Parses a config and proxy secret; in direct mode both may be empty
/// (they are not used then).
fn parse_snapshot(
    config: &[u8],
    proxy_secret: &[u8],
    generation: u64,
    direct: bool,
) -> Result<Snapshot, String> {
    use mtproxy_core::crypto::net_crypto_aes::{SECRET_MAX_LEN, SECRET_MIN_LEN};
    if direct && config.trim_ascii().is_empty() {
        return Ok(Snapshot {
            generation,
            config: ProxyConfig::default(),
            proxy_secret: proxy_secret.to_vec(),
            loaded_at: unix_now(),
            size: config.len(),
        });
    }
    let secret_ok = (SECRET_MIN_LEN..=SECRET_MAX_LEN).contains(&proxy_secret.len())
        || (direct && proxy_secret.is_empty());
    if !secret_ok {
        return Err(format!(
            "proxy secret must be {SECRET_MIN_LEN}..{SECRET_MAX_LEN} bytes, got {}",
            proxy_secret.len()
        ));
    }
    let parsed = ProxyConfig::parse(config, 0)
        .map_err(|e| format!("config error {} at line {}", e.code, e.line))?;
    Ok(Snapshot {
        generation,
        config: parsed,
        proxy_secret: proxy_secret.to_vec(),
        loaded_at: unix_now(),
        size: config.len(),
    })
}

impl Proxy {
    /// A proxy from `settings`, or why they were refused.
    pub fn new(settings: ProxySettings) -> Result<Proxy, String> {
        if settings.secrets.len() > mtproxy_core::runtime::policy::MAX_SECRETS {
            return Err(format!(
                "at most {} secrets",
                mtproxy_core::runtime::policy::MAX_SECRETS
            ));
        }
        let users = match &settings.rust_only.users.file {
            Some(file) => {
                let state = settings.rust_only.users.state_file.as_deref();
                let (mut registry, notes) = Registry::open(
                    std::path::Path::new(file),
                    state.map(std::path::Path::new),
                    &settings.secrets,
                )?;
                for note in notes {
                    crate::log::line(&note);
                }
                registry.set_grace(settings.rust_only.users.grace_secs);
                Some(Arc::new(registry))
            }
            None => None,
        };
        if !settings.domains.is_empty() && settings.secrets.is_empty() && users.is_none() {
            return Err("fake-TLS domains need at least one secret".into());
        }
        if settings.workers == 0 {
            return Err("at least one worker".into());
        }
        let direct = settings.rust_only.direct;
        if direct && settings.ad_tag.is_some() {
            return Err("an ad tag only works through Telegram's middle-ends: \
                        drop --direct to show the sponsored channel, or drop -P"
                .into());
        }
        let snapshot = parse_snapshot(&settings.config, &settings.proxy_secret, 1, direct)?;
        let shared_url = settings.rust_only.shared_state.url.clone();
        let rust_stats = Arc::new(RustStats::new(direct, shared_url.is_some()));
        if settings.rust_only != Default::default() {
            crate::rust_only::set_direct_stats(Arc::clone(&rust_stats));
        }
        let replay = ReplayCache::new(REPLAY_CACHE_ENTRIES)
            .map_err(|e| format!("replay cache: error {e}"))?;
        let replay = Arc::new(Mutex::new(replay));
        let header_replay = Arc::new(Mutex::new(HeaderReplayCache::new(HEADER_REPLAY_ENTRIES)));
        let shared = match shared_url {
            Some(url) => Some(SharedState::start(
                &url,
                settings.rust_only.shared_state.entries,
                Arc::clone(&rust_stats),
                fleet_digests_into(Arc::clone(&replay), Arc::clone(&header_replay)),
                users.clone(),
            )?),
            None => None,
        };
        let workers = settings.workers as usize;
        let tls_profiles = RwLock::new(vec![TlsProfile::default(); settings.domains.len()]);
        if let Some(registry) = &users {
            crate::rust_only::set_users(Arc::clone(registry));
        }
        Ok(Proxy {
            anonymous: Arc::new(Table::anonymous(&settings.secrets)),
            users,
            tls_profiles,
            settings,
            snapshot: RwLock::new(Arc::new(snapshot)),
            generation: AtomicU64::new(1),
            replay,
            header_replay,
            shared,
            rust_stats,
            counters: Counters::default(),
            wakers: Mutex::new(vec![None; workers]),
            stopping: AtomicBool::new(false),
            grace_ms: AtomicU32::new(0),
            start_time: unix_now(),
        })
    }

    /// Every secret a handshake may match now, with the user of each.
    pub(crate) fn secrets(&self) -> Arc<Table> {
        match &self.users {
            Some(registry) => registry.table(),
            None => Arc::clone(&self.anonymous),
        }
    }

    /// The current config snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// `Some(grace_ms)` once a stop was requested.
    pub(crate) fn stop_requested(&self) -> Option<u32> {
        self.stopping
            .load(Ordering::Acquire)
            .then(|| self.grace_ms.load(Ordering::Relaxed))
    }

    /// Replaces config and proxy secret; on refusal the old ones stay.
    /// Sets the profile of domain `index`; false when there is no such domain.
    pub fn set_tls_profile(&self, index: usize, profile: TlsProfile) -> bool {
        let mut profiles = self
            .tls_profiles
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match profiles.get_mut(index) {
            Some(slot) => {
                *slot = profile;
                true
            }
            None => false,
        }
    }

    /// The profile of domain `index` (the fallback for an unknown index).
    pub(crate) fn tls_profile(&self, index: usize) -> TlsProfile {
        let profiles = self
            .tls_profiles
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        profiles.get(index).copied().unwrap_or_default()
    }

    pub fn reload(&self, config: &[u8], proxy_secret: &[u8]) -> Result<(), String> {
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let direct = self.settings.rust_only.direct;
        let next = parse_snapshot(config, proxy_secret, current.generation + 1, direct)?;
        self.generation.store(next.generation, Ordering::Release);
        *current = Arc::new(next);
        drop(current);
        self.wake_all();
        Ok(())
    }

    /// Begins the graceful stop; later calls do nothing.
    pub fn stop(&self, grace_ms: u32) {
        self.grace_ms.store(grace_ms, Ordering::Relaxed);
        if !self.stopping.swap(true, Ordering::AcqRel) {
            self.wake_all();
        }
    }

    fn wake_all(&self) {
        let wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        for waker in wakers.iter().flatten() {
            waker.wake();
        }
    }

    /// Records a running worker's waker; `false` if the index is bad or
    /// taken.
    pub(crate) fn register_worker(&self, index: usize, waker: Waker) -> bool {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        match wakers.get_mut(index) {
            Some(slot @ None) => {
                *slot = Some(waker);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn unregister_worker(&self, index: usize) {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = wakers.get_mut(index) {
            *slot = None;
        }
    }

    /// Runs worker `index` until the proxy is stopped and its connections
    /// are gone; the listeners are the worker's from now on.
    pub fn worker_run(&self, index: u32, listeners: Vec<OwnedFd>) -> Result<(), WorkerError> {
        worker::run(self, index as usize, listeners)
    }

    /// Writes the proxy's fields of `out` (sums over the workers).
    pub fn collect_stats(&self, out: &mut mtp_proxy_stats) {
        let c = &self.counters;
        let get = |a: &AtomicI64| a.load(Ordering::Relaxed);
        let snapshot = self.snapshot();
        out.config_loaded_at = snapshot.loaded_at;
        out.config_size = snapshot.size as i64;
        out.config_auth_clusters = snapshot.config.cluster_count() as i64;
        out.workers = i64::from(self.settings.workers);
        out.queries_get = 0;
        out.qps_get_milli = 0;
        out.tot_forwarded_queries = get(&c.forwarded_queries);
        out.expired_forwarded_queries = 0;
        out.dropped_queries = get(&c.dropped_queries);
        out.tot_forwarded_responses = get(&c.forwarded_responses);
        out.dropped_responses = get(&c.dropped_responses);
        out.tot_forwarded_simple_acks = get(&c.forwarded_simple_acks);
        out.dropped_simple_acks = get(&c.dropped_simple_acks);
        out.active_rpcs_created = 0;
        out.active_rpcs = 0;
        out.rpc_dropped_answers = 0;
        out.rpc_dropped_running = 0;
        out.window_clamp = i64::from(self.settings.window_clamp);
        let targets = snapshot.config.target_count() as i64 * i64::from(self.settings.workers);
        let ready = get(&c.ready_targets);
        let allocated = get(&c.allocated_targets);
        out.total_ready_targets = ready;
        out.total_allocated_targets = allocated;
        out.total_declared_targets = targets;
        out.total_inactive_targets = (targets - allocated).max(0);
        let clients = get(&c.clients);
        let mes = get(&c.me_connections);
        out.total_connections = clients + mes;
        out.total_encrypted_connections = get(&c.ext_connections) + get(&c.ready_connections);
        out.total_allocated_connections = get(&c.allocated_inbound) + get(&c.allocated_outbound);
        out.total_allocated_outbound_connections = get(&c.allocated_outbound);
        out.total_allocated_inbound_connections = get(&c.allocated_inbound);
        out.total_allocated_socket_connections = clients + mes;
        out.total_dh_connections = 0;
        out.total_dh_rounds = [0; 3];
        out.total_special_connections = clients;
        out.total_max_special_connections =
            i64::from(self.settings.max_client_connections) * i64::from(self.settings.workers);
        out.total_accept_connections_failed = [0, get(&c.accept_failed), 0, 0, 0];
        out.ext_connections = get(&c.ext_connections);
        out.ext_connections_created = get(&c.ext_connections_created);
        out.total_active_network_events = get(&c.active_events);
        let queued = get(&c.queued_bytes);
        out.total_network_buffers_used_size = queued;
        out.total_network_buffers_allocated_bytes = queued;
        out.total_network_buffers_used = get(&c.queued_chunks);
        out.total_network_chunks_allocated = get(&c.queued_chunks);
        out.total_network_chunks_allocated_max = (self.settings.buffer_limit / 4096) as i64;
        out.mtproto_proxy_errors = 0;
        out.connections_failed_lru = 0;
        out.connections_failed_flood = get(&c.failed_flood);
        out.proxy_mode = 2;
        out.proxy_tag_set = i64::from(self.settings.ad_tag.is_some());
    }
}
