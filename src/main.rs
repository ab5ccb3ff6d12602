//! `mtproxy-rust`: the Rust-owned binary of the hybrid C/Rust MTProto proxy.
//!
//! Each module's contract symbols come from C (c-legacy/, compiled by
//! build.rs) or from Rust (mtproxy-ffi), as the `rust-*` features chose.
//! `main` parses upstream's command line (cli.rs) and runs the engine module;
//! `--modules` prints the module map and `selftest` checks every linked
//! contract with known answers.

// Links the Rust exports of the modules switched to Rust.
use mtproxy_ffi as _;

mod cli;
mod selftest;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--modules") => {
            for entry in env!("MTPROXY_MODULE_SIDES").split(',') {
                let (module, side) = entry.split_once('=').unwrap_or((entry, "?"));
                println!("{module:<18} {side}");
            }
            ExitCode::SUCCESS
        }
        Some("selftest") => selftest::run(),
        _ => run_proxy(&args),
    }
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
            for w in warnings {
                eprintln!("mtproxy-rust: warning: {w}");
            }
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
