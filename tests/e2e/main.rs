//! End-to-end tests: the built `mtproxy-rust` (whatever features this test
//! binary was compiled with) between the test kit's clients and its fake
//! middle-end / fronting domain, all on loopback. The same suite runs for
//! every build of the CI matrix.
mod direct;
mod doctor;
mod harness;
mod hostile;
mod lifecycle;
mod load;
mod mimicry;
mod pool;
mod proxy_protocol;
mod refresh;
mod shared_state;
mod stats;
mod transports;
mod users;
