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

/// The SHA-256 digest of `first ‖ second`, without joining them.
pub fn sha256_two_chunks(first: &[u8], second: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(first)
        .chain_update(second)
        .finalize()
        .into()
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
        // One byte over the block: the same as keying with the key's hash.
        let long_key = [0x0b; BLOCK_LEN + 1];
        assert_eq!(
            hmac_sha256(&long_key, b"m"),
            hmac_sha256(&sha256(&long_key), b"m")
        );
    }
}
