//! `handshake-flood --proxy ADDR [--threads N] [--seconds S]`: a flood of
//! wrong-secret obfuscated2 handshakes (64 random bytes on a fresh
//! connection, then wait for the proxy to close it), from N threads for S
//! seconds. Each one makes the proxy try every secret it has. Prints JSON
//! with the handshakes sent and their rate, for scripts/perf.sh (issue #11's
//! hostile row: real clients' round trips while it runs).
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    proxy: SocketAddr,
    threads: usize,
    seconds: f64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut proxy = None;
    let mut threads = 2;
    let mut seconds: f64 = 4.0;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag}: value missing"))?;
        let bad = |_| format!("{flag}: bad value `{value}`");
        match flag.as_str() {
            "--proxy" => proxy = Some(value.parse().map_err(|_| bad(()))?),
            "--threads" => threads = value.parse().map_err(|_| bad(()))?,
            "--seconds" => seconds = value.parse().map_err(|_| bad(()))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let proxy = proxy.ok_or("--proxy ADDR is required")?;
    if threads == 0 || !seconds.is_finite() || seconds <= 0.0 {
        return Err("--threads and --seconds must be positive".into());
    }
    Ok(Options {
        proxy,
        threads,
        seconds,
    })
}

/// One wrong-secret handshake; `false` when the proxy could not be reached.
fn one(proxy: SocketAddr, header: &[u8; 64]) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&proxy, Duration::from_secs(5)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    if stream.write_all(header).is_err() {
        return false;
    }
    // The proxy answers nothing and closes.
    let mut sink = [0u8; 256];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    true
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("handshake-flood: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(options.seconds);
    let workers: Vec<_> = (0..options.threads)
        .map(|t| {
            let (sent, failed) = (Arc::clone(&sent), Arc::clone(&failed));
            let proxy = options.proxy;
            std::thread::spawn(move || {
                let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ (t as u64 + 1);
                while Instant::now() < until {
                    let header: [u8; 64] = std::array::from_fn(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    });
                    let counter = if one(proxy, &header) { &sent } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let seconds = start.elapsed().as_secs_f64();
    let sent = sent.load(Ordering::Relaxed);
    println!(
        "{{\"flood_handshakes\":{sent},\"flood_failed\":{},\"flood_per_sec\":{:.1},\"flood_seconds\":{seconds:.2}}}",
        failed.load(Ordering::Relaxed),
        sent as f64 / seconds
    );
    ExitCode::SUCCESS
}
