//! Plain data of the aesni256 contract (see the shim in mtproxy-ffi for the
//! functions): its mode and error codes.

/// CTR mode: encryption and decryption are the same operation. The IV is the
/// first counter block (big-endian, incremented over all 128 bits).
pub const MTP_AES_CTR: i32 = 1;
/// CBC encryption, no padding; the IV is the initial chaining block.
pub const MTP_AES_CBC_ENCRYPT: i32 = 2;
/// CBC decryption, no padding; the IV is the initial chaining block.
pub const MTP_AES_CBC_DECRYPT: i32 = 3;

/// A CBC context was given a length that is not a multiple of 16: nothing
/// was processed, the context is unchanged.
pub const MTP_AES_ERR_BAD_LENGTH: i32 = -1;
/// A null context, or a null `input`/`output` with `len > 0`.
pub const MTP_AES_ERR_NULL: i32 = -2;
/// The crypto library reported a failure (not expected with valid arguments);
/// the context must not be used again.
pub const MTP_AES_ERR_CRYPTO: i32 = -3;
