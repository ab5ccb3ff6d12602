//! The differential suite: one module per file, each comparing the C reference
//! copy (`cref_*`) with the Rust implementation on the same inputs.
mod crc32;
mod crc32c;
mod kprintf;
mod md5;
mod mtproto_config;
mod parse_config;
mod pid;
mod precise_time;
mod proc_stat;
mod resolver;
mod rpc_proxy_msg;
mod server_functions;
mod sha1;
mod sha256;
mod tl_parse;
