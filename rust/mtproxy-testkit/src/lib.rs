//! The proxy's counterparts for tests, the demo and benchmarks: a fake
//! Telegram middle-end, clients for every transport and a fake fronting
//! domain, built on the protocol cores of mtproxy-core, talking over loopback
//! TCP, plus a guard for child processes. Everything binds port 0
//! and reports the port it got.
#![forbid(unsafe_code)]

pub mod balancer;
pub mod client;
pub mod fake_dc;
pub mod fake_me;
pub mod fronting;
pub mod http_server;
pub mod load;
pub mod poll;
pub mod process;
pub mod redis_server;
pub mod tls;
pub mod x25519;
