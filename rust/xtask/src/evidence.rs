//! Status is earned: what a module's differential tests must show before the
//! dashboard calls it `parity`, what the recorded run had, and whether that
//! run is still about the code in the tree.
//!
//! migration.toml states per module `evidence = { properties = N,
//! known_answers = bool, sessions = [tags] }`. `cargo xtask parity-record`
//! (`make parity`) runs the differential suite and records per module, from
//! the module's parity file(s) joined with the run's results:
//! - `properties`: passing tests inside `proptest! { … }` blocks;
//! - `known_answers`: passing tests whose name contains `known_answer`;
//! - `sessions`: the tags of passing tests that declare them with a
//!   `// evidence: tag, tag` comment right above the test (or its attributes);
//! - `inputs`: a hash of the module's own files (C files and the local headers
//!   they include, contract, Rust core, FFI shim, sys wrapper, parity files),
//!   computed from the working tree's contents.
//!
//! `cargo xtask status` shows `parity` only when the run passed and met the
//! stated evidence, else `parity (thin)` with what is missing; `status
//! --check` fails when a module's files no longer hash to what was recorded.
use mtproxy_build::{Evidence, Manifest, Module};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

pub const PARITY_FILE: &str = "measurements/parity.json";

/// The session tags a test may declare: the client transports, then the
/// middle-end answer kinds.
pub const SESSION_TAGS: &[&str] = &[
    "abridged",
    "intermediate",
    "padded",
    "fake-tls",
    "ans",
    "simple-ack",
    "close-ext",
];

/// Result of the differential tests of one module, as last recorded.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParityResult {
    pub passed: u32,
    pub failed: u32,
    /// Passing proptest properties; each runs `cases` random cases.
    pub properties: u32,
    /// Passing known-answer tests.
    #[serde(default)]
    pub known_answers: u32,
    /// Session tags declared by passing tests, sorted.
    #[serde(default)]
    pub sessions: Vec<String>,
    /// Hash of the module's input files when the run was recorded.
    #[serde(default)]
    pub inputs: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ParityRecord {
    pub cases_per_property: u32,
    pub modules: BTreeMap<String, ParityResult>,
}

/// The key of a module in the record and in test names: its parity file stem.
pub fn key(m: &Module) -> String {
    Path::new(&m.parity)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The module's parity files: `<parity>.rs` and every `.rs` file under the
/// directory of the same stem (its `mod` children), sorted.
pub fn parity_files(root: &Path, m: &Module) -> Vec<String> {
    let mut files = vec![m.parity.clone()];
    let dir = Path::new(&m.parity).with_extension("");
    let mut children = crate::tree::rust_files_under(root, &dir);
    children.sort();
    files.extend(children);
    files
}

/// A test function found in a parity source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFn {
    /// Path below the module, as in the test's name: `probe::x25519_agrees`.
    pub path: String,
    pub property: bool,
    pub known_answer: bool,
    pub tags: Vec<String>,
}

/// Byte ranges of the bodies of `proptest! { … }` blocks (braces matched;
/// the test files keep braces out of string literals in those blocks).
fn proptest_blocks(source: &str) -> Vec<(usize, usize)> {
    let mut blocks = Vec::new();
    for (start, _) in source.match_indices("proptest! {") {
        let body = start + "proptest! ".len();
        let mut depth = 0usize;
        let mut end = source.len();
        for (i, ch) in source[body..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = body + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        blocks.push((body, end));
    }
    blocks
}

/// The `#[test]` functions of one source file; `prefix` is the module path
/// of the file below the parity module (`""`, or `"probe::"`). An
/// `// evidence:` tag outside [`SESSION_TAGS`] is an error, so a typo cannot
/// silently count as nothing.
pub fn scan_tests(source: &str, prefix: &str) -> Result<Vec<TestFn>, String> {
    let blocks = proptest_blocks(source);
    let lines: Vec<(usize, &str)> = {
        let mut offset = 0;
        source
            .split('\n')
            .map(|l| {
                let at = offset;
                offset += l.len() + 1;
                (at, l)
            })
            .collect()
    };
    let mut tests = Vec::new();
    for (i, &(at, line)) in lines.iter().enumerate() {
        if line.trim() != "#[test]" {
            continue;
        }
        // The fn this attribute belongs to (more attributes may follow).
        let Some(name) = lines[i + 1..].iter().find_map(|(_, l)| {
            let l = l.trim_start();
            let rest = l.strip_prefix("fn ")?;
            Some(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>(),
            )
        }) else {
            continue;
        };
        // Tags: comments and attributes directly above the `#[test]`.
        let mut tags = Vec::new();
        for (_, above) in lines[..i].iter().rev() {
            let above = above.trim();
            if let Some(list) = above.strip_prefix("// evidence:") {
                for tag in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    if !SESSION_TAGS.contains(&tag) {
                        return Err(format!(
                            "test {prefix}{name}: unknown evidence tag `{tag}` (known: {})",
                            SESSION_TAGS.join(", ")
                        ));
                    }
                    tags.push(tag.to_string());
                }
            } else if !(above.starts_with("//") || above.starts_with("#[")) {
                break;
            }
        }
        tags.sort();
        tags.dedup();
        tests.push(TestFn {
            path: format!("{prefix}{name}"),
            property: blocks.iter().any(|&(s, e)| at > s && at < e),
            known_answer: name.contains("known_answer"),
            tags,
        });
    }
    Ok(tests)
}

/// Every test of a module, from all its parity files.
pub fn module_tests(root: &Path, m: &Module) -> Result<Vec<TestFn>, String> {
    let mut tests = Vec::new();
    let dir = Path::new(&m.parity).with_extension("");
    for file in parity_files(root, m) {
        let text = fs::read_to_string(root.join(&file)).map_err(|e| format!("{file}: {e}"))?;
        // `fake_tls/probe.rs` -> `probe::`, `a/b/c.rs` -> `b::c::`.
        let prefix = Path::new(&file)
            .strip_prefix(&dir)
            .ok()
            .map(|rel| {
                rel.with_extension("")
                    .components()
                    .map(|c| format!("{}::", c.as_os_str().to_string_lossy()))
                    .collect::<String>()
            })
            .unwrap_or_default();
        tests.extend(scan_tests(&text, &prefix)?);
    }
    Ok(tests)
}

/// Test outcomes from libtest's output: full name -> passed.
pub fn parse_outcomes(stdout: &str) -> BTreeMap<String, bool> {
    let mut outcomes = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, outcome)) = rest.split_once(" ... ") else {
            continue;
        };
        match outcome.trim() {
            "ok" => outcomes.insert(name.to_string(), true),
            o if o.starts_with("FAILED") => outcomes.insert(name.to_string(), false),
            _ => None,
        };
    }
    outcomes
}

/// What the run had for one module: counts over all its tests, evidence over
/// the passing ones only.
pub fn tally(key: &str, tests: &[TestFn], outcomes: &BTreeMap<String, bool>) -> ParityResult {
    let mut r = ParityResult::default();
    let own = format!("{key}::");
    for (name, &ok) in outcomes.iter().filter(|(n, _)| n.starts_with(&own)) {
        if ok {
            r.passed += 1;
        } else {
            r.failed += 1;
        }
        let path = &name[own.len()..];
        // An exact path, or the same fn inside an inner `mod` of the file.
        let Some(t) = tests.iter().find(|t| {
            path == t.path
                || (path.ends_with(&format!("::{}", fn_name(&t.path)))
                    && path.starts_with(prefix_of(&t.path)))
        }) else {
            continue;
        };
        if !ok {
            continue;
        }
        r.properties += u32::from(t.property);
        r.known_answers += u32::from(t.known_answer);
        r.sessions.extend(t.tags.iter().cloned());
    }
    r.sessions.sort();
    r.sessions.dedup();
    r
}

fn fn_name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

fn prefix_of(path: &str) -> &str {
    &path[..path.len() - fn_name(path).len()]
}

/// The dashboard's verdict for a module that has both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: &'static str,
    /// For `parity (thin)`: what is missing, one short phrase.
    pub missing: Option<String>,
}

pub const PARITY: &str = "parity";
pub const THIN: &str = "parity (thin)";
pub const IN_PROGRESS: &str = "rust-in-progress";

/// `parity` needs a passing run that met every stated requirement; a passing
/// run that did not is `parity (thin)`; no passing run is `rust-in-progress`.
pub fn judge(evidence: Option<&Evidence>, result: Option<&ParityResult>) -> Verdict {
    let Some(r) = result.filter(|r| r.failed == 0 && r.passed > 0) else {
        return Verdict {
            status: IN_PROGRESS,
            missing: None,
        };
    };
    let Some(ev) = evidence else {
        return Verdict {
            status: THIN,
            missing: Some("no evidence stated in migration.toml".into()),
        };
    };
    let mut missing = Vec::new();
    if r.properties < ev.properties {
        missing.push(format!("{}/{} properties", r.properties, ev.properties));
    }
    if ev.known_answers && r.known_answers == 0 {
        missing.push("no known-answer test".into());
    }
    let absent: Vec<&str> = ev
        .sessions
        .iter()
        .filter(|s| !r.sessions.contains(s))
        .map(String::as_str)
        .collect();
    if !absent.is_empty() {
        if absent.len() == ev.sessions.len() {
            missing.push("no in-process sessions".into());
        } else {
            missing.push(format!("no {} sessions", absent.join("/")));
        }
    }
    if missing.is_empty() {
        Verdict {
            status: PARITY,
            missing: None,
        }
    } else {
        Verdict {
            status: THIN,
            missing: Some(missing.join(", ")),
        }
    }
}

/// Every stated evidence must be well-formed: known session tags only.
pub fn check_stated(manifest: &Manifest) -> Result<(), String> {
    let mut problems = Vec::new();
    for m in &manifest.modules {
        match &m.evidence {
            None => problems.push(format!(
                "module {} states no evidence in migration.toml",
                m.name
            )),
            Some(ev) => {
                for s in &ev.sessions {
                    if !SESSION_TAGS.contains(&s.as_str()) {
                        problems.push(format!(
                            "module {}: unknown session tag `{s}` (known: {})",
                            m.name,
                            SESSION_TAGS.join(", ")
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The files a module's recorded results depend on: its C files and the
/// local headers they include, its contract, its Rust core (every file of a
/// `mod.rs` directory), FFI shim and sys wrapper, and its parity files.
/// Shared code (the test kit, parity-tests/src, other modules) is not
/// included: results are module-granular.
pub fn input_files(root: &Path, m: &Module) -> Vec<String> {
    let mut files: BTreeSet<String> = BTreeSet::new();
    for c in &m.c_files {
        files.insert(c.clone());
        let text = fs::read_to_string(root.join(c)).unwrap_or_default();
        let dir = Path::new(c).parent().unwrap_or(Path::new(""));
        for line in text.lines() {
            let Some(inc) = line.trim().strip_prefix("#include \"") else {
                continue;
            };
            let Some(inc) = inc.split('"').next() else {
                continue;
            };
            let local = dir.join(inc);
            if root.join(&local).is_file() {
                files.insert(local.to_string_lossy().into_owned());
            }
        }
    }
    files.insert(m.contract.clone());
    files.extend(crate::tree::core_files(root, &m.rust_core));
    files.insert(m.rust_ffi.clone());
    files.insert(crate::tree::sys_api_file(m));
    files.extend(parity_files(root, m));
    files.into_iter().collect()
}

/// Git's blob id of `content` (what `git hash-object` prints).
pub fn blob_id(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hash of a module's inputs: SHA-1 over `<blob id> <path>` lines, one per
/// input file in path order (a missing file counts as `missing`). Computed
/// from the working tree, so uncommitted edits count.
pub fn inputs_hash(root: &Path, m: &Module) -> String {
    let mut listing = String::new();
    for f in input_files(root, m) {
        let id = fs::read(root.join(&f)).map_or_else(|_| "missing".to_string(), |c| blob_id(&c));
        listing.push_str(&format!("{id} {f}\n"));
    }
    let mut h = Sha1::new();
    h.update(listing.as_bytes());
    hex(&h.finalize())
}

/// The modules whose recorded results are not about their current files.
pub fn stale(root: &Path, manifest: &Manifest, record: &ParityRecord) -> Vec<String> {
    let mut out = Vec::new();
    for m in &manifest.modules {
        match record.modules.get(&key(m)) {
            None => out.push(format!(
                "no recorded parity results for module {}: run `make parity` and commit measurements/parity.json",
                m.name
            )),
            Some(r) if r.inputs != inputs_hash(root, m) => out.push(format!(
                "parity results for module {} are older than its code: run `make parity` and commit measurements/parity.json",
                m.name
            )),
            Some(_) => {}
        }
    }
    out
}

/// Run the differential suite and record per-module results and evidence.
pub fn record_parity(root: &Path) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    check_stated(&manifest)?;
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    // Scan before the run so a bad tag fails fast.
    let mut scanned = Vec::new();
    for m in &manifest.modules {
        scanned.push((m, module_tests(root, m)?));
    }
    let out = Command::new("cargo")
        .current_dir(root)
        .args([
            "test",
            "-p",
            "parity-tests",
            "--test",
            "parity",
            "--",
            "--test-threads=2",
        ])
        .env("PROPTEST_CASES", cases.to_string())
        .output()
        .map_err(|e| format!("cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let outcomes = parse_outcomes(&stdout);
    let mut record = ParityRecord {
        cases_per_property: cases,
        modules: BTreeMap::new(),
    };
    for (m, tests) in &scanned {
        let k = key(m);
        let mut r = tally(&k, tests, &outcomes);
        r.inputs = inputs_hash(root, m);
        record.modules.insert(k, r);
    }
    fs::create_dir_all(root.join("measurements")).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&record).unwrap() + "\n";
    fs::write(root.join(PARITY_FILE), text).map_err(|e| e.to_string())?;
    println!("recorded {PARITY_FILE}");
    if !out.status.success() {
        return Err(format!("differential tests failed:\n{stdout}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
use proptest::prelude::*;

#[test]
fn known_answers_both_sides() {
    assert_eq!(1, 1);
}

// evidence: abridged, ans
#[test]
fn scripted_sessions_match() {}

/// Doc comment between tag and test.
// evidence: padded
#[test]
#[ignore]
fn ignored_but_tagged() {}

fn helper() -> u32 { 3 }

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    // evidence: fake-tls
    #[test]
    fn random_sessions_match(x in 0..3u32) {
        if x > 1 { prop_assert!(true); }
    }

    #[test]
    fn second_property(y in any::<u8>()) {}
}

#[test]
fn after_the_block() {}
"#;

    fn ev(properties: u32, known_answers: bool, sessions: &[&str]) -> Evidence {
        Evidence {
            properties,
            known_answers,
            sessions: sessions.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scan_classifies_tests() {
        let tests = scan_tests(SOURCE, "").unwrap();
        let names: Vec<&str> = tests.iter().map(|t| t.path.as_str()).collect();
        assert_eq!(
            names,
            [
                "known_answers_both_sides",
                "scripted_sessions_match",
                "ignored_but_tagged",
                "random_sessions_match",
                "second_property",
                "after_the_block"
            ]
        );
        let props: Vec<bool> = tests.iter().map(|t| t.property).collect();
        assert_eq!(props, [false, false, false, true, true, false]);
        assert!(tests[0].known_answer && !tests[1].known_answer);
        assert_eq!(tests[1].tags, ["abridged", "ans"]);
        assert_eq!(tests[2].tags, ["padded"]);
        assert_eq!(tests[3].tags, ["fake-tls"]);
        assert!(tests[4].tags.is_empty() && tests[5].tags.is_empty());
    }

    #[test]
    fn a_tag_stops_at_code() {
        // A tag above a helper fn does not leak to the next test.
        let src = "// evidence: ans\nfn helper() {}\n#[test]\nfn t() {}\n";
        assert!(scan_tests(src, "").unwrap()[0].tags.is_empty());
    }

    #[test]
    fn unknown_tags_are_refused() {
        let src = "// evidence: fake_tls\n#[test]\nfn t() {}\n";
        let err = scan_tests(src, "probe::").unwrap_err();
        assert!(
            err.contains("probe::t") && err.contains("fake_tls"),
            "{err}"
        );
    }

    #[test]
    fn tally_counts_only_passing_tests_as_evidence() {
        let tests = scan_tests(SOURCE, "").unwrap();
        let out = "\
test m::known_answers_both_sides ... ok
test m::scripted_sessions_match ... ok
test m::ignored_but_tagged ... ignored
test m::random_sessions_match ... FAILED
test m::second_property ... ok
test other::second_property ... ok
test m::after_the_block ... ok
";
        let r = tally("m", &tests, &parse_outcomes(out));
        assert_eq!((r.passed, r.failed), (4, 1));
        assert_eq!(r.properties, 1, "the failed property does not count");
        assert_eq!(r.known_answers, 1);
        assert_eq!(
            r.sessions,
            ["abridged", "ans"],
            "ignored and failed tags do not count"
        );
    }

    #[test]
    fn tally_maps_child_files_by_prefix() {
        let tests = scan_tests(
            "proptest! {\n    #[test]\n    fn p(x in 0..1u8) {}\n}\n",
            "probe::",
        )
        .unwrap();
        let out = "test fake_tls::probe::p ... ok\ntest fake_tls::p ... ok\n";
        let r = tally("fake_tls", &tests, &parse_outcomes(out));
        assert_eq!((r.passed, r.properties), (2, 1));
    }

    #[test]
    fn judge_requires_every_stated_piece() {
        let full = ParityResult {
            passed: 5,
            properties: 3,
            known_answers: 1,
            sessions: vec!["abridged".into(), "ans".into()],
            ..ParityResult::default()
        };
        let e = ev(3, true, &["abridged", "ans"]);
        assert_eq!(judge(Some(&e), Some(&full)).status, PARITY);

        let fewer = ParityResult {
            properties: 2,
            ..full.clone()
        };
        let v = judge(Some(&e), Some(&fewer));
        assert_eq!(
            (v.status, v.missing.as_deref()),
            (THIN, Some("2/3 properties"))
        );

        let no_kat = ParityResult {
            known_answers: 0,
            ..full.clone()
        };
        assert_eq!(
            judge(Some(&e), Some(&no_kat)).missing.as_deref(),
            Some("no known-answer test")
        );
        assert_eq!(
            judge(Some(&ev(3, false, &[])), Some(&no_kat)).status,
            PARITY
        );

        let e7 = ev(1, false, SESSION_TAGS);
        let v = judge(Some(&e7), Some(&full));
        assert_eq!(
            v.missing.as_deref(),
            Some("no intermediate/padded/fake-tls/simple-ack/close-ext sessions")
        );
        let bare = ParityResult {
            passed: 1,
            ..ParityResult::default()
        };
        assert_eq!(
            judge(Some(&e7), Some(&bare)).missing.as_deref(),
            Some("0/1 properties, no in-process sessions")
        );
    }

    #[test]
    fn judge_needs_a_passing_run() {
        let e = ev(0, false, &[]);
        let failed = ParityResult {
            passed: 9,
            failed: 1,
            ..ParityResult::default()
        };
        assert_eq!(judge(Some(&e), Some(&failed)).status, IN_PROGRESS);
        assert_eq!(judge(Some(&e), None).status, IN_PROGRESS);
        assert_eq!(
            judge(Some(&e), Some(&ParityResult::default())).status,
            IN_PROGRESS
        );
        let ok = ParityResult {
            passed: 1,
            ..ParityResult::default()
        };
        assert_eq!(judge(None, Some(&ok)).status, THIN);
    }

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    fn scratch_module(root: &Path) -> Module {
        for (f, text) in [
            (
                "c-legacy/net/x.c",
                "#include \"x-internal.h\"\n#include \"mtp_x.h\"\nint x;\n",
            ),
            ("c-legacy/net/x-internal.h", "int y;\n"),
            ("ffi/include/mtp_x.h", "int mtp_x(void);\n"),
            ("rust/mtproxy-core/src/net/x.rs", "pub fn x() {}\n"),
            ("rust/mtproxy-ffi/src/x.rs", "// shim\n"),
            ("rust/mtproxy-sys/src/api/x.rs", "// wrapper\n"),
            ("parity-tests/tests/x.rs", "#[test]\nfn t() {}\n"),
            ("parity-tests/tests/x/child.rs", "#[test]\nfn u() {}\n"),
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        Module {
            name: "x".into(),
            group: "net".into(),
            upstream: vec![],
            c_files: vec!["c-legacy/net/x.c".into()],
            contract: "ffi/include/mtp_x.h".into(),
            rust_core: "rust/mtproxy-core/src/net/x.rs".into(),
            rust_ffi: "rust/mtproxy-ffi/src/x.rs".into(),
            parity: "parity-tests/tests/x.rs".into(),
            benches: vec![],
            uses: vec![],
            note: None,
            rust_only: vec![],
            evidence: Some(ev(0, false, &[])),
            selftest: true,
            bench_file: None,
            fuzz: vec![],
        }
    }

    #[test]
    fn inputs_cover_the_modules_files_and_staleness_follows_them() {
        let root = std::env::temp_dir().join(format!("xtask-evidence-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let m = scratch_module(&root);
        assert_eq!(
            input_files(&root, &m),
            [
                "c-legacy/net/x-internal.h",
                "c-legacy/net/x.c",
                "ffi/include/mtp_x.h",
                "parity-tests/tests/x.rs",
                "parity-tests/tests/x/child.rs",
                "rust/mtproxy-core/src/net/x.rs",
                "rust/mtproxy-ffi/src/x.rs",
                "rust/mtproxy-sys/src/api/x.rs",
            ]
        );
        let tests = module_tests(&root, &m).unwrap();
        assert_eq!(tests[1].path, "child::u");
        let manifest = Manifest {
            modules: vec![m.clone()],
            not_needed: vec![],
            planned: vec![],
            matrix: Default::default(),
            upstream: Default::default(),
        };
        let mut record = ParityRecord::default();
        assert!(
            stale(&root, &manifest, &record)[0].contains("no recorded parity results for module x")
        );
        record.modules.insert(
            "x".into(),
            ParityResult {
                inputs: inputs_hash(&root, &m),
                ..ParityResult::default()
            },
        );
        assert!(stale(&root, &manifest, &record).is_empty());
        // An uncommitted edit of any input, the local header included, makes it stale.
        for f in [
            "c-legacy/net/x-internal.h",
            "parity-tests/tests/x/child.rs",
            "rust/mtproxy-core/src/net/x.rs",
        ] {
            let before = fs::read(root.join(f)).unwrap();
            fs::write(root.join(f), b"edited\n").unwrap();
            let msgs = stale(&root, &manifest, &record);
            assert_eq!(msgs.len(), 1, "{f}");
            assert!(
                msgs[0].contains(
                    "parity results for module x are older than its code: run `make parity`"
                ),
                "{}",
                msgs[0]
            );
            fs::write(root.join(f), before).unwrap();
            assert!(stale(&root, &manifest, &record).is_empty(), "{f}");
        }
        // Files of other modules do not count.
        fs::write(root.join("rust/mtproxy-core/src/net/other.rs"), "x").unwrap();
        assert!(stale(&root, &manifest, &record).is_empty());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn stated_evidence_is_checked() {
        let root =
            std::env::temp_dir().join(format!("xtask-evidence-stated-{}", std::process::id()));
        let mut m = scratch_module(&root);
        let _ = fs::remove_dir_all(&root);
        m.evidence = Some(ev(1, false, &["fake-tls", "quic"]));
        let mut manifest = Manifest {
            modules: vec![m.clone()],
            not_needed: vec![],
            planned: vec![],
            matrix: Default::default(),
            upstream: Default::default(),
        };
        assert!(check_stated(&manifest)
            .unwrap_err()
            .contains("unknown session tag `quic`"));
        manifest.modules[0].evidence = None;
        assert!(check_stated(&manifest)
            .unwrap_err()
            .contains("states no evidence"));
        manifest.modules[0].evidence = Some(ev(1, true, SESSION_TAGS));
        assert!(check_stated(&manifest).is_ok());
    }
}
