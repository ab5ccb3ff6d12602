//! CRC-32C (Castagnoli), the checksum of RPC frames once both ends agree on it.
//!
//! Same streaming convention as [`super::crc32`]: the running state is the
//! *inverted* CRC, so `compute_crc32c(d) == !crc32c_partial(d, !0)`.

/// The reflected Castagnoli polynomial.
const POLY_REFLECTED: u32 = 0x82f6_3b78;

/// Continue a CRC-32C over `data` from the running (inverted) state `crc`,
/// with the hardware instruction when the CPU has it.
pub fn crc32c_partial(data: &[u8], crc: u32) -> u32 {
    !crc32c::crc32c_append(!crc, data)
}

/// The CRC-32C of `data`.
pub fn compute_crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// [`crc32c_partial`] by table lookups only, never the hardware instruction:
/// the fallback for CPUs without it, exported so tests can cover that path.
pub fn crc32c_partial_portable(data: &[u8], mut crc: u32) -> u32 {
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let folded = u64::from_le_bytes(bytes) ^ u64::from(crc);
        // Slice-by-8: table k advances a byte through k further zero bytes.
        crc = folded
            .to_le_bytes()
            .iter()
            .zip(TABLES.iter().rev())
            .fold(0, |acc, (&byte, table)| acc ^ table[usize::from(byte)]);
    }
    for &byte in words.remainder() {
        crc = (crc >> 8) ^ TABLES[0][usize::from(byte ^ crc as u8)];
    }
    crc
}

/// `TABLES[k][b]`: the state after byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 8] = build_tables();

const fn build_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut byte = 0;
    while byte < 256 {
        let mut c = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ POLY_REFLECTED
            } else {
                c >> 1
            };
            bit += 1;
        }
        tables[0][byte] = c;
        byte += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut byte = 0;
        while byte < 256 {
            let prev = tables[k - 1][byte];
            tables[k][byte] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            byte += 1;
        }
        k += 1;
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascending() -> Vec<u8> {
        (0..32).collect()
    }

    #[test]
    fn known_answers() {
        for (input, want) in [
            (b"123456789".to_vec(), 0xe306_9283u32),
            (vec![0u8; 32], 0x8a91_36aa),
            (vec![0xffu8; 32], 0x62a8_ab43),
            (ascending(), 0x46dd_794e),
            (Vec::new(), 0),
        ] {
            assert_eq!(compute_crc32c(&input), want, "{input:?}");
            assert_eq!(!crc32c_partial_portable(&input, !0), want, "{input:?}");
        }
    }

    #[test]
    fn streaming_agrees_with_one_shot_on_both_paths() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 13 + 5) as u8).collect();
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let (a, b) = data.split_at(split);
            let fast = !crc32c_partial(b, crc32c_partial(a, !0));
            let portable = !crc32c_partial_portable(b, crc32c_partial_portable(a, !0));
            assert_eq!(fast, compute_crc32c(&data));
            assert_eq!(portable, compute_crc32c(&data));
        }
    }
}
