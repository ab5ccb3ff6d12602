//! Contract of the engine-main module: runs the proxy as a process. The
//! binary's `main` (Rust) parses the upstream-compatible command line into
//! an `mtp_engine_config` and calls `mtp_engine_run`, whichever side
//! implements it.
use std::ffi::{c_char, CStr};

use mtproxy_core::runtime::EngineConfig;

use crate::raw;

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

/// Runs the proxy until SIGTERM or SIGINT and returns the exit status:
/// reads the two files, raises RLIMIT_NOFILE (warns when the hard limit is
/// lower), binds the listeners, drops privileges (`user`), prints the
/// `tg://proxy` links, starts the workers (jobs-threads), serves `/stats`
/// and `/metrics` on 127.0.0.1:`stats_port`, reloads on SIGHUP, reopens the
/// log on SIGUSR1 and stops gracefully.
///
/// # Safety
/// `config` must be NULL or valid, with every pointer valid for its count.
#[no_mangle]
pub unsafe extern "C" fn mtp_engine_run(config: *const mtp_engine_config) -> i32 {
    // SAFETY: NULL or valid by the caller's contract.
    let Some(config) = (unsafe { config.as_ref() }) else {
        eprintln!("mtproxy: fatal: no engine configuration");
        return MTP_ENGINE_EXIT_FAILURE;
    };
    // SAFETY: every pointer in `config` is valid for its count.
    match unsafe { convert(config) } {
        Ok(config) => mtproxy_rt::engine::run(&config),
        Err(reason) => {
            eprintln!("mtproxy: fatal: {reason}");
            MTP_ENGINE_EXIT_FAILURE
        }
    }
}

/// A NUL-terminated UTF-8 string; `None` for NULL.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
unsafe fn text(ptr: *const c_char, what: &str) -> Result<Option<String>, String> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map(|s| Some(s.to_owned()))
        .map_err(|_| format!("{what} is not valid UTF-8"))
}

/// The Rust form of the command line.
///
/// # Safety
/// As `mtp_engine_run`: every pointer valid for its count.
unsafe fn convert(c: &mtp_engine_config) -> Result<EngineConfig, String> {
    let required = |ptr, what: &str| {
        // SAFETY: see above.
        unsafe { text(ptr, what) }?.ok_or_else(|| format!("{what} missing"))
    };
    let config_file = required(c.config_file, "config file")?;
    let aes_pwd_file = required(c.aes_pwd_file, "--aes-pwd")?;
    if c.n_ports > MTP_ENGINE_MAX_PORTS {
        return Err(format!("more than {MTP_ENGINE_MAX_PORTS} ports"));
    }
    let ports = if c.ports.is_null() || c.n_ports == 0 {
        Vec::new()
    } else {
        // SAFETY: `ports` holds `n_ports` values.
        unsafe { std::slice::from_raw_parts(c.ports, c.n_ports) }.to_vec()
    };
    let secret_bytes = c
        .n_secrets
        .checked_mul(16)
        .ok_or("secret count overflows")?;
    // SAFETY: `secrets` holds `n_secrets` packed 16-byte keys.
    let secrets = unsafe { raw::bytes(c.secrets, secret_bytes) }
        .chunks_exact(16)
        .map(|k| {
            let mut key = [0u8; 16];
            key.copy_from_slice(k);
            key
        })
        .collect();
    // SAFETY: `ad_tag` is NULL or 16 bytes.
    let ad_tag = unsafe { raw::array::<16>(c.ad_tag) }.copied();
    let mut domains = Vec::with_capacity(c.n_domains);
    if !c.domains.is_null() {
        for i in 0..c.n_domains {
            // SAFETY: `domains` holds `n_domains` string pointers.
            let ptr = unsafe { *c.domains.add(i) };
            // SAFETY: each is a NUL-terminated string.
            domains.push(unsafe { text(ptr, "-D") }?.ok_or("-D domain missing")?);
        }
    }
    let nat_info = if c.nat_info.is_null() || c.n_nat_info == 0 {
        Vec::new()
    } else {
        let words = c
            .n_nat_info
            .checked_mul(2)
            .ok_or("nat rule count overflows")?;
        // SAFETY: `nat_info` holds `n_nat_info` (local, global) pairs.
        unsafe { std::slice::from_raw_parts(c.nat_info, words) }
            .chunks_exact(2)
            .map(|pair| (pair[0], pair[1]))
            .collect()
    };
    Ok(EngineConfig {
        config_file,
        aes_pwd_file,
        ports,
        secrets,
        ad_tag,
        domains,
        http_stats: c.http_stats,
        stats_port: c.stats_port,
        workers: c.workers,
        max_special_connections: c.max_special_connections,
        max_connections: c.max_connections,
        window_clamp: c.window_clamp,
        // SAFETY: NULL or NUL-terminated.
        user: unsafe { text(c.user, "-u") }?,
        bind_ipv4: c.bind_ipv4,
        nat_info,
        ipv6: c.ipv6,
        backlog: c.backlog,
        verbosity: c.verbosity,
        // SAFETY: NULL or NUL-terminated.
        log_file: unsafe { text(c.log_file, "-l") }?,
        msg_buffers_size: c.msg_buffers_size,
        shutdown_grace_ms: c.shutdown_grace_ms,
        test_seed: c.test_seed,
        // SAFETY: NULL or NUL-terminated.
        ports_file: unsafe { text(c.ports_file, "--ports-file") }?,
        // Rust-only options come from main, not through the C contract.
        rust_only: mtproxy_rt::rust_only::options(),
    })
}
