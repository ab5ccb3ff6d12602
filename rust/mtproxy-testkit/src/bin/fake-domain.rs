//! `fake-domain [--port-file PATH] [--reply-hex HEX]
//!              [--tls [--cert-padding BYTES] [--chain-len N]]`
//!
//! Starts a fake fronting domain on 127.0.0.1 (port 0) answering every
//! connection once with [`FakeDomain::tls_like_reply`] (or the `--reply-hex`
//! bytes). With `--tls` it is a real TLS 1.3 server instead
//! ([`FakeDomain::start_tls`]): a generated chain of `--chain-len`
//! certificates (default 2) whose leaf carries `--cert-padding` extra bytes
//! (default 0), answering the first decrypted data with `--reply-hex` (default
//! a small HTTP response). It writes its port to `--port-file`, prints
//! `fake-domain listening on 127.0.0.1:PORT` and runs until its stdin
//! reaches EOF (or SIGTERM/SIGINT end it by their default action).
//! Bad flags exit with code 2.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mtproxy_testkit::fronting::{FakeDomain, TlsOptions};
use mtproxy_testkit::process::write_atomically;

const USAGE: &str = "usage: fake-domain [--port-file PATH] [--reply-hex HEX] \
                     [--tls [--cert-padding BYTES] [--chain-len N]]";

struct Args {
    port_file: Option<PathBuf>,
    reply: Option<Vec<u8>>,
    tls: bool,
    cert_padding: Option<usize>,
    chain_len: Option<usize>,
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port_file: None,
        reply: None,
        tls: false,
        cert_padding: None,
        chain_len: None,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port-file" => parsed.port_file = Some(PathBuf::from(value()?)),
            "--reply-hex" => {
                let text = value()?;
                parsed.reply = Some(parse_hex(&text).ok_or(format!("bad --reply-hex {text:?}"))?);
            }
            "--tls" => parsed.tls = true,
            "--cert-padding" | "--chain-len" => {
                let text = value()?;
                let number = text
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n <= 1 << 20)
                    .ok_or(format!("bad {flag} {text:?}"))?;
                if flag == "--cert-padding" {
                    parsed.cert_padding = Some(number);
                } else if (1..=16).contains(&number) {
                    parsed.chain_len = Some(number);
                } else {
                    return Err(format!("--chain-len must be 1..=16, not {number}"));
                }
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if !parsed.tls && (parsed.cert_padding.is_some() || parsed.chain_len.is_some()) {
        return Err("--cert-padding and --chain-len need --tls".into());
    }
    Ok(parsed)
}

fn start(args: Args) -> std::io::Result<FakeDomain> {
    if !args.tls {
        return FakeDomain::start(args.reply.unwrap_or_else(FakeDomain::tls_like_reply));
    }
    let defaults = TlsOptions::default();
    FakeDomain::start_tls(TlsOptions {
        chain_len: args.chain_len.unwrap_or(defaults.chain_len),
        cert_padding: args.cert_padding.unwrap_or(defaults.cert_padding),
        reply: args.reply.unwrap_or(defaults.reply.clone()),
        ..defaults
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("fake-domain: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let port_file = args.port_file.clone();
    let domain = match start(args) {
        Ok(domain) => domain,
        Err(error) => {
            eprintln!("fake-domain: {error}");
            return ExitCode::from(1);
        }
    };
    if let Some(path) = &port_file {
        if let Err(error) = write_atomically(path, &format!("{}\n", domain.port())) {
            eprintln!("fake-domain: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    println!("fake-domain listening on 127.0.0.1:{}", domain.port());
    let _ = io::stdout().flush();
    // Runs until stdin reaches EOF.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    drop(domain);
    ExitCode::SUCCESS
}
