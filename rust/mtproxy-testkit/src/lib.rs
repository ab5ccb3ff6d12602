//! The proxy's counterparts for tests, the demo and benchmarks: a fake
//! Telegram middle-end and clients for every transport, built on the protocol
//! cores of mtproxy-core, talking over loopback TCP. Everything binds port 0
//! and reports the port it got.
#![forbid(unsafe_code)]

pub mod client;
pub mod fake_me;
pub mod fronting;
pub mod process;
