//! `mtproxy-load`: drives N client connections through a proxy and reports
//! throughput, handshakes/s, round-trip latency and (with `--pid`) the
//! proxy's CPU per GB and RSS per connection, and its own CPU, as a table
//! or JSON. A few epoll threads run all the connections.
#![forbid(unsafe_code)]

use mtproxy_testkit::client::Transport;
use mtproxy_testkit::load::{run, LoadConfig, Mode};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: mtproxy-load --proxy HOST:PORT --secret SECRET
    [--transport abridged|intermediate|padded] [--dc N] [--connections N]
    [--size BYTES] [--window N] [--duration SECS] [--mode send|download|idle]
    [--pid PROXY_PID] [--me-pid ME_PID] [--threads N] [--connect-concurrency N] [--json] [--quiet]
  send: each packet of --size gets one answer (ME echo = both ways, ME reply:64 = upload)
  download: 64-byte requests, answers as the ME sends them (ME reply:N)
  idle: connect, one round trip each, hold for --duration (RSS per connection)
  ee secrets use fake TLS (and always the padded transport)
  --threads: generator threads, each an epoll loop over its share of the
    connections (default 1); the report gives the generator's own CPU
  --me-pid: also report the middle-end's CPU in the measured phase
  --connect-concurrency: handshakes in progress at once per thread (default 64)";

fn parse(args: &[String]) -> Result<(LoadConfig, bool), String> {
    let mut config = LoadConfig::new(SocketAddr::from(([127, 0, 0, 1], 443)), "");
    config.progress = true;
    let mut json = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let num = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: bad number {v:?}"))
        };
        match flag.as_str() {
            "--proxy" => {
                config.proxy = value()?
                    .parse()
                    .map_err(|_| "--proxy: expected IP:PORT".to_string())?
            }
            "--secret" => config.secret = value()?,
            "--transport" => {
                config.transport = match value()?.as_str() {
                    "abridged" => Transport::Abridged,
                    "intermediate" => Transport::Intermediate,
                    "padded" => Transport::Padded,
                    other => return Err(format!("unknown transport {other:?}")),
                }
            }
            "--dc" => {
                config.dc = value()?
                    .parse()
                    .map_err(|_| "--dc: bad number".to_string())?
            }
            "--connections" => config.connections = num(value()?)?.max(1) as usize,
            "--size" => config.size = num(value()?)? as usize,
            "--window" => config.window = num(value()?)?.max(1) as usize,
            "--duration" => {
                config.duration = Duration::from_secs_f64(
                    value()?
                        .parse()
                        .map_err(|_| "--duration: bad number".to_string())?,
                )
            }
            "--mode" => {
                config.mode = match value()?.as_str() {
                    "send" => Mode::Echo,
                    "download" => Mode::Download,
                    "idle" => Mode::Idle,
                    other => return Err(format!("unknown mode {other:?}")),
                }
            }
            "--pid" => config.pid = Some(num(value()?)? as u32),
            "--me-pid" => config.me_pid = Some(num(value()?)? as u32),
            "--threads" => config.threads = num(value()?)?.max(1) as usize,
            "--connect-concurrency" => config.connect_concurrency = num(value()?)?.max(1) as usize,
            "--json" => json = true,
            "--quiet" => config.progress = false,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if config.secret.is_empty() {
        return Err("--secret is required".into());
    }
    if config.size > 1_044_480 {
        return Err("--size: at most 1044480 bytes (the proxy's packet limit)".into());
    }
    Ok((config, json))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, json) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("mtproxy-load: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_table());
            }
            if report.errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("mtproxy-load: {e}");
            ExitCode::from(1)
        }
    }
}
