//! Sans-IO cores of upstream's `mtproto/` directory.
pub mod mtproto_config;
pub mod rpc_proxy_msg;
