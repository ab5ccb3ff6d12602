//! Modules of upstream's `common/` directory.
pub mod crc32;
pub mod crc32c;
pub mod kprintf;
pub mod md5;
pub mod mp_queue;
pub mod parse_config;
pub mod pid;
pub mod precise_time;
pub mod proc_stat;
pub mod resolver;
pub mod server_functions;
pub mod sha1;
pub mod sha256;
pub mod tl_parse;
