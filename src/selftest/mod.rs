//! Known-answer checks through the contract symbols as linked (`mtproxy_sys::c`),
//! so they exercise whichever side each module came from, including the
//! Rust `extern "C"` shims and C modules calling Rust ones.
use std::process::ExitCode;

/// One named check: Ok or a description of the mismatch.
type Check = (&'static str, fn() -> Result<(), String>);

/// Declares each module's check file and the list of all checks; one line
/// per module, `file => "module name"`.
macro_rules! checks {
    ($($file:ident => $module:literal,)*) => {
        $(mod $file;)*
        const CHECKS: &[(&str, &[Check])] = &[$(($module, $file::CHECKS)),*];
    };
}

checks! {
    aesni256 => "aesni256",
    crc32 => "crc32",
    crc32c => "crc32c",
    ext_framing => "ext-framing",
    fake_tls => "fake-tls",
    jobs_threads => "jobs-threads",
    kprintf => "kprintf",
    md5 => "md5",
    mp_queue => "mp-queue",
    mtproto_config => "mtproto-config",
    net_crypto_aes => "net-crypto-aes",
    net_events => "net-events",
    obfs2 => "obfs2",
    parse_config => "parse-config",
    pid => "pid",
    precise_time => "precise-time",
    proc_stat => "proc-stat",
    resolver => "resolver",
    rpc_frame => "rpc-frame",
    rpc_handshake => "rpc-handshake",
    rpc_proxy_msg => "rpc-proxy-msg",
    server_functions => "server-functions",
    sha1 => "sha1",
    sha256 => "sha256",
    stats_http => "stats-http",
    tl_parse => "tl-parse",
}

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
