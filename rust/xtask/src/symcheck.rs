//! Builds mtproxy-rust for several feature sets and checks, with `nm -l`, that
//! every contract function is defined exactly once and by the side the
//! features chose; with `rust-all`, that nothing from c-legacy/ is linked.
//! Then runs the binary's self-test, which calls every contract symbol.
use crate::util::{cargo_metadata, run as sh, target_dir};
use mtproxy_build::{contract_functions, Manifest};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub fn run_sets(root: &Path, sets: &[String]) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    let metadata = cargo_metadata(root)?;
    let bin = target_dir(&metadata)?.join("debug/mtproxy-rust");
    let mut failures = Vec::new();
    for set in sets {
        match check_set(root, &manifest, &metadata, &bin, set) {
            Ok(n) => println!("symcheck [{}]: ok ({n} contract symbols)", label(set)),
            Err(e) => {
                println!("symcheck [{}]: FAILED\n{e}", label(set));
                failures.push(label(set));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("symcheck failed for: {}", failures.join(", ")))
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    // Without arguments: the symcheck sets of migration.toml's [matrix].
    let named = if args.is_empty() {
        Manifest::load(root)?.matrix.symcheck
    } else {
        args.to_vec()
    };
    let sets: Vec<String> = named
        .into_iter()
        .map(|s| {
            if s == crate::workflow::NONE {
                String::new()
            } else {
                s
            }
        })
        .collect();
    run_sets(root, &sets)
}

fn label(set: &str) -> String {
    if set.is_empty() {
        "no features".into()
    } else {
        set.into()
    }
}

/// Which modules a feature set switches to Rust, as Cargo would resolve it.
fn rust_modules(
    manifest: &Manifest,
    meta: &serde_json::Value,
    set: &str,
) -> Result<Vec<String>, String> {
    let pkg = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "mtproxy"))
        .ok_or("no mtproxy package in cargo metadata")?;
    let features = &pkg["features"];
    let mut on = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = set
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    while let Some(f) = todo.pop() {
        if on.insert(f.clone()) {
            for dep in features[&f].as_array().into_iter().flatten() {
                if let Some(d) = dep.as_str().filter(|d| !d.contains('/')) {
                    todo.push(d.to_string());
                }
            }
        }
    }
    Ok(manifest
        .modules
        .iter()
        .filter(|m| on.contains(&m.feature()))
        .map(|m| m.name.clone())
        .collect())
}

fn check_set(
    root: &Path,
    manifest: &Manifest,
    meta: &serde_json::Value,
    bin: &Path,
    set: &str,
) -> Result<usize, String> {
    let mut build = Command::new("cargo");
    build
        .current_dir(root)
        .args(["build", "--quiet", "--bin", "mtproxy-rust"]);
    if !set.is_empty() {
        build.args(["--features", set]);
    }
    sh(&mut build)?;
    let rust = rust_modules(manifest, meta, set)?;
    let nm = sh(Command::new("nm").args(["-l", "--defined-only"]).arg(bin))?;

    // name -> locations (source file of each definition)
    let mut defs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut c_objects = Vec::new();
    for line in nm.lines() {
        let (sym, loc) = line.split_once('\t').unwrap_or((line, ""));
        let mut parts = sym.split_whitespace();
        let (_addr, kind, name) = (parts.next(), parts.next(), parts.next());
        let (Some(kind), Some(name)) = (kind, name) else {
            continue;
        };
        if loc.contains("/c-legacy/") {
            c_objects.push(format!("{name} ({loc})"));
        }
        if name.starts_with("mtp_") && (kind == "T" || kind == "t") {
            defs.entry(name.to_string())
                .or_default()
                .push(loc.to_string());
        }
    }

    let mut problems = Vec::new();
    let mut count = 0;
    for m in &manifest.modules {
        let Ok(header) = std::fs::read_to_string(root.join(&m.contract)) else {
            problems.push(format!("{}: contract {} is missing", m.name, m.contract));
            continue;
        };
        let want_rust = rust.contains(&m.name);
        for f in contract_functions(&header) {
            count += 1;
            let locs = defs.get(&f).cloned().unwrap_or_default();
            if locs.len() != 1 {
                problems.push(format!("{f}: defined {} times {locs:?}", locs.len()));
                continue;
            }
            let from_rust = locs[0].contains("/rust/mtproxy-ffi/");
            let from_c = locs[0].contains("/c-legacy/");
            if !(from_rust || from_c) {
                problems.push(format!("{f}: cannot tell the side from `{}`", locs[0]));
            } else if from_rust != want_rust {
                let side = |r| if r { "Rust" } else { "C" };
                problems.push(format!(
                    "{f} ({}): expected {}, linked from {}",
                    m.name,
                    side(want_rust),
                    locs[0]
                ));
            }
        }
    }
    if rust.len() == manifest.modules.len() && !c_objects.is_empty() {
        problems.push(format!(
            "all modules are Rust but c-legacy/ objects are linked: {}",
            c_objects.join(", ")
        ));
    }
    // The binary must also work: the self-test calls every contract symbol.
    if let Err(e) = sh(Command::new(bin).arg("selftest")) {
        problems.push(format!("selftest failed: {e}"));
    }
    if problems.is_empty() {
        Ok(count)
    } else {
        Err(format!("  {}", problems.join("\n  ")))
    }
}
