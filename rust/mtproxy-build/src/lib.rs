//! The module manifest (`migration.toml`) and the C build driven by it.
//!
//! Used by the root `build.rs` (which C modules go into `mtproxy-rust`), by
//! `parity-tests/build.rs` (every C module, symbols renamed with a prefix) and
//! by `xtask` (checks and the dashboard). Keeping this in one crate means the
//! three can never disagree about what a module is.
#![forbid(unsafe_code)]

use serde::Deserialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Prefix given to every contract symbol of the C copy linked into the
/// differential tests, so it can sit next to the Rust exports.
pub const CREF_PREFIX: &str = "cref_";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub name: String,
    pub group: String,
    pub upstream: Vec<String>,
    pub c_files: Vec<String>,
    pub contract: String,
    pub rust_core: String,
    pub rust_ffi: String,
    pub parity: String,
    pub benches: Vec<String>,
    /// Modules whose contract types this contract uses (its header
    /// includes theirs).
    #[serde(default)]
    pub uses: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Parts of the module that exist in Rust only (features upstream
    /// never had; ARCHITECTURE.md, "Rust-only features"). A build that
    /// takes the module from C refuses their options at start-up.
    #[serde(default)]
    pub rust_only: Vec<String>,
    /// What the differential suite must show before the dashboard calls the
    /// module `parity` (checked by `cargo xtask status`, rust/xtask/src/evidence.rs).
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// Whether the binary's self-test has known-answer checks for the module
    /// (`src/selftest/<stem>.rs`); on unless the manifest says why not.
    #[serde(default = "yes")]
    pub selftest: bool,
    /// The file of `parity-tests/benches/` whose functions run `benches`
    /// (one per group, named after it); default: the module's stem.
    #[serde(default)]
    pub bench_file: Option<String>,
    /// cargo-fuzz targets: `fuzz/fuzz_targets/<target>.rs`, seed corpus
    /// `fuzz/corpus/<target>/`.
    #[serde(default)]
    pub fuzz: Vec<String>,
}

fn yes() -> bool {
    true
}

/// The evidence a module's differential tests must carry for `parity`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// At least this many proptest properties (tests over generated inputs).
    pub properties: u32,
    /// At least one independent known-answer test (a test fn whose name
    /// contains `known_answer`), where such a set exists.
    pub known_answers: bool,
    /// In-process session tags the tests must declare (`// evidence: …`
    /// comments above a test): transports and answer kinds.
    #[serde(default)]
    pub sessions: Vec<String>,
}

impl Module {
    /// The Cargo feature that switches this module to Rust.
    pub fn feature(&self) -> String {
        format!("rust-{}", self.name)
    }

    /// The Rust name of the module's files: the stem of its shim file
    /// (`rust/mtproxy-ffi/src/<stem>.rs`), shared by its sys wrappers
    /// (`src/api/<stem>.rs`) and self-test (`src/selftest/<stem>.rs`).
    pub fn stem(&self) -> String {
        file_stem(&self.rust_ffi)
    }

    /// The stem of the differential test file.
    pub fn parity_stem(&self) -> String {
        file_stem(&self.parity)
    }

    /// The bench file's stem (see [`Module::bench_file`]).
    pub fn bench_file(&self) -> String {
        self.bench_file.clone().unwrap_or_else(|| self.stem())
    }

    /// The `CARGO_FEATURE_*` variable Cargo sets for a build script.
    pub fn feature_env(&self) -> String {
        format!(
            "CARGO_FEATURE_{}",
            self.feature().to_uppercase().replace('-', "_")
        )
    }
}

fn file_stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotNeeded {
    pub upstream: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Planned {
    pub upstream: Vec<String>,
    pub issue: u32,
    pub what: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "module")]
    pub modules: Vec<Module>,
    #[serde(default)]
    pub not_needed: Vec<NotNeeded>,
    #[serde(default)]
    pub planned: Vec<Planned>,
    /// The feature sets CI builds (`[matrix]`).
    #[serde(default)]
    pub matrix: Matrix,
    /// The upstream tree every module, `not_needed` and `planned` entry
    /// accounts for (`[upstream]`).
    pub upstream: Upstream,
}

/// `[upstream]`: every C file of the upstream MTProxy commit the port
/// follows, so the manifest can be checked to account for each of them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    pub commit: String,
    pub files: Vec<String>,
}

/// `[matrix]`: the feature sets CI builds, each a comma-separated list of
/// Cargo features or `none` (no features: the all-C build). The Makefile reads
/// them through `cargo xtask matrix <list>`; `cargo xtask gen` writes the CI
/// workflow from them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// Sets that get their own clippy pass.
    #[serde(default)]
    pub clippy: Vec<String>,
    /// Sets whose binary gets the symbol check and the self-test.
    #[serde(default)]
    pub symcheck: Vec<String>,
    /// Sets whose binary the end-to-end suite runs against.
    #[serde(default)]
    pub e2e: Vec<String>,
}

impl Manifest {
    pub fn load(root: &Path) -> Result<Manifest, String> {
        let path = root.join("migration.toml");
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// The module groups, in the order they first appear; each has a
    /// feature `rust-<group>` enabling its modules.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for m in &self.modules {
            if !groups.contains(&m.group.as_str()) {
                groups.push(&m.group);
            }
        }
        groups
    }
}

/// Function names declared in a cbindgen-generated contract header.
///
/// cbindgen writes one declaration per function, starting at column 0 with
/// the return type and the name right before the first `(`; continuation
/// lines of long parameter lists are indented. That regular shape is all this
/// needs, and `xtask check` fails if a header stops having it.
pub fn contract_functions(header_text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in header_text.lines() {
        if line.starts_with([' ', '\t', '#', '/', '*', '}']) || line.starts_with("typedef") {
            continue;
        }
        let Some(paren) = line.find('(') else {
            continue;
        };
        let head = &line[..paren];
        let name: String = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.starts_with("mtp_") {
            names.push(name);
        }
    }
    names
}

/// Options for compiling the C side.
pub struct CBuild<'a> {
    pub root: &'a Path,
    pub manifest: &'a Manifest,
    pub modules: Vec<&'a Module>,
    /// Rename every contract symbol to `prefix + name` (differential tests).
    pub symbol_prefix: Option<&'a str>,
    /// Build with AddressSanitizer + UndefinedBehaviorSanitizer.
    pub sanitize: bool,
    pub lib_name: &'a str,
}

impl CBuild<'_> {
    /// Compile the modules' C files into one static library and tell Cargo to
    /// link it (and libcrypto, which the C side uses as upstream does).
    /// Returns the C files compiled, for `rerun-if-changed`.
    pub fn compile(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for m in &self.modules {
            for f in &m.c_files {
                let path = self.root.join(f);
                if path.exists() {
                    files.push(path);
                } else {
                    // `cargo xtask check` fails on this; the build goes on so
                    // a module can be written one side at a time.
                    println!("cargo:warning=module {}: {f} does not exist yet", m.name);
                }
            }
        }
        if files.is_empty() {
            return files;
        }
        let mut build = cc::Build::new();
        build
            .std("c11")
            .include(self.root.join("ffi/include"))
            .include(self.root.join("c-legacy"))
            .flag("-Wall")
            .flag("-Wextra")
            .flag("-Werror")
            .flag("-D_GNU_SOURCE")
            .flag("-fno-strict-aliasing")
            .warnings(false) // the flags above already say exactly what we want
            .files(&files);
        if let Some(prefix) = self.symbol_prefix {
            // Rename through the preprocessor, as musl-math-sys does: every
            // declaration and definition of a contract function changes name
            // together, and the compiler still checks each against the header.
            // All contracts are renamed, since a C module calls other modules.
            for name in all_contract_functions(self.root, self.manifest) {
                build.define(&name, Some(format!("{prefix}{name}").as_str()));
            }
        }
        if self.sanitize {
            build
                .flag("-fsanitize=address,undefined")
                .flag("-fno-sanitize-recover=undefined")
                .flag("-fno-omit-frame-pointer");
        }
        build.compile(self.lib_name);
        println!("cargo:rustc-link-lib=dylib=crypto");
        files
    }
}

/// The contract functions of every module (missing headers count as empty:
/// `xtask check` reports those).
pub fn all_contract_functions(root: &Path, manifest: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for m in &manifest.modules {
        if let Ok(text) = fs::read_to_string(root.join(&m.contract)) {
            out.extend(contract_functions(&text));
        }
    }
    out
}
