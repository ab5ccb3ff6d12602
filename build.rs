//! Decides, per module of migration.toml, which side provides its contract
//! symbols: a module whose `rust-<name>` feature is on comes from
//! mtproxy-ffi; every other module's C files are compiled here with `cc` and
//! linked into `mtproxy-rust`. With `rust-all` no C file is compiled at all.
use mtproxy_build::{CBuild, Manifest};
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = Manifest::load(root).unwrap_or_else(|e| panic!("{e}"));
    println!("cargo:rerun-if-changed=migration.toml");
    println!("cargo:rerun-if-changed=ffi/include");
    println!("cargo:rerun-if-changed=c-legacy");

    let mut c_modules = Vec::new();
    let mut sides = Vec::new();
    for m in &manifest.modules {
        println!("cargo:rerun-if-env-changed={}", m.feature_env());
        let rust = std::env::var_os(m.feature_env()).is_some();
        sides.push(format!("{}={}", m.name, if rust { "rust" } else { "c" }));
        if !rust {
            c_modules.push(m);
        }
    }
    // The binary reports which side each module came from (`--modules`).
    println!("cargo:rustc-env=MTPROXY_MODULE_SIDES={}", sides.join(","));
    // And the Rust-only parts of each module: `module=part;part|module=...`.
    let rust_only: Vec<String> = manifest
        .modules
        .iter()
        .filter(|m| !m.rust_only.is_empty())
        .map(|m| format!("{}={}", m.name, m.rust_only.join(";")))
        .collect();
    println!("cargo:rustc-env=MTPROXY_RUST_ONLY={}", rust_only.join("|"));

    CBuild {
        root,
        manifest: &manifest,
        modules: c_modules,
        symbol_prefix: None,
        sanitize: false,
        lib_name: "mtproxy_c",
    }
    .compile();
}
