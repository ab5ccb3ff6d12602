//! The Rust side of every module contract: thin `extern "C"` shims over
//! mtproxy-core.
//!
//! Each file is the cbindgen source of one contract header in ffi/include/
//! (`cargo xtask gen` regenerates them, `cargo xtask check` fails when they are
//! stale). A shim only turns raw pointers into slices and references, calls
//! the core and turns the result into a C return value; anything longer is
//! logic that belongs in mtproxy-core.
//!
//! Conventions shared by all contracts:
//! - a `(ptr, len)` pair with `len == 0` may have a null or dangling `ptr`;
//! - fallible functions return 0 on success and a negative `MTP_*` code on
//!   failure, and write output parameters only on success;
//! - handles come from a `_new` function and go back to its `_free`;
//!   `_free(NULL)` does nothing.
//!
//! A panic cannot cross `extern "C"`: Rust aborts the process instead, which is
//! the safe outcome for a bug; the core functions are written not to panic on
//! any input.
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "rust-aesni256")]
pub mod aesni256;
#[cfg(feature = "rust-crc32")]
pub mod crc32;
#[cfg(feature = "rust-crc32c")]
pub mod crc32c;
#[cfg(feature = "rust-engine-main")]
pub mod engine_main;
#[cfg(feature = "rust-ext-framing")]
pub mod ext_framing;
#[cfg(feature = "rust-fake-tls")]
pub mod fake_tls;
#[cfg(feature = "rust-jobs-threads")]
pub mod jobs_threads;
#[cfg(feature = "rust-kprintf")]
pub mod kprintf;
#[cfg(feature = "rust-md5")]
pub mod md5;
#[cfg(feature = "rust-mp-queue")]
pub mod mp_queue;
#[cfg(feature = "rust-mtproto-config")]
pub mod mtproto_config;
#[cfg(feature = "rust-mtproto-proxy")]
pub mod mtproto_proxy;
#[cfg(feature = "rust-net-crypto-aes")]
pub mod net_crypto_aes;
#[cfg(feature = "rust-net-events")]
pub mod net_events;
#[cfg(feature = "rust-obfs2")]
pub mod obfs2;
#[cfg(feature = "rust-parse-config")]
pub mod parse_config;
#[cfg(feature = "rust-pid")]
pub mod pid;
#[cfg(feature = "rust-precise-time")]
pub mod precise_time;
#[cfg(feature = "rust-proc-stat")]
pub mod proc_stat;
#[cfg(feature = "rust-resolver")]
pub mod resolver;
#[cfg(feature = "rust-rpc-frame")]
pub mod rpc_frame;
#[cfg(feature = "rust-rpc-handshake")]
pub mod rpc_handshake;
#[cfg(feature = "rust-rpc-proxy-msg")]
pub mod rpc_proxy_msg;
#[cfg(feature = "rust-server-functions")]
pub mod server_functions;
#[cfg(feature = "rust-sha1")]
pub mod sha1;
#[cfg(feature = "rust-sha256")]
pub mod sha256;
#[cfg(feature = "rust-stats-http")]
pub mod stats_http;
#[cfg(feature = "rust-tl-parse")]
pub mod tl_parse;

mod raw;
