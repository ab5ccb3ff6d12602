//! The differential suite: one module per file, each comparing the C reference
//! copy (`cref_*`) with the Rust implementation on the same inputs.

// The Rust runtime modules are reached through their contract symbols
// (`mtproxy_sys::c`), which mtproxy-ffi provides in this binary.
use mtproxy_ffi as _;

mod aesni256;
mod crc32;
mod crc32c;
mod engine_main;
mod ext_framing;
mod fake_tls;
mod jobs_threads;
mod kprintf;
mod md5;
mod mp_queue;
mod mtproto_config;
mod mtproto_proxy;
mod net_crypto_aes;
mod net_events;
mod obfs2;
mod parse_config;
mod pid;
mod precise_time;
mod proc_stat;
mod resolver;
mod rpc_frame;
mod rpc_handshake;
mod rpc_proxy_msg;
mod server_functions;
mod sha1;
mod sha256;
mod stats_http;
mod symbols;
mod tl_parse;
