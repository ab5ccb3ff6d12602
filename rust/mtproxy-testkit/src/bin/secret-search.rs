//! `secret-search USERS`: the CPU one handshake spends finding its secret
//! among USERS secrets when the last one matches (every trial before it
//! fails), the way the Rust proxy searches: obfuscated2 headers over the
//! packed keys, fake-TLS hellos over precomputed HMAC keys. Prints JSON in
//! milliseconds per handshake, for scripts/perf.sh (issue #11's rows).
#![forbid(unsafe_code)]

use mtproxy_core::net::fake_tls::{self, ReplayCache, VERDICT_ACCEPT};
use mtproxy_core::net::obfs2;
use std::process::ExitCode;
use std::time::Instant;

const DOMAIN: &[u8] = b"example.com";
const NOW: i64 = 1_764_000_000;

/// `n` distinct secrets (xorshift, fixed seed).
fn secrets(n: usize) -> Vec<[u8; 16]> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            std::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
        })
        .collect()
}

/// Handshakes to time: enough for about 20,000 trials, at least 3.
fn rounds(n: usize) -> usize {
    20_000 / n + 3
}

fn obfs2_ms(keys: &[[u8; 16]]) -> Option<f64> {
    let last = keys.last()?;
    let packed = keys.concat();
    let built = obfs2::build_client_header(&[0x42; 64], Some(last), obfs2::TAG_PADDED, 2).ok()?;
    let rounds = rounds(keys.len());
    let start = Instant::now();
    for _ in 0..rounds {
        let header = obfs2::parse_header(&built.header, &packed, false).ok()?;
        if usize::try_from(header.secret_index).ok()? != keys.len() - 1 {
            return None;
        }
    }
    Some(start.elapsed().as_secs_f64() * 1e3 / rounds as f64)
}

fn fake_tls_ms(keys: &[[u8; 16]]) -> Option<f64> {
    let last = keys.last()?;
    let rounds = rounds(keys.len());
    // One hello per round: the replay cache refuses a second look at one.
    let hellos: Option<Vec<Vec<u8>>> = (0..rounds)
        .map(|r| {
            let mut random = [7u8; 64];
            random[..8].copy_from_slice(&(r as u64).to_le_bytes());
            let mut out = vec![0u8; 517];
            fake_tls::build_client_hello(last, DOMAIN, NOW as u32, &random, 517, &mut out).ok()?;
            Some(out)
        })
        .collect();
    let hellos = hellos?;
    let prepared = fake_tls::hello_keys(keys);
    let mut cache = ReplayCache::new(rounds + 1).ok()?;
    let start = Instant::now();
    for hello in &hellos {
        let check = fake_tls::check_client_hello_keyed(
            hello,
            hello.len(),
            &prepared,
            None,
            &[DOMAIN],
            &mut cache,
            NOW,
        )
        .ok()?;
        if check.verdict != VERDICT_ACCEPT {
            return None;
        }
    }
    Some(start.elapsed().as_secs_f64() * 1e3 / rounds as f64)
}

fn main() -> ExitCode {
    let Some(n) = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<usize>().ok())
        .filter(|&n| n > 0)
    else {
        eprintln!("usage: secret-search USERS (at least 1)");
        return ExitCode::FAILURE;
    };
    let keys = secrets(n);
    let (Some(obfs2), Some(tls)) = (obfs2_ms(&keys), fake_tls_ms(&keys)) else {
        eprintln!("secret-search: a handshake built for the last secret was not accepted");
        return ExitCode::FAILURE;
    };
    println!("{{\"users\":{n},\"obfs2_ms_per_handshake\":{obfs2:.4},\"fake_tls_ms_per_handshake\":{tls:.4}}}");
    ExitCode::SUCCESS
}
