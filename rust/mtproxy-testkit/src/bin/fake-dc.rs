//! `fake-dc [--bind IP:PORT] [--port-file PATH] [--behaviour echo|reply:N]`
//!
//! Starts the test kit's fake Telegram DC (direct mode's far end) on
//! `--bind` (default 127.0.0.1:0) without recording what it receives, writes
//! its port to `--port-file`, prints `fake-dc listening on ADDR` and runs
//! until its stdin reaches EOF. `reply:64` makes it an upload sink and
//! `reply:65536` a download source for `mtproxy-load` (one answer per
//! packet). Bad flags exit with code 2.
#![forbid(unsafe_code)]

use mtproxy_testkit::fake_dc::{DcBehaviour, FakeDc, FakeDcConfig};
use mtproxy_testkit::process::write_atomically;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: fake-dc [--bind IP:PORT] [--port-file PATH] [--behaviour echo|reply:N]";

fn parse(
    mut args: impl Iterator<Item = String>,
) -> Result<(FakeDcConfig, Option<PathBuf>), String> {
    let mut config = FakeDcConfig {
        record: false,
        ..FakeDcConfig::default()
    };
    let mut port_file = None;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bind" => config.bind = value.parse().map_err(|_| format!("bad --bind {value:?}"))?,
            "--port-file" => port_file = Some(PathBuf::from(value)),
            "--behaviour" => {
                config.behaviour = match value.strip_prefix("reply:").map(str::parse) {
                    _ if value == "echo" => DcBehaviour::Echo,
                    Some(Ok(n)) => DcBehaviour::ReplyBytes(n),
                    _ => return Err(format!("unknown behaviour {value:?}")),
                }
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok((config, port_file))
}

fn main() -> ExitCode {
    let (config, port_file) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("fake-dc: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let dc = match FakeDc::start_with(config) {
        Ok(dc) => dc,
        Err(error) => {
            eprintln!("fake-dc: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &port_file {
        if let Err(error) = write_atomically(path, &format!("{}\n", dc.addr().port())) {
            eprintln!("fake-dc: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    println!("fake-dc listening on {}", dc.addr());
    let _ = io::stdout().flush();
    // Runs until stdin reaches EOF.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    drop(dc);
    ExitCode::SUCCESS
}
