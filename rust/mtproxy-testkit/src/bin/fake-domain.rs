//! `fake-domain [--port-file PATH] [--reply-hex HEX]`
//!
//! Starts a fake fronting domain on 127.0.0.1 (port 0) answering every
//! connection once with [`FakeDomain::tls_like_reply`] (or the `--reply-hex`
//! bytes), writes its port to `--port-file`, prints
//! `fake-domain listening on 127.0.0.1:PORT` and runs until its stdin
//! reaches EOF (or SIGTERM/SIGINT end it by their default action).
//! Bad flags exit with code 2.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mtproxy_testkit::fronting::FakeDomain;

const USAGE: &str = "usage: fake-domain [--port-file PATH] [--reply-hex HEX]";

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(Option<PathBuf>, Vec<u8>), String> {
    let mut port_file = None;
    let mut reply = FakeDomain::tls_like_reply();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port-file" => port_file = Some(PathBuf::from(value()?)),
            "--reply-hex" => {
                let text = value()?;
                reply = parse_hex(&text).ok_or(format!("bad --reply-hex {text:?}"))?;
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok((port_file, reply))
}

/// Writes via a temporary file and a rename, so a reader polling for the
/// file never sees it half-written.
fn write_atomically(path: &std::path::Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn main() -> ExitCode {
    let (port_file, reply) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("fake-domain: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let domain = match FakeDomain::start(reply) {
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
