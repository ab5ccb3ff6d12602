//! Streaming AES-256 contexts (upstream `crypto/aesni256.c`).
//!
//! Two uses in the proxy: CTR for the obfuscated2 client streams (docs/PROTOCOL.md
//! §1.3) and CBC without padding for middle-end connections (§4.5). Either
//! way one context lives as long as the connection direction, so the state
//! carries over between calls:
//! - CTR: the IV is the first 128-bit counter block, big-endian, incremented
//!   over all 128 bits (wrapping from all-ones to zero, as OpenSSL does). A
//!   call may end mid-block; the next call continues in the same keystream
//!   block, so any chunking gives the same bytes as one call.
//! - CBC: whole 16-byte blocks only; the chaining block carries over.
//!
//! The cipher is aws-lc-rs: AWS-LC's assembly AES runs as fast as OpenSSL,
//! while RustCrypto `aes`+`ctr`+`cbc` measured about 30% slower in CTR and 15%
//! slower in CBC encryption on the same machine (CBC decryption was equal).
//! Its streaming API has no unpadded CBC (decryption would hold back the last
//! block) and does not work in place, so the stream state lives here: each
//! call runs in-place one-shot operations with an explicit IV (the counter or
//! chaining block this context carries).
use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256,
};
use aws_lc_rs::iv::FixedLength;

/// AES-256 key length in bytes.
pub const KEY_LEN: usize = 32;
/// IV (CTR: first counter block; CBC: initial chaining block) length in bytes.
pub const IV_LEN: usize = 16;
/// AES block length in bytes.
pub const BLOCK_LEN: usize = 16;

/// What a context does with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AesMode {
    /// Counter mode; encryption and decryption are the same operation.
    Ctr,
    /// CBC encryption without padding.
    CbcEncrypt,
    /// CBC decryption without padding.
    CbcDecrypt,
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AesError {
    /// A CBC context was given a length that is not a multiple of 16; nothing
    /// was processed and the context is unchanged.
    PartialBlock,
    /// `crypt` was given an output slice of a different length than its
    /// input; nothing was processed and the context is unchanged.
    LengthMismatch,
    /// The crypto library refused the operation. Not expected with valid
    /// arguments; the context must not be used again.
    Crypto,
}

/// One direction of an AES-256 stream.
pub struct AesContext {
    state: State,
}

enum State {
    Ctr(CtrStream),
    CbcEncrypt {
        key: EncryptingKey,
        chain: [u8; BLOCK_LEN],
    },
    CbcDecrypt {
        key: DecryptingKey,
        chain: [u8; BLOCK_LEN],
    },
}

impl AesContext {
    /// A context in `mode` with `key` and `iv`.
    pub fn new(mode: AesMode, key: &[u8; KEY_LEN], iv: &[u8; IV_LEN]) -> Result<Self, AesError> {
        let key = UnboundCipherKey::new(&AES_256, key).map_err(|_| AesError::Crypto)?;
        let state = match mode {
            AesMode::Ctr => State::Ctr(CtrStream {
                key: EncryptingKey::ctr(key).map_err(|_| AesError::Crypto)?,
                counter: u128::from_be_bytes(*iv),
                keystream: [0; BLOCK_LEN],
                used: BLOCK_LEN,
            }),
            AesMode::CbcEncrypt => State::CbcEncrypt {
                key: EncryptingKey::cbc(key).map_err(|_| AesError::Crypto)?,
                chain: *iv,
            },
            AesMode::CbcDecrypt => State::CbcDecrypt {
                key: DecryptingKey::cbc(key).map_err(|_| AesError::Crypto)?,
                chain: *iv,
            },
        };
        Ok(AesContext { state })
    }

    /// The mode the context was created with.
    pub fn mode(&self) -> AesMode {
        match self.state {
            State::Ctr(_) => AesMode::Ctr,
            State::CbcEncrypt { .. } => AesMode::CbcEncrypt,
            State::CbcDecrypt { .. } => AesMode::CbcDecrypt,
        }
    }

    /// Whether a call with `len` bytes would be accepted (CBC: whole blocks).
    pub fn check_len(&self, len: usize) -> Result<(), AesError> {
        match self.mode() {
            AesMode::CbcEncrypt | AesMode::CbcDecrypt if len % BLOCK_LEN != 0 => {
                Err(AesError::PartialBlock)
            }
            _ => Ok(()),
        }
    }

    /// Encrypts or decrypts `data` in place, continuing the stream.
    pub fn crypt_in_place(&mut self, data: &mut [u8]) -> Result<(), AesError> {
        self.check_len(data.len())?;
        match &mut self.state {
            State::Ctr(ctr) => ctr.apply(data),
            State::CbcEncrypt { key, chain } => {
                if !data.is_empty() {
                    key.less_safe_encrypt(
                        data,
                        EncryptionContext::Iv128(FixedLength::from(*chain)),
                    )
                    .map_err(|_| AesError::Crypto)?;
                }
                // The last ciphertext block chains into the next call.
                if let Some(last) = data.last_chunk::<BLOCK_LEN>() {
                    *chain = *last;
                }
                Ok(())
            }
            State::CbcDecrypt { key, chain } => {
                // Decryption overwrites the ciphertext, so save its last block
                // (the next call's chaining block) first.
                let Some(&next_chain) = data.last_chunk::<BLOCK_LEN>() else {
                    return Ok(());
                };
                key.decrypt(data, DecryptionContext::Iv128(FixedLength::from(*chain)))
                    .map_err(|_| AesError::Crypto)?;
                *chain = next_chain;
                Ok(())
            }
        }
    }

    /// Encrypts or decrypts `input` into `output` (same length), continuing
    /// the stream. On a length error neither `output` nor the context changes.
    pub fn crypt(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), AesError> {
        if input.len() != output.len() {
            return Err(AesError::LengthMismatch);
        }
        self.check_len(input.len())?;
        output.copy_from_slice(input);
        self.crypt_in_place(output)
    }
}

/// CTR state: the next counter block plus the unused tail of the current
/// keystream block, so a call can stop anywhere inside a block.
struct CtrStream {
    key: EncryptingKey,
    counter: u128,
    keystream: [u8; BLOCK_LEN],
    /// Bytes of `keystream` already used; `BLOCK_LEN` means none left.
    used: usize,
}

impl CtrStream {
    fn apply(&mut self, data: &mut [u8]) -> Result<(), AesError> {
        // Finish the keystream block a previous call started.
        let leftover = self.keystream.get(self.used..).unwrap_or_default();
        let (head, rest) = data.split_at_mut(leftover.len().min(data.len()));
        xor_into(head, leftover);
        self.used += head.len();

        // Whole blocks in one library call (it pipelines several blocks).
        let whole = rest.len() - rest.len() % BLOCK_LEN;
        let (blocks, tail) = rest.split_at_mut(whole);
        if !blocks.is_empty() {
            self.encrypt_at_counter(blocks)?;
            self.counter = self.counter.wrapping_add((whole / BLOCK_LEN) as u128);
        }

        // A partial last block: keep its unused keystream for the next call.
        if !tail.is_empty() {
            let mut keystream = [0; BLOCK_LEN];
            self.encrypt_at_counter(&mut keystream)?;
            self.counter = self.counter.wrapping_add(1);
            xor_into(tail, &keystream);
            self.keystream = keystream;
            self.used = tail.len();
        }
        Ok(())
    }

    /// CTR-encrypts `data` in place starting at the current counter (the
    /// library carries the counter over all 128 bits within the call).
    fn encrypt_at_counter(&self, data: &mut [u8]) -> Result<(), AesError> {
        let iv = FixedLength::from(self.counter.to_be_bytes());
        self.key
            .less_safe_encrypt(data, EncryptionContext::Iv128(iv))
            .map(drop)
            .map_err(|_| AesError::Crypto)
    }
}

/// `data[i] ^= keystream[i]` over the shorter of the two.
fn xor_into(data: &mut [u8], keystream: &[u8]) {
    for (byte, key) in data.iter_mut().zip(keystream) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A, appendix F: the AES-256 key and the four plaintext
    /// blocks shared by F.2.5/F.2.6 (CBC) and F.5.5/F.5.6 (CTR).
    const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
    const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                         30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
    const CBC_IV: &str = "000102030405060708090a0b0c0d0e0f";
    const CBC_CIPHER: &str = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
                              39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";
    const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    const CTR_CIPHER: &str = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
                              2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn context(mode: AesMode, iv: &str) -> AesContext {
        let key: [u8; KEY_LEN] = hex(KEY).try_into().unwrap();
        let iv: [u8; IV_LEN] = hex(iv).try_into().unwrap();
        AesContext::new(mode, &key, &iv).unwrap()
    }

    fn run(mode: AesMode, iv: &str, input: &str) -> Vec<u8> {
        let mut data = hex(input);
        context(mode, iv).crypt_in_place(&mut data).unwrap();
        data
    }

    #[test]
    fn nist_sp800_38a_vectors() {
        assert_eq!(
            run(AesMode::CbcEncrypt, CBC_IV, PLAIN),
            hex(CBC_CIPHER),
            "F.2.5"
        );
        assert_eq!(
            run(AesMode::CbcDecrypt, CBC_IV, CBC_CIPHER),
            hex(PLAIN),
            "F.2.6"
        );
        assert_eq!(run(AesMode::Ctr, CTR_IV, PLAIN), hex(CTR_CIPHER), "F.5.5");
        assert_eq!(run(AesMode::Ctr, CTR_IV, CTR_CIPHER), hex(PLAIN), "F.5.6");
    }

    #[test]
    fn streams_continue_across_calls() {
        for (mode, iv, input, want, step) in [
            (AesMode::Ctr, CTR_IV, PLAIN, CTR_CIPHER, 7),
            (AesMode::CbcEncrypt, CBC_IV, PLAIN, CBC_CIPHER, 16),
            (AesMode::CbcDecrypt, CBC_IV, CBC_CIPHER, PLAIN, 32),
        ] {
            let mut ctx = context(mode, iv);
            let mut data = hex(input);
            for chunk in data.chunks_mut(step) {
                ctx.crypt_in_place(chunk).unwrap();
            }
            assert_eq!(data, hex(want), "{mode:?}");
        }
    }

    #[test]
    fn cbc_rejects_partial_blocks_without_side_effects() {
        let mut ctx = context(AesMode::CbcEncrypt, CBC_IV);
        let mut odd = [1u8; 17];
        assert_eq!(ctx.crypt_in_place(&mut odd), Err(AesError::PartialBlock));
        assert_eq!(odd, [1u8; 17]);
        let mut out = [0u8; 64];
        assert_eq!(
            ctx.crypt(&hex(PLAIN), &mut out[..63]),
            Err(AesError::LengthMismatch)
        );
        ctx.crypt(&hex(PLAIN), &mut out).unwrap();
        assert_eq!(out.to_vec(), hex(CBC_CIPHER));
        assert_eq!(ctx.mode(), AesMode::CbcEncrypt);
    }

    #[test]
    fn ctr_counter_wraps_over_128_bits() {
        // Counter ff..ff is followed by 00..00: block 2 equals the first
        // block of a stream started at zero.
        let key = [0x42; KEY_LEN];
        let mut wrapped = [0u8; 32];
        AesContext::new(AesMode::Ctr, &key, &[0xff; IV_LEN])
            .unwrap()
            .crypt_in_place(&mut wrapped)
            .unwrap();
        let mut from_zero = [0u8; 16];
        AesContext::new(AesMode::Ctr, &key, &[0; IV_LEN])
            .unwrap()
            .crypt_in_place(&mut from_zero)
            .unwrap();
        assert_eq!(wrapped[16..], from_zero);
    }

    #[test]
    fn ctr_carry_crosses_the_low_32_bits() {
        // Counter 00..00 ffffffff is followed by 00..01 00000000, not by a
        // wrap of the low word (some libraries only count 32 bits).
        let key = [0x17; KEY_LEN];
        let mut low_word_full = [0u8; IV_LEN];
        low_word_full[12..].fill(0xff);
        let mut carried = [0u8; IV_LEN];
        carried[11] = 1;
        let mut across = [0u8; 48];
        AesContext::new(AesMode::Ctr, &key, &low_word_full)
            .unwrap()
            .crypt_in_place(&mut across)
            .unwrap();
        let mut after = [0u8; 32];
        AesContext::new(AesMode::Ctr, &key, &carried)
            .unwrap()
            .crypt_in_place(&mut after)
            .unwrap();
        assert_eq!(across[16..], after);
    }
}
