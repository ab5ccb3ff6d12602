//! A worker's randomness (docs/RUNTIME.md, "Randomness"): the OS when the
//! seed is 0, otherwise the deterministic stream whose 32-byte block `i` is
//! `SHA-256(le64(seed) ‖ le32(worker) ‖ le64(i))`, consumed in order of use.

use mtproxy_core::common::sha256::sha256;
use std::io::Read;

/// Bytes fetched from the OS at a time, so a connection costs no syscall.
const OS_BATCH: usize = 4096;

pub(crate) struct Rng {
    source: Source,
    buf: Vec<u8>,
    /// Next unused byte of `buf`.
    pos: usize,
}

enum Source {
    Os(Option<std::fs::File>),
    Seeded { seed: u64, worker: u32, block: u64 },
}

impl Rng {
    pub fn new(seed: u64, worker: u32) -> Rng {
        let source = if seed == 0 {
            Source::Os(std::fs::File::open("/dev/urandom").ok())
        } else {
            Source::Seeded {
                seed,
                worker,
                block: 0,
            }
        };
        Rng {
            source,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn refill(&mut self) {
        self.pos = 0;
        match &mut self.source {
            Source::Seeded {
                seed,
                worker,
                block,
            } => {
                let mut input = [0u8; 20];
                input[..8].copy_from_slice(&seed.to_le_bytes());
                input[8..12].copy_from_slice(&worker.to_le_bytes());
                input[12..].copy_from_slice(&block.to_le_bytes());
                *block = block.wrapping_add(1);
                self.buf.clear();
                self.buf.extend_from_slice(&sha256(&input));
            }
            Source::Os(file) => {
                self.buf.resize(OS_BATCH, 0);
                let ok = file
                    .as_mut()
                    .is_some_and(|f| f.read_exact(&mut self.buf).is_ok());
                if !ok {
                    // /dev/urandom is missing or failed (a broken chroot):
                    // fall back to hashing the clock and a counter rather
                    // than stopping the proxy; such bytes still differ per
                    // call, which is all nonces and padding need.
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    self.buf.clear();
                    self.buf.extend_from_slice(&sha256(&nanos.to_le_bytes()));
                }
            }
        }
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        let mut done = 0;
        while done < out.len() {
            if self.pos >= self.buf.len() {
                self.refill();
            }
            let n = (self.buf.len() - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_stream_is_the_documented_hash_chain() {
        let mut rng = Rng::new(7, 2);
        let mut got = [0u8; 70];
        rng.fill(&mut got[..5]);
        rng.fill(&mut got[5..]);
        let block = |i: u64| {
            let mut input = Vec::new();
            input.extend_from_slice(&7u64.to_le_bytes());
            input.extend_from_slice(&2u32.to_le_bytes());
            input.extend_from_slice(&i.to_le_bytes());
            sha256(&input)
        };
        let want: Vec<u8> = (0..3).flat_map(block).take(70).collect();
        assert_eq!(got.as_slice(), want.as_slice());
    }

    #[test]
    fn workers_get_different_streams() {
        let a: [u8; 32] = Rng::new(1, 0).bytes();
        let b: [u8; 32] = Rng::new(1, 1).bytes();
        assert_ne!(a, b);
    }

    #[test]
    fn os_randomness_differs_between_calls() {
        let mut rng = Rng::new(0, 0);
        let a: [u8; 16] = rng.bytes();
        let b: [u8; 16] = rng.bytes();
        assert_ne!(a, b);
    }
}
