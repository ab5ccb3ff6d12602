//! `mtproxy-rust`: the Rust-owned binary of the hybrid C/Rust MTProto proxy.
//!
//! Each module's contract symbols come from C (c-legacy/, compiled by
//! build.rs) or from Rust (mtproxy-ffi), as the `rust-*` features chose. The
//! proxy runtime itself is the subject of later issues; today the binary
//! reports its module map and checks every linked contract with known answers.

// Links the Rust exports of the modules switched to Rust.
use mtproxy_ffi as _;

mod selftest;

use std::process::ExitCode;

const USAGE: &str = "usage: mtproxy-rust <command>
  --modules   print which side (c or rust) implements each module in this build
  selftest    run known-answer checks through every linked module contract
  --help      this text";

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
        Some("--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("mtproxy-rust: unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
