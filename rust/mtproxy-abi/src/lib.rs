//! The plain data of the module contracts, each item defined once: cbindgen
//! reads these files together with the `extern "C"` shims of mtproxy-ffi to
//! write `ffi/include/*.h`; bindgen leaves these items out of mtproxy-sys's
//! bindings and re-exports them from here instead. Conversions to and from
//! the mtproxy-core types live next to each struct, so the Rust side of a
//! contract and the safe wrappers over the C side share them.
//!
//! One file per module, named as the module's shim in mtproxy-ffi (`cargo
//! xtask gen` pairs them by file name).
#![forbid(unsafe_code)]
#![allow(non_camel_case_types)]

pub mod aesni256;
pub mod engine_main;
pub mod ext_framing;
pub mod fake_tls;
pub mod kprintf;
pub mod mp_queue;
pub mod mtproto_config;
pub mod mtproto_proxy;
pub mod net_crypto_aes;
pub mod net_events;
pub mod obfs2;
pub mod parse_config;
pub mod pid;
pub mod proc_stat;
pub mod resolver;
pub mod rpc_frame;
pub mod rpc_handshake;
pub mod rpc_proxy_msg;
pub mod server_functions;
pub mod stats_http;
pub mod tl_parse;

pub use aesni256::*;
pub use engine_main::*;
pub use ext_framing::*;
pub use fake_tls::*;
pub use kprintf::*;
pub use mp_queue::*;
pub use mtproto_config::*;
pub use mtproto_proxy::*;
pub use net_crypto_aes::*;
pub use net_events::*;
pub use obfs2::*;
pub use parse_config::*;
pub use pid::*;
pub use proc_stat::*;
pub use resolver::*;
pub use rpc_frame::*;
pub use rpc_handshake::*;
pub use rpc_proxy_msg::*;
pub use server_functions::*;
pub use stats_http::*;
pub use tl_parse::*;
