//! A small seeded PRNG: tests need reproducible "random" bytes, not secure
//! ones.
use std::io::Read;

/// xorshift64* generator.
#[derive(Debug, Clone)]
pub struct XorShift {
    state: u64,
}

impl XorShift {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state, which
    /// xorshift needs).
    pub fn new(seed: u64) -> Self {
        XorShift {
            state: if seed == 0 {
                0x9e37_79b9_7f4a_7c15
            } else {
                seed
            },
        }
    }

    /// A generator seeded from /dev/urandom, or from the clock if that is
    /// unavailable.
    pub fn from_entropy() -> Self {
        let mut seed = [0u8; 8];
        let from_urandom = std::fs::File::open("/dev/urandom")
            .and_then(|mut file| file.read_exact(&mut seed))
            .is_ok();
        if !from_urandom {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            seed = (nanos as u64).to_le_bytes();
        }
        XorShift::new(u64::from_le_bytes(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..=max`.
    pub fn below_or_eq(&mut self, max: usize) -> usize {
        match (max as u64).checked_add(1) {
            Some(bound) => (self.next_u64() % bound) as usize,
            None => self.next_u64() as usize,
        }
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}
