//! Plain data of the engine-main contract (see the shim in mtproxy-ffi for
//! the function): the port limit, the exit statuses and the parsed command
//! line, with the conversion from the core's `EngineConfig` (its Rust-only
//! options are not part of the contract).
use mtproxy_core::runtime::EngineConfig;
use std::ffi::{c_char, CString};

/// Most client listening ports (`-H`).
pub const MTP_ENGINE_MAX_PORTS: usize = 128;
/// Exit status of a run that stopped on SIGTERM / SIGINT.
pub const MTP_ENGINE_EXIT_OK: i32 = 0;
/// Exit status of a run that could not start (files, ports, privileges,
/// config); a line on stderr says why.
pub const MTP_ENGINE_EXIT_FAILURE: i32 = 1;

/// The parsed command line. Strings are NUL-terminated; optional ones are
/// NULL when not given.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_engine_config {
    /// The positional proxy-multi.conf path.
    pub config_file: *const c_char,
    /// `--aes-pwd` (the proxy-secret file).
    pub aes_pwd_file: *const c_char,
    /// `-H` client ports.
    pub ports: *const u16,
    pub n_ports: usize,
    /// `-S` secrets, packed 16-byte keys.
    pub secrets: *const u8,
    pub n_secrets: usize,
    /// `-P` ad tag: 16 bytes, or NULL.
    pub ad_tag: *const u8,
    /// `-D` domains, each `NAME` or `NAME:PORT` (relay port, default 443).
    pub domains: *const *const c_char,
    pub n_domains: usize,
    /// Whether to serve `/stats` and `/metrics` (`-p` given), and on which
    /// 127.0.0.1 port (`-p`; 0 = a kernel-chosen port).
    pub http_stats: bool,
    pub stats_port: u16,
    /// `-M` worker threads; 0 = one per CPU.
    pub workers: u32,
    /// `-C` client connections per worker (0 = no limit).
    pub max_special_connections: u32,
    /// `-c` wanted RLIMIT_NOFILE (0 = default 65536).
    pub max_connections: u32,
    /// `-W` TCP window clamp for clients (0 = none).
    pub window_clamp: u32,
    /// `-u` user to switch to after binding, or NULL.
    pub user: *const c_char,
    /// `--address`: IPv4 in host byte order to bind client listeners to
    /// (0 = any); also the proxy's own address in links.
    pub bind_ipv4: u32,
    /// `--nat-info` rules: pairs (local, global), IPv4 host byte order.
    pub nat_info: *const u32,
    pub n_nat_info: usize,
    /// `-6`: dual-stack IPv6 client listeners.
    pub ipv6: bool,
    /// `-b` listen backlog.
    pub backlog: u32,
    /// `-v` log level (0 = errors and start-up lines only).
    pub verbosity: i32,
    /// `-l` log file (stderr is redirected to it; reopened on SIGUSR1), or NULL.
    pub log_file: *const c_char,
    /// `--msg-buffers-size` bytes.
    pub msg_buffers_size: u64,
    /// Milliseconds connections may take to finish after SIGTERM/SIGINT.
    pub shutdown_grace_ms: u32,
    /// Test-only (`--test-seed`): deterministic randomness; 0 = off.
    pub test_seed: u64,
    /// `--ports-file`: after binding, the engine writes the ports it got
    /// (`client <port>` per `-H` port in order, then `stats <port>`), to a
    /// temporary file renamed into place; NULL = none. With `-H 0` / `-p 0`
    /// the kernel picks the port, so tests never guess free ports.
    pub ports_file: *const c_char,
}

/// No strings, ports, secrets, tag, domains or NAT rules (null pointers,
/// zero counts), and zero / false for every other field.
impl Default for mtp_engine_config {
    fn default() -> Self {
        mtp_engine_config {
            config_file: core::ptr::null(),
            aes_pwd_file: core::ptr::null(),
            ports: core::ptr::null(),
            n_ports: 0,
            secrets: core::ptr::null(),
            n_secrets: 0,
            ad_tag: core::ptr::null(),
            domains: core::ptr::null(),
            n_domains: 0,
            http_stats: false,
            stats_port: 0,
            workers: 0,
            max_special_connections: 0,
            max_connections: 0,
            window_clamp: 0,
            user: core::ptr::null(),
            bind_ipv4: 0,
            nat_info: core::ptr::null(),
            n_nat_info: 0,
            ipv6: false,
            backlog: 0,
            verbosity: 0,
            log_file: core::ptr::null(),
            msg_buffers_size: 0,
            shutdown_grace_ms: 0,
            test_seed: 0,
            ports_file: core::ptr::null(),
        }
    }
}

/// What an `mtp_engine_config` points into besides the `EngineConfig`
/// itself: NUL-terminated copies of its strings, the `-D` string pointers
/// and the NAT pairs flattened.
#[derive(Debug)]
pub struct EngineConfigText {
    config_file: CString,
    aes_pwd_file: CString,
    user: Option<CString>,
    log_file: Option<CString>,
    ports_file: Option<CString>,
    /// Owns what `domain_ptrs` points to.
    _domains: Vec<CString>,
    domain_ptrs: Vec<*const c_char>,
    nat_info: Vec<u32>,
}

/// `Err` names the first string with an interior NUL byte, which C cannot
/// be given.
impl TryFrom<&EngineConfig> for EngineConfigText {
    type Error = String;
    fn try_from(c: &EngineConfig) -> Result<Self, String> {
        let text = |s: &str, what: &str| {
            CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
        };
        let optional =
            |s: &Option<String>, what: &str| s.as_deref().map(|s| text(s, what)).transpose();
        let config_file = text(&c.config_file, "config file name")?;
        let aes_pwd_file = text(&c.aes_pwd_file, "--aes-pwd")?;
        let user = optional(&c.user, "-u")?;
        let log_file = optional(&c.log_file, "-l")?;
        let ports_file = optional(&c.ports_file, "--ports-file")?;
        let domains = c
            .domains
            .iter()
            .map(|d| text(d, "-D"))
            .collect::<Result<Vec<_>, _>>()?;
        let domain_ptrs = domains.iter().map(|d| d.as_ptr()).collect();
        let nat_info = c
            .nat_info
            .iter()
            .flat_map(|&(local, global)| [local, global])
            .collect();
        Ok(EngineConfigText {
            config_file,
            aes_pwd_file,
            user,
            log_file,
            ports_file,
            _domains: domains,
            domain_ptrs,
            nat_info,
        })
    }
}

impl mtp_engine_config {
    /// The contract form of `c`, borrowing: `text` is
    /// `EngineConfigText::try_from(c)`, and every pointer is valid as long
    /// as `c` and `text` are. The Rust-only options are left out.
    pub fn borrowing(c: &EngineConfig, text: &EngineConfigText) -> Self {
        let opt_ptr = |s: &Option<CString>| s.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
        mtp_engine_config {
            config_file: text.config_file.as_ptr(),
            aes_pwd_file: text.aes_pwd_file.as_ptr(),
            ports: c.ports.as_ptr(),
            n_ports: c.ports.len(),
            secrets: c.secrets.as_ptr().cast(),
            n_secrets: c.secrets.len(),
            ad_tag: c.ad_tag.as_ref().map_or(core::ptr::null(), |t| t.as_ptr()),
            domains: text.domain_ptrs.as_ptr(),
            n_domains: text.domain_ptrs.len(),
            http_stats: c.http_stats,
            stats_port: c.stats_port,
            workers: c.workers,
            max_special_connections: c.max_special_connections,
            max_connections: c.max_connections,
            window_clamp: c.window_clamp,
            user: opt_ptr(&text.user),
            bind_ipv4: c.bind_ipv4,
            nat_info: text.nat_info.as_ptr(),
            n_nat_info: text.nat_info.len() / 2,
            ipv6: c.ipv6,
            backlog: c.backlog,
            verbosity: c.verbosity,
            log_file: opt_ptr(&text.log_file),
            msg_buffers_size: c.msg_buffers_size,
            shutdown_grace_ms: c.shutdown_grace_ms,
            test_seed: c.test_seed,
            ports_file: opt_ptr(&text.ports_file),
        }
    }
}
