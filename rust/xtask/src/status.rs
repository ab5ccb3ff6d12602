//! The dashboard: MIGRATION_STATUS.md and migration-status.json, generated from
//! migration.toml, the tree, and the committed measurements
//! (measurements/parity.json from `make parity`, measurements/bench.json from
//! `make bench`). Same tree in, same bytes out; `status --check` fails when the
//! committed files differ.
use crate::evidence::{self, ParityRecord, ParityResult, PARITY_FILE};
use crate::util::{run as sh, write_or_compare};
use mtproxy_build::{contract_functions, Manifest, Module};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

const BENCH_FILE: &str = "measurements/bench.json";

/// Median times of one benchmark input size, C and Rust.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchPoint {
    pub c_ns: f64,
    pub rust_ns: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BenchRecord {
    pub machine: String,
    /// group -> input label -> times
    pub groups: BTreeMap<String, BTreeMap<String, BenchPoint>>,
}

#[derive(Debug, Serialize)]
struct ModuleStatus {
    name: String,
    group: String,
    upstream: Vec<String>,
    feature: String,
    c_lines: usize,
    rust_lines: usize,
    unsafe_count: usize,
    contract: String,
    contract_functions: usize,
    parity_tests: Option<ParityResult>,
    /// Worst Rust/C time ratio over the module's benchmarks (≤ 1.0: Rust as fast or faster).
    bench_ratio: Option<f64>,
    status: String,
    /// For `parity (thin)`: the stated evidence the recorded run lacked.
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<String>,
    note: Option<String>,
    /// Parts that exist in Rust only (not compared with C).
    rust_only: Vec<String>,
}

fn read_json<T: for<'de> Deserialize<'de> + Default>(root: &Path, file: &str) -> Result<T, String> {
    match fs::read_to_string(root.join(file)) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{file}: {e}")),
        Err(_) => Ok(T::default()),
    }
}

/// Non-blank, non-comment-only lines.
fn code_lines(root: &Path, file: &str) -> usize {
    fs::read_to_string(root.join(file))
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("//")
                        && !l.starts_with("/*")
                        && !l.starts_with('*')
                })
                .count()
        })
        .unwrap_or(0)
}

/// Occurrences of the `unsafe` keyword (blocks, fns, impls, extern blocks).
fn unsafe_count(root: &Path, file: &str) -> usize {
    fs::read_to_string(root.join(file))
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(|l| l.matches("unsafe ").count() + l.matches("unsafe{").count())
                .sum()
        })
        .unwrap_or(0)
}

/// The sys-side wrapper file of a module (same file stem as its ffi shim).
pub(crate) fn sys_api_file(m: &Module) -> String {
    format!("rust/mtproxy-sys/src/api/{}.rs", m.stem())
}

/// The Rust core's files: the file itself, or every `.rs` file of its
/// directory when the core is a `mod.rs` (the runtime modules).
pub(crate) fn core_files(root: &Path, core: &str) -> Vec<String> {
    if !core.ends_with("/mod.rs") {
        return vec![core.to_string()];
    }
    let dir = Path::new(core).parent().unwrap_or(Path::new(""));
    crate::contracts::walk(&root.join(dir))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| {
            p.strip_prefix(root)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        })
        .collect()
}

fn module_status(
    root: &Path,
    m: &Module,
    parity: &ParityRecord,
    bench: &BenchRecord,
) -> ModuleStatus {
    let c_lines: usize = m.c_files.iter().map(|f| code_lines(root, f)).sum();
    let mut rust_files = core_files(root, &m.rust_core);
    rust_files.extend([m.rust_ffi.clone(), sys_api_file(m)]);
    let rust_lines: usize = rust_files.iter().map(|f| code_lines(root, f)).sum();
    let unsafe_total: usize = rust_files.iter().map(|f| unsafe_count(root, f)).sum();
    let contract_fns = fs::read_to_string(root.join(&m.contract))
        .map(|t| contract_functions(&t).len())
        .unwrap_or(0);
    let result = parity.modules.get(&evidence::key(m)).cloned();
    let mut ratios = Vec::new();
    for g in &m.benches {
        for p in bench.groups.get(g).into_iter().flat_map(|s| s.values()) {
            if p.c_ns > 0.0 {
                ratios.push(p.rust_ns / p.c_ns);
            }
        }
    }
    let bench_ratio = ratios.into_iter().reduce(f64::max);
    let has_c = !m.c_files.is_empty() && m.c_files.iter().all(|f| root.join(f).exists());
    let has_rust = code_lines(root, &m.rust_core) > 5 && root.join(&m.rust_ffi).exists();
    let verdict = evidence::judge(m.evidence.as_ref(), result.as_ref());
    let (status, missing) = match (has_c, has_rust) {
        (false, false) => ("not-started", None),
        (true, false) => ("c-only", None),
        (false, true) => ("c-retired", None),
        (true, true) => (verdict.status, verdict.missing),
    };
    ModuleStatus {
        name: m.name.clone(),
        group: m.group.clone(),
        upstream: m.upstream.clone(),
        feature: m.feature(),
        c_lines,
        rust_lines,
        unsafe_count: unsafe_total,
        contract: m.contract.clone(),
        contract_functions: contract_fns,
        parity_tests: result,
        bench_ratio,
        status: status.to_string(),
        missing,
        note: m.note.clone(),
        rust_only: m.rust_only.clone(),
    }
}

fn render(
    manifest: &Manifest,
    rows: &[ModuleStatus],
    parity: &ParityRecord,
    bench: &BenchRecord,
    e2e: &str,
    mutants: &str,
) -> (String, String) {
    let mut md = String::new();
    md.push_str("# Migration status\n\n");
    md.push_str("Generated by `make status` (`cargo xtask status`) from migration.toml, the tree, and the committed\n");
    md.push_str("measurements in measurements/ (`make parity`, `make bench`, `make perf`). Do not edit: CI fails when this file is stale.\n\n");
    let total_c: usize = rows.iter().map(|r| r.c_lines).sum();
    let total_rust: usize = rows.iter().map(|r| r.rust_lines).sum();
    let total_unsafe: usize = rows.iter().map(|r| r.unsafe_count).sum();
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let planned_files: usize = manifest.planned.iter().map(|p| p.upstream.len()).sum();
    md.push_str("## Totals\n\n");
    md.push_str(&format!(
        "| modules | parity | parity (thin) | rust-in-progress | c-only | c-retired | not started | Rust-only parts | upstream files not needed | upstream files planned | C lines | Rust lines | unsafe |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n\n",
        rows.len(), count(evidence::PARITY), count(evidence::THIN), count(evidence::IN_PROGRESS), count("c-only"), count("c-retired"), count("not-started"),
        rows.iter().map(|r| r.rust_only.len()).sum::<usize>(),
        manifest.not_needed.len(), planned_files, total_c, total_rust, total_unsafe
    ));
    md.push_str(&format!(
        "Differential tests: {} passed, {} failed; each property runs {} random cases (`PROPTEST_CASES`).\n",
        rows.iter().filter_map(|r| r.parity_tests.as_ref()).map(|p| p.passed).sum::<u32>(),
        rows.iter().filter_map(|r| r.parity_tests.as_ref()).map(|p| p.failed).sum::<u32>(),
        parity.cases_per_property
    ));
    if !bench.machine.is_empty() {
        md.push_str(&format!("Benchmarks measured on: {}.\n", bench.machine));
    }
    md.push_str("\n`parity` needs a passing recorded run with the evidence migration.toml states for the module: enough proptest\nproperties, a known-answer test where an independent set exists, and for the runtime modules in-process sessions over\nevery transport (abridged, intermediate, padded, fake-tls) and answer kind (ans, simple-ack, close-ext), declared by the\ntests with `// evidence:` tags. A passing run short of that is `parity (thin)`, with what is missing.\n");
    md.push_str("\nRust lines = core + FFI shim + sys wrapper; `unsafe` counts the keyword in the shim and wrapper (mtproxy-core forbids it).\nBench ratio = Rust time / C time, worst over the module's benchmarks (≤ 1.00: Rust at least as fast).\nRust-only parts = features upstream never had, written in Rust only (migration.toml `rust_only`): not compared with C, tested on the builds that have them; a build taking the module from C refuses their options at start-up.\n");
    // Groups in the order they first appear in the manifest.
    let mut groups: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    for g in groups {
        md.push_str(&format!("\n## Group `{g}` (feature `rust-{g}`)\n\n"));
        md.push_str("| module | upstream | C lines | Rust lines | unsafe | contract (fns) | differential tests | bench Rust/C | status | Rust-only parts |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for r in rows.iter().filter(|r| r.group == g) {
            let tests = match &r.parity_tests {
                Some(p) => {
                    let mut t = format!(
                        "{} passed, {} failed ({} properties, {} known-answer",
                        p.passed, p.failed, p.properties, p.known_answers
                    );
                    if !p.sessions.is_empty() {
                        t.push_str(&format!("; sessions: {}", p.sessions.join(", ")));
                    }
                    t.push(')');
                    t
                }
                None => "not recorded".into(),
            };
            let ratio = r.bench_ratio.map_or("n/a".into(), |x| {
                if x <= 1.0 {
                    format!("{x:.2}")
                } else {
                    format!("**{x:.2}** (slower)")
                }
            });
            let rust_only = if r.rust_only.is_empty() {
                "".to_string()
            } else {
                format!("rust-only: {}", r.rust_only.join("; "))
            };
            md.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | `{}` ({}) | {} | {} | {} | {} |\n",
                r.name,
                r.upstream.join(", "),
                r.c_lines,
                r.rust_lines,
                r.unsafe_count,
                Path::new(&r.contract)
                    .file_name()
                    .unwrap()
                    .to_string_lossy(),
                r.contract_functions,
                tests,
                ratio,
                match &r.missing {
                    Some(m) => format!("{}: {m}", r.status),
                    None => r.status.clone(),
                },
                rust_only
            ));
        }
        for r in rows.iter().filter(|r| r.group == g && r.note.is_some()) {
            md.push_str(&format!(
                "\n- `{}`: {}",
                r.name,
                r.note.as_deref().unwrap_or("")
            ));
        }
        md.push('\n');
    }
    if !bench.groups.is_empty() {
        md.push_str("\n## Benchmarks (median time per call)\n\n| benchmark | input | C | Rust | Rust/C |\n|---|---|---|---|---|\n");
        for (g, points) in &bench.groups {
            for (label, p) in points {
                md.push_str(&format!(
                    "| {g} | {label} | {} | {} | {:.2} |\n",
                    fmt_ns(p.c_ns),
                    fmt_ns(p.rust_ns),
                    p.rust_ns / p.c_ns
                ));
            }
        }
    }
    md.push_str(e2e);
    md.push_str(mutants);
    md.push_str("\n## Upstream files not needed\n\n| upstream | reason |\n|---|---|\n");
    for n in &manifest.not_needed {
        md.push_str(&format!("| {} | {} |\n", n.upstream, n.reason));
    }
    if !manifest.planned.is_empty() {
        md.push_str("\n## Upstream files planned (no implementation yet)\n\n| issue | what | upstream files |\n|---|---|---|\n");
    }
    for p in &manifest.planned {
        md.push_str(&format!(
            "| #{} | {} | {} |\n",
            p.issue,
            p.what,
            p.upstream.join(", ")
        ));
    }
    let json = serde_json::json!({
        "modules": rows,
        "not_needed": manifest.not_needed.iter().map(|n| serde_json::json!({"upstream": n.upstream, "reason": n.reason})).collect::<Vec<_>>(),
        "planned": manifest.planned.iter().map(|p| serde_json::json!({"issue": p.issue, "what": p.what, "upstream": p.upstream})).collect::<Vec<_>>(),
        "totals": {"c_lines": total_c, "rust_lines": total_rust, "unsafe": total_unsafe},
        "cases_per_property": parity.cases_per_property,
    });
    let json_text = serde_json::to_string_pretty(&json).unwrap() + "\n";
    (md, json_text)
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    evidence::check_stated(&manifest)?;
    let parity: ParityRecord = read_json(root, PARITY_FILE)?;
    let bench: BenchRecord = read_json(root, BENCH_FILE)?;
    let rows: Vec<ModuleStatus> = manifest
        .modules
        .iter()
        .map(|m| module_status(root, m, &parity, &bench))
        .collect();
    let e2e = crate::e2e_table::render(root)?;
    let mutants = crate::mutants::render(root)?;
    let (md, json) = render(&manifest, &rows, &parity, &bench, &e2e, &mutants);
    let mut stale = Vec::new();
    write_or_compare(&root.join("MIGRATION_STATUS.md"), &md, check, &mut stale)?;
    write_or_compare(
        &root.join("migration-status.json"),
        &json,
        check,
        &mut stale,
    )?;
    crate::html::write_or_check(root, &json, check, &mut stale)?;
    let old_results = evidence::stale(root, &manifest, &parity);
    if !check {
        for line in &old_results {
            eprintln!("xtask status: warning: {line}");
        }
    }
    let mut problems = Vec::new();
    if !stale.is_empty() {
        problems.push(format!(
            "dashboard is stale (run `make status` and commit): {}",
            stale.join(", ")
        ));
    }
    if check {
        problems.extend(old_results);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Collect criterion's medians for every bench group of the manifest.
pub fn record_bench(root: &Path) -> Result<(), String> {
    let manifest = Manifest::load(root)?;
    let criterion = crate::util::target_dir(&crate::util::cargo_metadata(root)?)?.join("criterion");
    let mut record = BenchRecord {
        machine: machine_description(),
        groups: BTreeMap::new(),
    };
    for group in manifest.modules.iter().flat_map(|m| m.benches.iter()) {
        let dir = criterion.join(group).join("c");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Err(format!(
                "no criterion results for `{group}` (run `make bench`)"
            ));
        };
        let mut labels: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        labels.retain(|l| l != "report");
        labels.sort();
        for label in labels {
            let median = |side: &str| -> Result<f64, String> {
                let path = criterion
                    .join(group)
                    .join(side)
                    .join(&label)
                    .join("new/estimates.json");
                let text =
                    fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| e.to_string())?;
                v["median"]["point_estimate"]
                    .as_f64()
                    .ok_or(format!("{}: no median", path.display()))
            };
            let point = BenchPoint {
                c_ns: round3(median("c")?),
                rust_ns: round3(median("rust")?),
            };
            record
                .groups
                .entry(group.clone())
                .or_default()
                .insert(label, point);
        }
    }
    fs::create_dir_all(root.join("measurements")).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&record).unwrap() + "\n";
    fs::write(root.join(BENCH_FILE), text).map_err(|e| e.to_string())?;
    println!("recorded {BENCH_FILE}");
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn machine_description() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = sh(Command::new("rustc").arg("--version")).unwrap_or_default();
    format!("{cpu}, {cores} cores, {}", rustc.trim())
}
