//! Plain data handed between the runtime modules (engine-main and
//! mtproto-proxy), in Rust form. The contracts carry the same fields as
//! `mtp_engine_config` / `mtp_proxy_settings`; mtproxy-ffi and mtproxy-sys
//! convert between the two, so every runtime side works with these types.

/// A fake-TLS domain (`-D`): the SNI name clients must send, and where
/// unauthenticated connections are relayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// 1..=253 bytes of `[A-Za-z0-9.-]`.
    pub name: Vec<u8>,
    /// Relay target, IPv4 in host byte order.
    pub relay_ipv4: u32,
    pub relay_port: u16,
}

/// What the proxy needs (`mtp_proxy_new`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    pub secrets: Vec<[u8; 16]>,
    pub domains: Vec<Domain>,
    pub ad_tag: Option<[u8; 16]>,
    pub proxy_secret: Vec<u8>,
    pub config: Vec<u8>,
    /// `(local, global)` IPv4 pairs, host byte order.
    pub nat_info: Vec<(u32, u32)>,
    pub workers: u32,
    pub max_client_connections: u32,
    pub window_clamp: u32,
    pub buffer_limit: u64,
    pub seed: u64,
    /// Options only the Rust proxy has (ARCHITECTURE.md, "Rust-only
    /// features"); not part of the C contract, all off by default.
    pub rust_only: RustOnly,
}

/// The Rust-only options of the proxy (`--direct`, `--dc-addr`,
/// `--prefer-ipv6`, `--direct-fallback`, `--proxy-protocol`,
/// `--shared-state`, …) and its
/// obfuscated2 replay protection. The C proxy has none of them: a build
/// that takes mtproto-proxy from C refuses the options at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RustOnly {
    /// Direct mode: clients are relayed to the Telegram DC they name,
    /// not through the middle-ends (README "Direct mode").
    pub direct: bool,
    /// `--dc-addr ID=HOST:PORT` overrides of the built-in DC table (an id
    /// may be given several addresses, tried in turn).
    pub dc_addrs: Vec<(i16, std::net::SocketAddr)>,
    /// Try a DC's IPv6 addresses before its IPv4 ones (`--prefer-ipv6`).
    pub prefer_ipv6: bool,
    /// `--direct-fallback SECS`: a client whose middle-end cluster has had
    /// no ready connection for this long goes direct; 0 = never.
    pub direct_fallback_secs: u32,
    /// Reject obfuscated2 headers seen before (a bounded shared cache).
    pub obfs2_replay: bool,
    /// `--proxy-protocol CIDR,…`: every client connection must come from
    /// one of these blocks (a load balancer) and start with a PROXY
    /// protocol header; empty = off.
    pub proxy_protocol: Vec<crate::net::proxy_protocol::Cidr>,
    /// Named users (`--users`); off without a file.
    pub users: UsersOptions,
    /// `--config-url`, `--secret-url`, `--refresh-interval` (Rust engine).
    pub refresh: RefreshOptions,
    /// `--shared-state URL`, `--shared-state-entries N`.
    pub shared_state: SharedStateOptions,
}

/// The default of `--shared-state-entries`: digests the fleet's Redis
/// stream keeps (about 46 bytes each, so about 46 MiB).
pub const SHARED_STATE_ENTRIES: usize = 1 << 20;

/// Replay caches shared through a Redis (README "Operating a fleet").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedStateOptions {
    /// `redis://[user:password@]host[:port][/db]`; off when `None`.
    pub url: Option<String>,
    /// Entries the stream is trimmed to.
    pub entries: usize,
}

impl Default for SharedStateOptions {
    fn default() -> SharedStateOptions {
        SharedStateOptions {
            url: None,
            entries: SHARED_STATE_ENTRIES,
        }
    }
}

/// Where Telegram publishes the middle-end list (`getProxyConfig`).
pub const TELEGRAM_CONFIG_URL: &str = "https://core.telegram.org/getProxyConfig";
/// Where Telegram publishes the proxy secret (`getProxySecret`).
pub const TELEGRAM_SECRET_URL: &str = "https://core.telegram.org/getProxySecret";
/// The default of `--refresh-interval`: a day.
pub const REFRESH_INTERVAL_SECS: u32 = 24 * 60 * 60;

/// Fetching proxy-multi.conf and proxy-secret: each from its URL when one
/// is given, at start-up when the file is missing and then every interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshOptions {
    pub config_url: Option<String>,
    pub secret_url: Option<String>,
    pub interval_secs: u32,
}

impl Default for RefreshOptions {
    fn default() -> RefreshOptions {
        RefreshOptions {
            config_url: None,
            secret_url: None,
            interval_secs: REFRESH_INTERVAL_SECS,
        }
    }
}

/// The default of `--users-grace`: how long a removed or disabled user's
/// open connections go on after a reload.
pub const USERS_GRACE_SECS: u32 = 30;

/// `--users FILE`, `--users-state FILE`, `--users-state-interval SECS`,
/// `--users-grace SECS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsersOptions {
    pub file: Option<String>,
    pub state_file: Option<String>,
    pub state_interval_secs: u32,
    /// How long a removed or disabled user's open connections go on.
    pub grace_secs: u32,
}

impl Default for UsersOptions {
    fn default() -> UsersOptions {
        UsersOptions {
            file: None,
            state_file: None,
            state_interval_secs: 60,
            grace_secs: USERS_GRACE_SECS,
        }
    }
}

/// The parsed command line (`mtp_engine_run`); field meanings are those of
/// `mtp_engine_config` in ffi/include/mtp_engine_main.h.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineConfig {
    pub config_file: String,
    pub aes_pwd_file: String,
    pub ports: Vec<u16>,
    pub secrets: Vec<[u8; 16]>,
    pub ad_tag: Option<[u8; 16]>,
    /// `NAME` or `NAME:PORT`.
    pub domains: Vec<String>,
    pub http_stats: bool,
    pub stats_port: u16,
    pub workers: u32,
    pub max_special_connections: u32,
    pub max_connections: u32,
    pub window_clamp: u32,
    pub user: Option<String>,
    pub bind_ipv4: u32,
    pub nat_info: Vec<(u32, u32)>,
    pub ipv6: bool,
    pub backlog: u32,
    pub verbosity: i32,
    pub log_file: Option<String>,
    pub msg_buffers_size: u64,
    pub shutdown_grace_ms: u32,
    pub test_seed: u64,
    pub ports_file: Option<String>,
    /// Rust-only options; they reach the Rust proxy outside the C
    /// contracts (mtproxy-rt `rust_only`).
    pub rust_only: RustOnly,
}

/// The runtime's policy values, the same for both proxies: the contract
/// (`MTP_PROXY_*` in ffi/include/mtp_mtproto_proxy.h, checked equal to these
/// at compile time) carries them to the C side. docs/RUNTIME.md says what
/// each governs.
pub mod policy {
    /// A connection's output queue over this many bytes stops its feeder.
    pub const QUEUE_SOFT_CAP: usize = 256 * 1024;
    /// Handshake, pending-ME, flood and drain deadline of a client.
    pub const CLIENT_DEADLINE_MS: u64 = 10_000;
    /// Middle-end reconnect backoff: first delay, doubling up to the max.
    pub const ME_BACKOFF_FIRST_MS: u64 = 100;
    pub const ME_BACKOFF_MAX_MS: u64 = 10_000;
    /// A middle-end connection not ready this long after its connect began
    /// is dropped and retried.
    pub const ME_READY_DEADLINE_MS: u64 = 3_000;
    /// Entries of the shared fake-TLS replay cache (about 100 bytes each).
    pub const REPLAY_CACHE_ENTRIES: usize = 1 << 20;
    /// Most `-S` secrets (upstream: 16).
    pub const MAX_SECRETS: usize = 128;
}
