//! Known-answer checks through the contract symbols as linked (`mtproxy_sys::c`),
//! so they exercise whichever side each module came from, including the
//! Rust `extern "C"` shims and C modules calling Rust ones.
use std::process::ExitCode;

mod crc32;
mod crc32c;
mod md5;
mod sha1;
mod sha256;
mod kprintf;
mod parse_config;
mod tl_parse;
mod pid;
mod precise_time;
mod proc_stat;
mod resolver;
mod server_functions;
mod rpc_frame;
mod rpc_handshake;

/// One named check: Ok or a description of the mismatch.
type Check = (&'static str, fn() -> Result<(), String>);

const CHECKS: &[(&str, &[Check])] = &[
    ("crc32", crc32::CHECKS),
    ("crc32c", crc32c::CHECKS),
    ("md5", md5::CHECKS),
    ("sha1", sha1::CHECKS),
    ("sha256", sha256::CHECKS),
    ("kprintf", kprintf::CHECKS),
    ("parse-config", parse_config::CHECKS),
    ("tl-parse", tl_parse::CHECKS),
    ("precise-time", precise_time::CHECKS),
    ("pid", pid::CHECKS),
    ("resolver", resolver::CHECKS),
    ("server-functions", server_functions::CHECKS),
    ("proc-stat", proc_stat::CHECKS),
    ("rpc-frame", rpc_frame::CHECKS),
    ("rpc-handshake", rpc_handshake::CHECKS),
];

/// Compare two values, describing a mismatch.
pub(crate) fn expect_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

pub fn run() -> ExitCode {
    let sides: Vec<(&str, &str)> = env!("MTPROXY_MODULE_SIDES")
        .split(',')
        .filter_map(|e| e.split_once('='))
        .collect();
    let mut failed = 0;
    let mut passed = 0;
    for (module, checks) in CHECKS {
        let side = sides
            .iter()
            .find(|(m, _)| m == module)
            .map_or("?", |(_, s)| s);
        for (name, check) in *checks {
            match check() {
                Ok(()) => passed += 1,
                Err(e) => {
                    failed += 1;
                    println!("FAIL {module} [{side}] {name}: {e}");
                }
            }
        }
        println!("{module:<18} {side:<5} {} checks", checks.len());
    }
    println!("selftest: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
