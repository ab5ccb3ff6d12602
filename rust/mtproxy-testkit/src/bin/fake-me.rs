//! `fake-me --secret-file PATH [--port-file PATH] [--conf-out PATH]
//! [--dc N]... [--behaviour echo|stall|drop|close-ext|simple-ack|reply:N]
//! [--no-crc32c]`
//!
//! Starts a fake middle-end on 127.0.0.1 (port 0), writes its port to
//! `--port-file` and a proxy-multi.conf sending every `--dc` (default 2)
//! there to `--conf-out`, prints `fake-me listening on 127.0.0.1:PORT` and
//! runs until its stdin reaches EOF (std has no signal handling; SIGTERM or
//! SIGINT end the process by their default action, which is also fine).
//! Bad flags or an unreadable secret exit with code 2.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mtproxy_testkit::fake_me::{Behaviour, FakeMe, FakeMeConfig, SecretSource};
use mtproxy_testkit::process::write_atomically;

const USAGE: &str = "usage: fake-me --secret-file PATH [--port-file PATH] [--conf-out PATH] \
[--dc N]... [--behaviour echo|stall|drop|close-ext|simple-ack|reply:N] [--no-crc32c]";

struct Args {
    secret_file: PathBuf,
    port_file: Option<PathBuf>,
    conf_out: Option<PathBuf>,
    dcs: Vec<i32>,
    behaviour: Behaviour,
    crc32c: bool,
}

fn parse_behaviour(text: &str) -> Result<Behaviour, String> {
    Ok(match text {
        "echo" => Behaviour::Echo,
        "stall" => Behaviour::Stall,
        "drop" => Behaviour::DropConnection,
        "close-ext" => Behaviour::CloseExt,
        "simple-ack" => Behaviour::SimpleAck,
        _ => match text.strip_prefix("reply:").map(str::parse::<usize>) {
            Some(Ok(n)) => Behaviour::ReplyBytes(n),
            _ => return Err(format!("unknown behaviour {text:?}")),
        },
    })
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut secret_file = None;
    let mut port_file = None;
    let mut conf_out = None;
    let mut dcs = Vec::new();
    let mut behaviour = Behaviour::Echo;
    let mut crc32c = true;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--secret-file" => secret_file = Some(PathBuf::from(value()?)),
            "--port-file" => port_file = Some(PathBuf::from(value()?)),
            "--conf-out" => conf_out = Some(PathBuf::from(value()?)),
            "--dc" => {
                let text = value()?;
                dcs.push(text.parse().map_err(|_| format!("bad --dc {text:?}"))?);
            }
            "--behaviour" => behaviour = parse_behaviour(&value()?)?,
            "--no-crc32c" => crc32c = false,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if dcs.is_empty() {
        dcs.push(2);
    }
    Ok(Args {
        secret_file: secret_file.ok_or("--secret-file is required")?,
        port_file,
        conf_out,
        dcs,
        behaviour,
        crc32c,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("fake-me: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = FakeMeConfig {
        crc32c: args.crc32c,
        behaviour: args.behaviour,
        // The log has no reader here.
        log_messages: false,
        ..FakeMeConfig::new(SecretSource::File(args.secret_file))
    };
    let me = match FakeMe::start(config) {
        Ok(me) => me,
        Err(error) => {
            eprintln!("fake-me: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.conf_out {
        if let Err(error) = std::fs::write(path, me.proxy_multi_conf(&args.dcs)) {
            eprintln!("fake-me: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    // The port file last: once it exists, everything else is in place.
    if let Some(path) = &args.port_file {
        if let Err(error) = write_atomically(path, &format!("{}\n", me.port())) {
            eprintln!("fake-me: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    println!("fake-me listening on 127.0.0.1:{}", me.port());
    let _ = io::stdout().flush();
    // Runs until stdin reaches EOF.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    drop(me);
    ExitCode::SUCCESS
}
