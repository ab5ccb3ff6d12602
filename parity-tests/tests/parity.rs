//! The differential suite: one module per file, each comparing the C reference
//! copy (`cref_*`) with the Rust implementation on the same inputs.
mod aesni256;
mod crc32;
mod net_crypto_aes;
