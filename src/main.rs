//! `mtproxy-rust`: the Rust-owned binary of the hybrid C/Rust MTProto proxy.
//!
//! Each module's contract symbols come from C (c-legacy/, compiled by
//! build.rs) or from Rust (mtproxy-ffi), as the `rust-*` features chose.
//! `main` parses upstream's command line (cli.rs) and runs the engine module;
//! `--modules` prints the module map, `selftest` checks every linked
//! contract with known answers and `links` prints a users file's links.

// Links the Rust exports of the modules switched to Rust.
use mtproxy_ffi as _;

mod cli;
mod links;
mod selftest;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--modules") => {
            for entry in env!("MTPROXY_MODULE_SIDES").split(',') {
                let (module, side) = entry.split_once('=').unwrap_or((entry, "?"));
                match rust_only_parts(module) {
                    Some(parts) if side == "rust" => {
                        println!("{module:<18} {side:<4} rust-only: {parts}")
                    }
                    Some(parts) => println!(
                        "{module:<18} {side:<4} rust-only, not in this build (needs rust-{module}): {parts}"
                    ),
                    None => println!("{module:<18} {side}"),
                }
            }
            ExitCode::SUCCESS
        }
        Some("selftest") => selftest::run(),
        Some("links") => links::run(&args[1..]),
        Some("doctor") => doctor(&args[1..]),
        _ => run_proxy(&args),
    }
}

/// `doctor [the proxy's flags] [--time-url URL]`: the checks of
/// mtproxy-rt's doctor for a proxy started with those flags; exit status 1
/// when one fails.
fn doctor(args: &[String]) -> ExitCode {
    let mut time_url = mtproxy_rt::doctor::DEFAULT_TIME_URL.to_string();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.strip_prefix("--time-url") {
            Some("") => time_url = it.next().cloned().unwrap_or_default(),
            Some(value) if value.starts_with('=') => time_url = value[1..].to_string(),
            _ => rest.push(arg.clone()),
        }
    }
    let config = match cli::parse(&rest) {
        Ok(cli::Command::Run(config, _)) => config,
        Ok(cli::Command::Help) => {
            println!(
                "usage: mtproxy-rust doctor [the proxy's flags and config file] [--time-url URL]"
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mtproxy-rust doctor: {e}");
            return ExitCode::from(2);
        }
    };
    let findings = mtproxy_rt::doctor::run(&config, &time_url);
    for f in &findings {
        println!("{f}");
    }
    let failed = findings
        .iter()
        .any(|f| f.verdict == mtproxy_rt::doctor::Verdict::Fail);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The Rust-only parts of `module` (migration.toml), comma-separated.
fn rust_only_parts(module: &str) -> Option<String> {
    env!("MTPROXY_RUST_ONLY")
        .split('|')
        .filter_map(|entry| entry.split_once('='))
        .find(|(m, _)| *m == module)
        .map(|(_, parts)| parts.split(';').collect::<Vec<_>>().join(", "))
}

/// Whether this build took `module` from Rust (the compile-time table
/// `--modules` prints).
fn module_is_rust(module: &str) -> bool {
    env!("MTPROXY_MODULE_SIDES")
        .split(',')
        .any(|entry| entry.split_once('=') == Some((module, "rust")))
}

/// The one-line refusal of a Rust-only option when the module that would
/// implement it comes from C (ARCHITECTURE.md, "Rust-only features").
fn check_rust_only(config: &mtproxy_core::runtime::EngineConfig) -> Result<(), String> {
    let o = &config.rust_only;
    let goes_direct = o.direct || o.direct_fallback_secs > 0;
    if !goes_direct && !o.dc_addrs.is_empty() {
        return Err(
            "--dc-addr only applies to direct connections: add --direct or --direct-fallback SECS"
                .into(),
        );
    }
    if !goes_direct && o.prefer_ipv6 {
        return Err("--prefer-ipv6 only applies to direct connections: add --direct or --direct-fallback SECS".into());
    }
    if goes_direct && !module_is_rust("mtproto-proxy") {
        return Err(
            "direct mode needs the Rust proxy: build with --features rust-mtproto-proxy".into(),
        );
    }
    let refreshes = o.refresh.config_url.is_some() || o.refresh.secret_url.is_some();
    if refreshes && !module_is_rust("engine-main") {
        return Err("fetching Telegram's files (--config-url, --secret-url) needs the Rust engine: build with --features rust-engine-main".into());
    }
    if !o.proxy_protocol.is_empty() && !module_is_rust("mtproto-proxy") {
        return Err("the PROXY protocol (--proxy-protocol) needs the Rust proxy: build with --features rust-mtproto-proxy".into());
    }
    if o.shared_state.url.is_some() && !module_is_rust("mtproto-proxy") {
        return Err("shared replay protection (--shared-state) needs the Rust proxy: build with --features rust-mtproto-proxy".into());
    }
    if o.users.file.is_some() && !(module_is_rust("mtproto-proxy") && module_is_rust("engine-main"))
    {
        return Err("named users (--users) need the Rust proxy and engine: build with --features rust-mtproto-proxy,rust-engine-main".into());
    }
    if o.direct && config.config_file.is_empty() && !module_is_rust("engine-main") {
        return Err("direct mode without proxy-multi.conf needs the Rust engine: build with --features rust-engine-main, or give the config file and --aes-pwd".into());
    }
    Ok(())
}

/// Parses the upstream command line and hands it to the engine module
/// (C or Rust, as linked).
fn run_proxy(args: &[String]) -> ExitCode {
    match cli::parse(args) {
        Ok(cli::Command::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::Run(config, warnings)) => {
            if let Err(e) = check_rust_only(&config) {
                eprintln!("mtproxy-rust: {e}");
                return ExitCode::from(2);
            }
            for w in warnings {
                eprintln!("mtproxy-rust: warning: {w}");
            }
            // Rust-only options travel outside the C contracts (ARCHITECTURE.md).
            let mut rust_only = config.rust_only.clone();
            rust_only.obfs2_replay = module_is_rust("mtproto-proxy");
            mtproxy_rt::rust_only::set_options(rust_only);
            match mtproxy_sys::c::engine_main::run(&config) {
                Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(1)),
                Err(e) => {
                    eprintln!("mtproxy-rust: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(e) => {
            eprintln!("mtproxy-rust: {e}\n{}", cli::USAGE);
            ExitCode::from(2)
        }
    }
}
