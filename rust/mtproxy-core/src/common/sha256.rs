//! SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), used by the obfuscated2
//! key derivation and the fake-TLS handshake.
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC's block size for SHA-256.
const BLOCK_LEN: usize = 64;

/// The SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The longest message that fits one padded block (a 0x80 byte and the
/// 8-byte bit length follow it).
const ONE_BLOCK_MAX: usize = BLOCK_LEN - 9;

/// The SHA-256 digest of `first ‖ second`, without joining them. Messages
/// that fit one block (the obfuscated2 key derivation: 32 + 16 bytes, tried
/// once per secret in a handshake) take one compression and no hasher.
pub fn sha256_two_chunks(first: &[u8], second: &[u8]) -> [u8; 32] {
    let len = first.len() + second.len();
    if len > ONE_BLOCK_MAX {
        return Sha256::new()
            .chain_update(first)
            .chain_update(second)
            .finalize()
            .into();
    }
    let mut block = [0u8; BLOCK_LEN];
    block[..first.len()].copy_from_slice(first);
    block[first.len()..len].copy_from_slice(second);
    block[len] = 0x80;
    block[BLOCK_LEN - 8..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    let mut state = INITIAL_STATE;
    sha2::compress256(&mut state, &[block.into()]);
    digest_of(state)
}

/// One SHA-256 block.
pub type Block = sha2::digest::generic_array::GenericArray<u8, sha2::digest::consts::U64>;

fn digest_of(state: [u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// `msg` cut into blocks and padded as the tail of a message that has
/// `prefix_blocks` whole blocks before it (the length field counts them).
pub fn padded_blocks(msg: &[u8], prefix_blocks: usize) -> Vec<Block> {
    let total = (msg.len() + 9).div_ceil(BLOCK_LEN) * BLOCK_LEN;
    let mut bytes = vec![0u8; total];
    bytes[..msg.len()].copy_from_slice(msg);
    bytes[msg.len()] = 0x80;
    let bits = ((prefix_blocks * BLOCK_LEN + msg.len()) as u64) * 8;
    bytes[total - 8..].copy_from_slice(&bits.to_be_bytes());
    bytes
        .chunks_exact(BLOCK_LEN)
        .map(|c| *Block::from_slice(c))
        .collect()
}

/// An HMAC-SHA256 key of at most one block, with the states after its
/// inner and outer key blocks computed once: a MAC then costs only the
/// message's blocks and one outer block (the fake-TLS hello check tries
/// every secret on the same hello).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// `None` for a key longer than a block.
    pub fn new(key: &[u8]) -> Option<HmacKey> {
        let mut ipad = [0x36u8; BLOCK_LEN];
        let mut opad = [0x5cu8; BLOCK_LEN];
        for (i, &k) in key.iter().enumerate() {
            *ipad.get_mut(i)? ^= k;
            opad[i] ^= k;
        }
        let (mut inner, mut outer) = (INITIAL_STATE, INITIAL_STATE);
        sha2::compress256(&mut inner, &[ipad.into()]);
        sha2::compress256(&mut outer, &[opad.into()]);
        Some(HmacKey { inner, outer })
    }

    /// The MAC of the message `blocks` holds (from [`padded_blocks`] with
    /// one prefix block, the key block).
    pub fn mac(&self, blocks: &[Block]) -> [u8; 32] {
        let mut inner = self.inner;
        sha2::compress256(&mut inner, blocks);
        // The outer message is the 32-byte inner digest after the key
        // block: one padded block, built here without allocating.
        let mut block = [0u8; BLOCK_LEN];
        block[..32].copy_from_slice(&digest_of(inner));
        block[32] = 0x80;
        block[BLOCK_LEN - 8..].copy_from_slice(&(((BLOCK_LEN + 32) as u64) * 8).to_be_bytes());
        let mut outer = self.outer;
        sha2::compress256(&mut outer, &[block.into()]);
        digest_of(outer)
    }
}

/// HMAC-SHA256 of `msg` under `key` (any length).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // RFC 2104 section 2: a key longer than the block is replaced by its
    // hash, and every key is zero-padded to the block. Doing that here gives a
    // block-sized key, whose constructor cannot fail (unlike `new_from_slice`).
    let mut block = [0u8; BLOCK_LEN];
    if let Some(head) = block.get_mut(..key.len()) {
        head.copy_from_slice(key);
    } else if let Some(head) = block.get_mut(..32) {
        head.copy_from_slice(&sha256(key));
    }
    let mut mac = <Hmac<Sha256> as Mac>::new(&block.into());
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_key_bytes() -> Vec<u8> {
        (100..164u8).collect()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn fips180_abc() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn two_chunks_is_the_hash_of_the_concatenation() {
        let data = b"the quick brown fox jumps over the lazy dog, twice over";
        for split in 0..=data.len() {
            let (a, b) = data.split_at(split);
            assert_eq!(sha256_two_chunks(a, b), sha256(data));
        }
        // Both sides of the one-block path's edge (55 bytes) and beyond.
        let long: Vec<u8> = (0..130u8).collect();
        for len in 0..long.len() {
            let (a, b) = long[..len].split_at(len / 3);
            assert_eq!(sha256_two_chunks(a, b), sha256(&long[..len]), "{len}");
        }
    }

    #[test]
    fn hmac_rfc4231_case_2_and_long_keys() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 case 6: a 131-byte key, hashed before use.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // The precomputed key gives the same MACs, at every message length
        // around the padding's edges.
        let msg: Vec<u8> = (0..200u8).collect();
        for key_len in [0, 1, 16, 63, 64] {
            let key = HmacKey::new(&long_key_bytes()[..key_len]).unwrap();
            for len in 0..msg.len() {
                let blocks = padded_blocks(&msg[..len], 1);
                let want = hmac_sha256(&long_key_bytes()[..key_len], &msg[..len]);
                assert_eq!(key.mac(&blocks), want, "key {key_len}, msg {len}");
            }
        }
        assert_eq!(HmacKey::new(&[0; BLOCK_LEN + 1]), None);
        // One byte over the block: the same as keying with the key's hash.
        let long_key = [0x0b; BLOCK_LEN + 1];
        assert_eq!(
            hmac_sha256(&long_key, b"m"),
            hmac_sha256(&sha256(&long_key), b"m")
        );
    }
}
