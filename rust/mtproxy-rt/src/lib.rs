//! The I/O runtime of mtproxy in safe Rust: the reactor (net-events), the
//! worker threads (jobs-threads), the proxy's connections (mtproto-proxy)
//! and the process engine (engine-main). mtproxy-ffi exports them through
//! the module contracts; calls between runtime modules go through the
//! contracts too (mtproxy-sys), so each can be C or Rust independently.
#![forbid(unsafe_code)]

mod clock;
pub mod doctor;
pub mod engine;
pub mod jobs;
mod log;
pub mod proxy;
pub mod reactor;
pub mod rust_only;
pub mod shared_state;
pub mod users;
