//! Contract of the engine-main module: runs the proxy as a process. The
//! binary's `main` (Rust) parses the upstream-compatible command line into
//! an `mtp_engine_config` and calls `mtp_engine_run`, whichever side
//! implements it.
use std::ffi::{c_char, CStr};

use mtproxy_core::runtime::EngineConfig;

use crate::raw;

/// The codes and the config struct of this contract, defined once in
/// mtproxy-abi.
pub use mtproxy_abi::engine_main::*;

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
