//! `cargo xtask <command>`: the project's automation, driven by migration.toml.
#![forbid(unsafe_code)]

mod bench;
mod contracts;
mod core_consts;
mod e2e_table;
mod evidence;
mod html;
mod lists;
mod mutants;
mod regions;
mod status;
mod symcheck;
mod tree;
mod util;
mod workflow;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>
  gen                 regenerate contract headers (cbindgen), Rust bindings (bindgen), the CI workflow
                      and the per-module lists (features, mods, self-test, benches, fuzz targets)
  check               fail if generated files or lists are stale or the manifest disagrees with the tree
  matrix LIST         print a feature-set list of migration.toml's [matrix]: clippy, symcheck, e2e
  fuzz-targets        print every cargo-fuzz target of migration.toml
  symcheck [SETS..]   build mtproxy-rust per feature set and check its symbols with nm
  status [--check]    regenerate MIGRATION_STATUS.md/.html and migration-status.json (or check them)
  parity-record       run the differential tests and record their results for the dashboard
  bench-record        collect criterion results into measurements/bench.json
  mutants-record      collect the last `make mutants` run into measurements/mutants.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = util::repo_root();
    let result = match args.first().map(String::as_str) {
        Some("gen") => contracts::generate(&root, contracts::Mode::Write)
            .and_then(|()| workflow::generate(&root, false, &mut Vec::new()))
            .and_then(|()| lists::generate(&root)),
        Some("check") => contracts::generate(&root, contracts::Mode::Check)
            .and_then(|()| contracts::check_manifest(&root)),
        Some("matrix") => workflow::print(&root, &args[1..]),
        Some("fuzz-targets") => lists::print_fuzz_targets(&root),
        Some("symcheck") => symcheck::run(&root, &args[1..]),
        Some("status") => status::run(&root, args.get(1).map(String::as_str) == Some("--check")),
        Some("parity-record") => evidence::record_parity(&root),
        Some("bench-record") => bench::record_bench(&root),
        Some("mutants-record") => mutants::record(&root),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
