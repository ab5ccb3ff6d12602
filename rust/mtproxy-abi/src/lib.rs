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

pub mod ext_framing;
pub mod net_events;
pub mod rpc_frame;
pub mod rpc_handshake;

pub use ext_framing::*;
pub use net_events::*;
pub use rpc_frame::*;
pub use rpc_handshake::*;
