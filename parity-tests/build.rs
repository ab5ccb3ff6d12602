//! Compiles every C module of migration.toml, with each contract symbol renamed
//! `cref_mtp_*`, into one static library for the differential tests. The Rust
//! side comes from mtproxy-core directly, so both live in one test binary
//! whatever features anything else was built with.
//!
//! `MTP_SANITIZE=1` builds the C side with AddressSanitizer + UBSan (`make
//! test` runs the suite that way with libasan preloaded).
use mtproxy_build::{CBuild, Manifest, CREF_PREFIX};
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let manifest = Manifest::load(root).unwrap_or_else(|e| panic!("{e}"));
    println!("cargo:rerun-if-changed=../migration.toml");
    println!("cargo:rerun-if-changed=../ffi/include");
    println!("cargo:rerun-if-changed=../c-legacy");
    println!("cargo:rerun-if-env-changed=MTP_SANITIZE");
    let sanitize = std::env::var("MTP_SANITIZE").is_ok_and(|v| v == "1");
    CBuild {
        root,
        manifest: &manifest,
        modules: manifest.modules.iter().collect(),
        symbol_prefix: Some(CREF_PREFIX),
        sanitize,
        lib_name: "mtproxy_cref",
    }
    .compile();
    if sanitize {
        println!("cargo:rustc-link-lib=dylib=asan");
        println!("cargo:rustc-link-lib=dylib=ubsan");
    }
}
