// Safe wrapper for the engine-main contract.

/// Runs the engine with `config` (see `mtp_engine_run`) and returns the
/// process exit status. Strings with an interior NUL cannot be passed and
/// give `Err`.
pub fn run(config: &mtproxy_core::runtime::EngineConfig) -> Result<i32, String> {
    use std::ffi::CString;
    let text = |s: &str, what: &str| {
        CString::new(s).map_err(|_| format!("{what} contains a NUL byte"))
    };
    let optional = |s: &Option<String>, what: &str| s.as_deref().map(|s| text(s, what)).transpose();
    let config_file = text(&config.config_file, "config file name")?;
    let aes_pwd_file = text(&config.aes_pwd_file, "--aes-pwd")?;
    let user = optional(&config.user, "-u")?;
    let log_file = optional(&config.log_file, "-l")?;
    let ports_file = optional(&config.ports_file, "--ports-file")?;
    let domains = config
        .domains
        .iter()
        .map(|d| text(d, "-D"))
        .collect::<Result<Vec<_>, _>>()?;
    let domain_ptrs: Vec<*const core::ffi::c_char> = domains.iter().map(|d| d.as_ptr()).collect();
    let nat: Vec<u32> = config
        .nat_info
        .iter()
        .flat_map(|&(local, global)| [local, global])
        .collect();
    let opt_ptr = |s: &Option<CString>| s.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
    let raw = crate::bindings::mtp_engine_config {
        config_file: config_file.as_ptr(),
        aes_pwd_file: aes_pwd_file.as_ptr(),
        ports: config.ports.as_ptr(),
        n_ports: config.ports.len(),
        secrets: config.secrets.as_ptr().cast(),
        n_secrets: config.secrets.len(),
        ad_tag: config
            .ad_tag
            .as_ref()
            .map_or(core::ptr::null(), |t| t.as_ptr()),
        domains: domain_ptrs.as_ptr(),
        n_domains: domain_ptrs.len(),
        http_stats: config.http_stats,
        stats_port: config.stats_port,
        workers: config.workers,
        max_special_connections: config.max_special_connections,
        max_connections: config.max_connections,
        window_clamp: config.window_clamp,
        user: opt_ptr(&user),
        bind_ipv4: config.bind_ipv4,
        nat_info: nat.as_ptr(),
        n_nat_info: config.nat_info.len(),
        ipv6: config.ipv6,
        backlog: config.backlog,
        verbosity: config.verbosity,
        log_file: opt_ptr(&log_file),
        msg_buffers_size: config.msg_buffers_size,
        shutdown_grace_ms: config.shutdown_grace_ms,
        test_seed: config.test_seed,
        ports_file: opt_ptr(&ports_file),
    };
    // SAFETY: every pointer in `raw` points into data alive for this call
    // (NUL-terminated strings, arrays with their counts).
    Ok(unsafe { ffi::mtp_engine_run(&raw) })
}
