//! Every per-module list of the tree, generated from migration.toml into
//! marked regions of hand-written files (rust/xtask/src/regions.rs), and the
//! checks that each module's files exist and no such file is left unlisted.
use crate::regions::Region;
use mtproxy_build::{Manifest, Module};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `cargo xtask gen`: write every list, naming the regions that changed.
pub fn generate(root: &Path) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    for r in crate::regions::apply(root, &regions(&manifest), false)? {
        println!("xtask gen: wrote {r}");
    }
    Ok(())
}

/// Every generated list, in file order (a file's regions top to bottom).
pub fn regions(manifest: &Manifest) -> Vec<Region> {
    let modules = &manifest.modules;
    let region = |file: &str, name, lines| Region {
        file: file.into(),
        name,
        lines,
    };
    // The Rust files list modules by stem, sorted as rustfmt sorts `mod`s.
    let by_stem: BTreeMap<String, &Module> = modules.iter().map(|m| (m.stem(), m)).collect();
    vec![
        region("Cargo.toml", "features", root_features(manifest)),
        region(
            "rust/mtproxy-ffi/Cargo.toml",
            "features",
            modules
                .iter()
                .map(|m| format!("{} = []", m.feature()))
                .collect(),
        ),
        region(
            "rust/mtproxy-ffi/Cargo.toml",
            "rust-all",
            toml_list("rust-all", modules.iter().map(Module::feature)),
        ),
        region(
            "rust/mtproxy-ffi/src/lib.rs",
            "modules",
            by_stem
                .iter()
                .flat_map(|(stem, m)| {
                    [
                        format!("#[cfg(feature = \"{}\")]", m.feature()),
                        format!("pub mod {stem};"),
                    ]
                })
                .collect(),
        ),
        region(
            "rust/mtproxy-sys/src/lib.rs",
            "wrappers",
            by_stem.keys().cloned().collect(),
        ),
        region(
            "src/selftest/mod.rs",
            "checks",
            by_stem
                .iter()
                .filter(|(_, m)| m.selftest)
                .map(|(stem, m)| format!("{stem} => \"{}\",", m.name))
                .collect(),
        ),
        region(
            "parity-tests/tests/parity.rs",
            "modules",
            sorted(modules.iter().map(Module::parity_stem))
                .map(|stem| format!("mod {stem};"))
                .collect(),
        ),
        region(
            "parity-tests/benches/compare.rs",
            "modules",
            sorted(benched(modules).map(Module::bench_file))
                .map(|file| format!("mod {file};"))
                .collect(),
        ),
        region(
            "parity-tests/benches/compare.rs",
            "targets",
            benched(modules)
                .flat_map(|m| {
                    m.benches
                        .iter()
                        .map(move |g| format!("{}::{},", m.bench_file(), g.replace('-', "_")))
                })
                .collect(),
        ),
        region("fuzz/Cargo.toml", "targets", fuzz_targets(manifest)),
    ]
}

fn sorted(items: impl Iterator<Item = String>) -> impl Iterator<Item = String> {
    items.collect::<BTreeSet<_>>().into_iter()
}

fn benched(modules: &[Module]) -> impl Iterator<Item = &Module> {
    modules.iter().filter(|m| !m.benches.is_empty())
}

/// The root package's features: one per module (it turns on the shim's),
/// one per group, and `rust-all`.
fn root_features(manifest: &Manifest) -> Vec<String> {
    let mut out: Vec<String> = manifest
        .modules
        .iter()
        .map(|m| format!("{f} = [\"mtproxy-ffi/{f}\"]", f = m.feature()))
        .collect();
    let groups = manifest.groups();
    for g in &groups {
        let members = manifest.modules.iter().filter(|m| m.group == *g);
        out.extend(toml_list(
            &format!("rust-{g}"),
            members.map(Module::feature),
        ));
    }
    out.extend(toml_list(
        "rust-all",
        groups.iter().map(|g| format!("rust-{g}")),
    ));
    out
}

/// `key = ["a", "b"]` on one line when it fits in 80 columns, else one item
/// run per line, wrapped at 80 columns.
fn toml_list(key: &str, items: impl Iterator<Item = String>) -> Vec<String> {
    let quoted: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
    let one_line = format!("{key} = [{}]", quoted.join(", "));
    if one_line.len() <= 80 {
        return vec![one_line];
    }
    let mut out = vec![format!("{key} = [")];
    let mut line = String::new();
    for q in quoted {
        if !line.is_empty() && 4 + line.len() + 1 + q.len() + 1 > 80 {
            out.push(format!("    {line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&q);
        line.push(',');
    }
    out.push(format!("    {line}"));
    out.push("]".into());
    out
}

/// Every cargo-fuzz target, sorted.
fn fuzz_target_names(manifest: &Manifest) -> impl Iterator<Item = String> + '_ {
    sorted(manifest.modules.iter().flat_map(|m| m.fuzz.iter().cloned()))
}

/// `cargo xtask fuzz-targets`: the targets, space-separated (`make fuzz-smoke`).
pub fn print_fuzz_targets(root: &Path) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    println!(
        "{}",
        fuzz_target_names(&manifest).collect::<Vec<_>>().join(" ")
    );
    Ok(())
}

/// One `[[bin]]` per cargo-fuzz target, sorted by name.
fn fuzz_targets(manifest: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for t in fuzz_target_names(manifest) {
        if !out.is_empty() {
            out.push(String::new());
        }
        out.extend([
            "[[bin]]".to_string(),
            format!("name = \"{t}\""),
            format!("path = \"fuzz_targets/{t}.rs\""),
            "test = false".into(),
            "doc = false".into(),
            "bench = false".into(),
        ]);
    }
    out
}

/// The files the lists point at must exist, each list entry must be unique,
/// and no file in a listed directory may be missing from its list (it would
/// never be compiled, run or fuzzed).
pub fn check(root: &Path, manifest: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    // (directory, files the manifest claims there, files that may be there unclaimed)
    let mut claimed: BTreeMap<&str, (BTreeSet<String>, &[&str])> = BTreeMap::from([
        ("src/selftest", (BTreeSet::new(), &["mod.rs"][..])),
        ("rust/mtproxy-sys/src/api", (BTreeSet::new(), &[][..])),
        (
            "parity-tests/benches",
            (BTreeSet::new(), &["compare.rs"][..]),
        ),
        ("fuzz/fuzz_targets", (BTreeSet::new(), &[][..])),
    ]);
    let mut claim = |dir: &'static str, file: String| {
        claimed.get_mut(dir).unwrap().0.insert(file);
    };
    for m in &manifest.modules {
        let stem = m.stem();
        let mut files = vec![format!("rust/mtproxy-sys/src/api/{stem}.rs")];
        claim("rust/mtproxy-sys/src/api", format!("{stem}.rs"));
        if m.selftest {
            files.push(format!("src/selftest/{stem}.rs"));
            claim("src/selftest", format!("{stem}.rs"));
        }
        if !m.benches.is_empty() {
            files.push(format!("parity-tests/benches/{}.rs", m.bench_file()));
            claim("parity-tests/benches", format!("{}.rs", m.bench_file()));
        } else if m.bench_file.is_some() {
            problems.push(format!("module {}: bench_file without benches", m.name));
        }
        for t in &m.fuzz {
            files.push(format!("fuzz/fuzz_targets/{t}.rs"));
            files.push(format!("fuzz/corpus/{t}"));
            claim("fuzz/fuzz_targets", format!("{t}.rs"));
        }
        for f in files {
            if !root.join(&f).exists() {
                problems.push(format!("module {}: {f} does not exist", m.name));
            }
        }
        let names = [
            ("stem", vec![stem]),
            ("bench group", m.benches.clone()),
            ("fuzz target", m.fuzz.clone()),
        ];
        for (what, list) in names {
            for n in list {
                owners
                    .entry(format!("{what} `{n}`"))
                    .or_default()
                    .push(&m.name);
            }
        }
    }
    for (what, mods) in owners {
        if mods.len() > 1 {
            problems.push(format!(
                "{what} is claimed by {} modules: {mods:?}",
                mods.len()
            ));
        }
    }
    for (dir, (files, exempt)) in claimed {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && !files.contains(&name) && !exempt.contains(&name.as_str()) {
                problems.push(format!(
                    "{dir}/{name} belongs to no module of migration.toml (so no generated list names it)"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::repo_root;

    #[test]
    fn long_lists_wrap_at_80_columns_with_trailing_commas() {
        assert_eq!(
            toml_list("k", ["a", "b"].map(String::from).into_iter()),
            ["k = [\"a\", \"b\"]"]
        );
        let long = toml_list("k", (0..12).map(|i| format!("rust-module-{i}")));
        assert_eq!(long[0], "k = [");
        assert_eq!(long.last().unwrap(), "]");
        for l in &long[1..long.len() - 1] {
            assert!(
                l.len() <= 80 && l.starts_with("    \"") && l.ends_with(','),
                "{l}"
            );
        }
        assert_eq!(long.concat().matches("rust-module-").count(), 12);
    }

    /// A new module appears in every list; a module without selftest,
    /// benches or fuzz targets stays out of those.
    #[test]
    fn a_new_module_reaches_every_list() {
        let mut manifest = Manifest::load(&repo_root()).unwrap();
        let before = regions(&manifest);
        let mut m = manifest.modules[0].clone();
        m.name = "qq-new".into();
        m.group = "newgroup".into();
        m.rust_ffi = "rust/mtproxy-ffi/src/qq_new.rs".into();
        m.parity = "parity-tests/tests/qq_new.rs".into();
        m.benches = vec!["qq-speed".into()];
        m.bench_file = None;
        m.fuzz = vec!["qq_fuzz".into()];
        manifest.modules.push(m);
        let after = regions(&manifest);
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_ne!(b.lines, a.lines, "{}: region {} unchanged", a.file, a.name);
            assert!(
                a.lines.iter().any(|l| l.contains("qq")),
                "{}: region {}",
                a.file,
                a.name
            );
        }
        let features = &after[0].lines;
        assert!(features.contains(&"rust-newgroup = [\"rust-qq-new\"]".to_string()));
        let joined = features.join("\n");
        let rust_all = &joined[joined.find("rust-all = [").unwrap()..];
        assert!(rust_all.contains("\"rust-newgroup\""), "{rust_all}");
        let find = |file: &str, name: &str| {
            after
                .iter()
                .find(|r| r.file == file && r.name == name)
                .unwrap()
                .lines
                .clone()
        };
        assert!(find("parity-tests/benches/compare.rs", "targets")
            .contains(&"qq_new::qq_speed,".to_string()));
        assert!(
            find("src/selftest/mod.rs", "checks").contains(&"qq_new => \"qq-new\",".to_string())
        );

        let last = manifest.modules.last_mut().unwrap();
        last.selftest = false;
        last.benches.clear();
        last.fuzz.clear();
        let quiet = regions(&manifest);
        for r in quiet.iter().filter(|r| {
            r.file == "src/selftest/mod.rs"
                || r.file == "fuzz/Cargo.toml"
                || r.file.starts_with("parity-tests/benches")
        }) {
            assert!(!r.lines.iter().any(|l| l.contains("qq")), "{}", r.name);
        }
    }

    #[test]
    fn the_tree_has_every_listed_file_and_no_unlisted_one() {
        let root = repo_root();
        let mut manifest = Manifest::load(&root).unwrap();
        assert_eq!(check(&root, &manifest), Vec::<String>::new());
        // Dropping a module's fuzz targets and self-test leaves their files
        // orphaned; a second module claiming a bench group is a clash.
        let i = manifest
            .modules
            .iter()
            .position(|m| !m.fuzz.is_empty())
            .unwrap();
        let dropped = std::mem::take(&mut manifest.modules[i].fuzz);
        manifest.modules[i].selftest = false;
        let group = manifest
            .modules
            .iter()
            .find_map(|m| m.benches.first())
            .unwrap()
            .clone();
        manifest.modules[0].benches.push(group.clone());
        manifest.modules[0].bench_file = Some("nonexistent".into());
        let problems = check(&root, &manifest);
        for t in &dropped {
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains(&format!("fuzz/fuzz_targets/{t}.rs belongs to no module"))),
                "{problems:?}"
            );
        }
        let stem = manifest.modules[i].stem();
        assert!(problems
            .iter()
            .any(|p| p.contains(&format!("src/selftest/{stem}.rs belongs"))));
        assert!(problems
            .iter()
            .any(|p| p.contains(&format!("bench group `{group}` is claimed by 2"))));
        assert!(problems
            .iter()
            .any(|p| p.contains("parity-tests/benches/nonexistent.rs does not exist")));
    }
}
