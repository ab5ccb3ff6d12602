//! Sans-IO protocol cores of upstream's `net/` directory: bytes in, bytes out;
//! time and randomness are passed in.
pub mod ext_framing;
pub mod fake_tls;
pub mod header_replay;
pub mod obfs2;
/// Rust-only: the PROXY protocol header of a load balancer (issue #12).
pub mod proxy_protocol;
pub mod rpc_frame;
pub mod rpc_handshake;
pub mod stats_http;
