//! The differential suite: one module per file, each comparing the C reference
//! copy (`cref_*`) with the Rust implementation on the same inputs.
mod aesni256;
mod crc32;
mod crc32c;
mod md5;
mod sha1;
mod sha256;
mod kprintf;
mod parse_config;
mod tl_parse;
mod pid;
mod precise_time;
mod proc_stat;
mod resolver;
mod server_functions;
mod rpc_frame;
mod rpc_handshake;
mod mp_queue;
mod net_crypto_aes;
