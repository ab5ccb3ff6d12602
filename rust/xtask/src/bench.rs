//! The criterion comparison record (`make bench` → measurements/bench.json):
//! C and Rust medians per bench group and input, and the machine they ran on.
use crate::util::run as sh;
use mtproxy_build::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

pub const BENCH_FILE: &str = "measurements/bench.json";

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
