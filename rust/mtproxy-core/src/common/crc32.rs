//! CRC-32 (IEEE 802.3, the zlib polynomial), as used by the RPC frame codec
//! before CRC-32C is negotiated.
//!
//! The streaming form keeps upstream's convention: the running state is the
//! *inverted* CRC, so `compute_crc32(d) == !crc32_partial(d, !0)` and a stream
//! split anywhere gives the same result as one call.

/// Continue a CRC-32 over `data` from the running (inverted) state `crc`.
pub fn crc32_partial(data: &[u8], crc: u32) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(!crc);
    hasher.update(data);
    !hasher.finalize()
}

/// The CRC-32 of `data`.
pub fn compute_crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The CRC-32 of `A ‖ B` given `crc1 = CRC(A)`, `crc2 = CRC(B)` and `len2 = |B|`.
pub fn crc32_combine(crc1: u32, crc2: u32, len2: u64) -> u32 {
    let mut first = crc32fast::Hasher::new_with_initial_len(crc1, 0);
    let second = crc32fast::Hasher::new_with_initial_len(crc2, len2);
    first.combine(&second);
    first.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(compute_crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(compute_crc32(b""), 0);
    }

    #[test]
    fn partial_and_combine_agree_with_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 17, 500, 999, 1000] {
            let (a, b) = data.split_at(split);
            let streamed = !crc32_partial(b, crc32_partial(a, !0));
            assert_eq!(streamed, compute_crc32(&data));
            let combined = crc32_combine(compute_crc32(a), compute_crc32(b), b.len() as u64);
            assert_eq!(combined, compute_crc32(&data));
        }
    }
}
