//! The Rust implementation of every mtproxy module.
//!
//! Safe code only: unsafe belongs to the FFI edges (mtproxy-ffi exports these
//! modules to C, mtproxy-sys wraps the C side for Rust). Nothing here knows
//! whether a C twin exists; the differential tests in parity-tests/ compare
//! each module with its C implementation.
#![forbid(unsafe_code)]

pub mod common;
pub mod crypto;
pub mod mtproto;
pub mod net;
pub mod runtime;
pub mod users;
