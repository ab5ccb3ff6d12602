//! AES contexts (upstream `crypto/aesni256.c`) and the middle-end connection
//! key derivation (upstream `net/net-crypto-aes.c`).
pub mod aesni256;
pub mod net_crypto_aes;
