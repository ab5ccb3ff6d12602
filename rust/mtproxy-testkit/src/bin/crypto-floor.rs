//! `crypto-floor [MIB]`: the proxy's unavoidable crypto cost per GB on this
//! machine, with the project's own AES (mtproxy-core's aesni256): upload =
//! AES-256-CTR decrypt (client side) + AES-256-CBC encrypt (middle-end
//! side); download = CBC decrypt + CTR encrypt; direct mode (either way) =
//! CTR decrypt + CTR encrypt. Prints JSON with CPU seconds per GB of each,
//! for scripts/perf.sh.
#![forbid(unsafe_code)]

use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use std::process::ExitCode;
use std::time::Instant;

/// Seconds per GB of running `mode` over 64 KiB buffers, `mib` MiB in all.
fn seconds_per_gb(mode: AesMode, mib: usize) -> Option<f64> {
    let mut ctx = AesContext::new(mode, &[7; 32], &[9; 16]).ok()?;
    let mut buf = vec![0x5au8; 64 * 1024];
    let rounds = mib * 16;
    // Warm up once so page faults and CPU frequency ramp are not counted.
    ctx.crypt_in_place(&mut buf).ok()?;
    let start = Instant::now();
    for _ in 0..rounds {
        ctx.crypt_in_place(&mut buf).ok()?;
    }
    let bytes = (rounds * buf.len()) as f64;
    Some(start.elapsed().as_secs_f64() / (bytes / 1e9))
}

fn main() -> ExitCode {
    let mib = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(512usize);
    let figures = (
        seconds_per_gb(AesMode::Ctr, mib),
        seconds_per_gb(AesMode::CbcEncrypt, mib),
        seconds_per_gb(AesMode::CbcDecrypt, mib),
    );
    let (Some(ctr), Some(cbc_enc), Some(cbc_dec)) = figures else {
        eprintln!("crypto-floor: the AES context refused");
        return ExitCode::FAILURE;
    };
    println!(
        "{{\"ctr_s_per_gb\":{ctr:.3},\"cbc_encrypt_s_per_gb\":{cbc_enc:.3},\"cbc_decrypt_s_per_gb\":{cbc_dec:.3},\"upload_floor_s_per_gb\":{:.3},\"download_floor_s_per_gb\":{:.3},\"direct_floor_s_per_gb\":{:.3}}}",
        ctr + cbc_enc,
        cbc_dec + ctr,
        2.0 * ctr
    );
    ExitCode::SUCCESS
}
