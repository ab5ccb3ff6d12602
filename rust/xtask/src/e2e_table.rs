//! The end-to-end section of the dashboard: measurements/e2e.json (written
//! by `make perf`, scripts/perf.sh) as one row per scenario, all-C against
//! all-Rust, with the figure that matters for that scenario, the CPU the
//! load generator and the fake middle-end used beside the proxy (a busy
//! harness means the proxy was not alone in limiting MB/s), and ratios
//! between rows (`-M 2` over `-M 1`, 16 and 256 connections over 1, direct
//! mode over the middle-end). Direct-mode rows (Rust-only, against the
//! fake DC) carry their issue #10 target; the all-C build has none.
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const E2E_FILE: &str = "measurements/e2e.json";

fn num(report: &Value, key: &str) -> Option<f64> {
    report.get(key)?.as_f64()
}

/// The issue #10 target of a direct-mode row, CPU-s/GB (both directions):
/// 0.7 with one connection, 0.8 with more.
fn direct_target(scenario: &str) -> f64 {
    if scenario.split_whitespace().any(|w| w == "x1") {
        0.7
    } else {
        0.8
    }
}

/// Issue #11's targets for a full secret search, ms per handshake, by
/// the number of users.
fn secret_search_target(scenario: &str) -> Option<f64> {
    match scenario.rsplit_once(" x")?.1 {
        "100" => Some(0.05),
        "1000" => Some(0.25),
        _ => None,
    }
}

/// The figures shown for one report, by scenario kind.
fn figures(scenario: &str, r: &Value, floor: &Floor) -> String {
    if scenario.starts_with("secret search") {
        let shown = |key: &str| {
            let value = num(r, key);
            let verdict = match (value, secret_search_target(scenario)) {
                (Some(v), Some(t)) if v <= t => format!(" (target ≤ {t}: met)"),
                (Some(_), Some(t)) => format!(" (target ≤ {t}: missed)"),
                _ => String::new(),
            };
            value.map_or("n/a".into(), |v| format!("{v:.4} ms{verdict}"))
        };
        return format!(
            "full search per handshake: obfs2 {}, fake TLS {}",
            shown("obfs2_ms_per_handshake"),
            shown("fake_tls_ms_per_handshake")
        );
    }
    if let Some(rest) = scenario.strip_prefix("direct ") {
        let direct_floor = Floor {
            upload: floor.direct,
            download: floor.direct,
            direct: floor.direct,
        };
        let target = direct_target(scenario);
        let verdict = match num(r, "cpu_seconds_per_gb") {
            Some(v) if v <= target => "met",
            Some(_) => "missed",
            None => "n/a",
        };
        return format!(
            "{}; target ≤ {target:.1}: {verdict}",
            figures(rest, r, &direct_floor)
        );
    }
    let f = |key: &str, digits: usize| {
        num(r, key).map_or("n/a".to_string(), |v| format!("{v:.digits$}"))
    };
    let times_floor = |floor: Option<f64>| {
        let ratio = match (num(r, "cpu_seconds_per_gb"), floor) {
            (Some(v), Some(fl)) if fl > 0.0 => format!("{:.1}x floor", v / fl),
            _ => "n/a".into(),
        };
        match num(r, "kernel_seconds_per_gb") {
            Some(k) => format!(" ({ratio}; kernel {k:.2})"),
            None => format!(" ({ratio})"),
        }
    };
    if scenario.starts_with("upload") {
        format!(
            "{} MB/s, {} CPU-s/GB{}",
            f("up_mb_per_sec", 0),
            f("cpu_seconds_per_gb", 2),
            times_floor(floor.upload)
        )
    } else if scenario.starts_with("download") {
        format!(
            "{} MB/s, {} CPU-s/GB{}",
            f("down_mb_per_sec", 0),
            f("cpu_seconds_per_gb", 2),
            times_floor(floor.download)
        )
    } else if scenario.starts_with("echo") {
        let per_rt = match (num(r, "proxy_cpu_seconds"), num(r, "round_trips")) {
            (Some(cpu), Some(n)) if n > 0.0 => format!("{:.1}", cpu * 1e6 / n),
            _ => "n/a".into(),
        };
        let flood = num(r, "flood_per_sec").map_or(String::new(), |v| {
            format!(", during {v:.0} wrong-secret handshakes/s")
        });
        format!(
            "p50 {} µs, p99 {} µs, {per_rt} CPU-µs/round trip{flood}",
            f("rtt_p50_us", 0),
            f("rtt_p99_us", 0)
        )
    } else if scenario.starts_with("handshakes") {
        format!(
            "{}/s, {} CPU-ms each",
            f("handshakes_per_sec", 0),
            f("handshake_cpu_ms", 3)
        )
    } else if scenario.starts_with("idle CPU") {
        match (num(r, "proxy_cpu_seconds"), num(r, "seconds")) {
            (Some(cpu), Some(s)) if s > 0.0 => format!("{:.2}% of a core", cpu * 100.0 / s),
            _ => "n/a".into(),
        }
    } else if scenario.starts_with("idle") {
        let cpu = match (num(r, "proxy_cpu_seconds"), num(r, "seconds")) {
            (Some(cpu), Some(s)) if s > 0.0 => format!("{:.2}%", cpu * 100.0 / s),
            _ => "n/a".into(),
        };
        format!(
            "{} B RSS/conn, {cpu} CPU idle",
            f("rss_bytes_per_connection", 0)
        )
    } else {
        r.to_string()
    }
}

/// The harness's share of a core during a run: the load generator's own
/// CPU and the fake middle-end's, `gen · ME` (set-up rows: per handshake).
fn harness(r: &Value) -> String {
    let seconds = num(r, "seconds").unwrap_or(0.0);
    let Some(generator) = num(r, "generator_cpu_s") else {
        return "n/a".into();
    };
    if seconds <= 0.0 {
        return match num(r, "generator_handshake_cpu_ms") {
            Some(ms) => format!("{ms:.3} ms/handshake"),
            None => "n/a".into(),
        };
    }
    let me = num(r, "me_cpu_s").map_or("n/a".to_string(), |me| {
        format!("{:.0}%", me * 100.0 / seconds)
    });
    format!("{:.0}% · {me}", generator * 100.0 / seconds)
}

/// `numerator / denominator` of one figure between two scenarios' medians,
/// per build.
fn ratio(
    medians: &BTreeMap<String, BTreeMap<String, Value>>,
    numerator: &str,
    denominator: &str,
    key: &str,
    build: &str,
) -> String {
    let get = |scenario: &str| {
        medians
            .get(scenario)
            .and_then(|b| b.get(build))
            .and_then(|r| num(r, key))
    };
    match (get(numerator), get(denominator)) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    }
}

/// The crypto-only cost per GB each way, measured in the same run.
#[derive(Default)]
struct Floor {
    upload: Option<f64>,
    download: Option<f64>,
    /// Direct mode, either way: CTR twice.
    direct: Option<f64>,
}

/// A report whose numeric fields are the medians over `reports`.
fn median_report(reports: &[&Value]) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(Value::Object(first)) = reports.first() {
        for key in first.keys() {
            let mut values: Vec<f64> = reports.iter().filter_map(|r| num(r, key)).collect();
            if values.is_empty() {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let median = values[values.len() / 2];
            out.insert(key.clone(), serde_json::json!(median));
        }
    }
    Value::Object(out)
}

/// The end-to-end table: what was measured (markdown prose), one row per
/// scenario (scenario, all-C figures, all-Rust figures, the harness's CPU
/// in the C / Rust runs) and the ratio rows (name, all-C, all-Rust).
pub struct E2e {
    pub intro: String,
    pub rows: Vec<(String, String, String)>,
    pub harness: Vec<String>,
    pub ratios: Vec<(String, String, String)>,
}

/// The markdown section, or "" when nothing was measured yet.
pub fn render(root: &Path) -> Result<String, String> {
    let Some(e2e) = table(root)? else {
        return Ok(String::new());
    };
    let mut md = format!(
        "\n## End to end: all-C against all-Rust (`make perf`)\n\n{}",
        e2e.intro
    );
    md.push_str("\n\n| scenario | all-C | all-Rust | harness CPU, C / Rust runs (gen · ME) |\n|---|---|---|---|\n");
    for ((scenario, c, rust), harness) in e2e.rows.iter().zip(&e2e.harness) {
        md.push_str(&format!("| {scenario} | {c} | {rust} | {harness} |\n"));
    }
    if !e2e.ratios.is_empty() {
        md.push_str("\n| ratio (of the medians) | all-C | all-Rust |\n|---|---|---|\n");
        for (name, c, rust) in &e2e.ratios {
            md.push_str(&format!("| {name} | {c} | {rust} |\n"));
        }
    }
    Ok(md)
}

/// The table from measurements/e2e.json, or None when nothing was measured.
pub fn table(root: &Path) -> Result<Option<E2e>, String> {
    let Ok(text) = fs::read_to_string(root.join(E2E_FILE)) else {
        return Ok(None);
    };
    let rows: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{E2E_FILE}: {e}"))?;
    // scenario -> build -> reports, in first-seen scenario order.
    let mut order = Vec::new();
    let mut runs: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for row in &rows {
        let scenario = row["scenario"].as_str().unwrap_or("?").to_string();
        let build = row["build"].as_str().unwrap_or("?").to_string();
        if !runs.contains_key(&scenario) {
            order.push(scenario.clone());
        }
        runs.entry(scenario)
            .or_default()
            .entry(build)
            .or_default()
            .push(row["report"].clone());
    }
    let floor = runs
        .get("crypto floor")
        .and_then(|b| b.get("floor"))
        .map(|reports| {
            let ok: Vec<&Value> = reports.iter().filter(|r| !r.is_null()).collect();
            let r = median_report(&ok);
            Floor {
                upload: num(&r, "upload_floor_s_per_gb"),
                download: num(&r, "download_floor_s_per_gb"),
                direct: num(&r, "direct_floor_s_per_gb"),
            }
        })
        .unwrap_or_default();
    order.retain(|s| s != "crypto floor");
    let mut table: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut medians: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut repeats = 0;
    for (scenario, builds) in &runs {
        for (build, reports) in builds.iter().filter(|(b, _)| b.as_str() != "floor") {
            repeats = repeats.max(reports.len());
            let ok: Vec<&Value> = reports.iter().filter(|r| !r.is_null()).collect();
            let cell = if ok.is_empty() {
                "failed".to_string()
            } else if ok.iter().all(|r| r.get("rust_only").is_some()) {
                // perf.sh's placeholder: the C build refuses the feature.
                "n/a (Rust-only)".to_string()
            } else {
                let r = median_report(&ok);
                let errors = num(&r, "errors").unwrap_or(0.0);
                let failed = reports.len() - ok.len();
                let mut cell = figures(scenario, &r, &floor);
                if errors > 0.0 || failed > 0 {
                    cell.push_str(&format!(" ({errors} errors, {failed} failed runs)"));
                }
                medians
                    .entry(scenario.clone())
                    .or_default()
                    .insert(build.clone(), r);
                cell
            };
            table
                .entry(scenario.clone())
                .or_default()
                .insert(build.clone(), cell);
        }
    }
    let mut intro = String::from(
        "The proxy between mtproxy-load and the fake middle-end on loopback, in rounds that run every scenario on both builds; CPU and memory are the proxy process's own (/proc); GB counts both directions. Each figure is the median of ",
    );
    intro.push_str(&format!("{repeats} runs. The last column is the harness on the same two cores during the measured phase of the all-C / all-Rust runs: the load generator's own CPU (`mtproxy-load`: epoll, one thread) and the fake middle-end's, as shares of one core (`gen · ME`; set-up rows: generator CPU per handshake). Where they are large the proxy was competing with them for the CPU, and MB/s says more about the machine than about the proxy; CPU-s/GB is the proxy's own either way."));
    intro.push_str(" Direct-mode rows (Rust-only: the all-C build refuses `--direct`) relay to the test kit's fake DC instead, which stands in the harness column's ME place; each carries its issue #10 target (CPU-s/GB, both directions) and its multiple of the direct crypto floor.");
    if let (Some(up), Some(down)) = (floor.upload, floor.download) {
        intro.push_str(&format!(
            " Crypto floor in the same run (`crypto-floor`, the project's AES): upload {up:.2} CPU-s/GB (CTR decrypt + CBC encrypt), download {down:.2} CPU-s/GB (CBC decrypt + CTR encrypt)"
        ));
        if let Some(direct) = floor.direct {
            intro.push_str(&format!(
                ", direct mode {direct:.2} CPU-s/GB (CTR decrypt + CTR encrypt)"
            ));
        }
        intro.push('.');
    }
    let mut rows = Vec::new();
    let mut harness_cells = Vec::new();
    for scenario in order {
        let builds = &table[&scenario];
        let cell = |b: &str| builds.get(b).cloned().unwrap_or_else(|| "n/a".into());
        let harness_of = |b: &str| {
            medians
                .get(&scenario)
                .and_then(|m| m.get(b))
                .map_or("n/a".to_string(), harness)
        };
        harness_cells.push(format!("{} / {}", harness_of("c"), harness_of("rust")));
        rows.push((scenario.clone(), cell("c"), cell("rust")));
    }
    let ratios = [
        (
            "`-M 2` over `-M 1`, upload x16 (MB/s)",
            "upload intermediate x16 -M 2",
            "upload intermediate x16",
            "up_mb_per_sec",
        ),
        (
            "upload x16 over x1 (CPU-s/GB)",
            "upload intermediate x16",
            "upload intermediate x1",
            "cpu_seconds_per_gb",
        ),
        (
            "upload x256 over x1 (CPU-s/GB)",
            "upload intermediate x256",
            "upload intermediate x1",
            "cpu_seconds_per_gb",
        ),
        (
            "direct `-M 2` over `-M 1`, upload x64 (MB/s; target ≥ 1.8)",
            "direct upload x64 -M 2",
            "direct upload x64",
            "up_mb_per_sec",
        ),
        (
            "direct over middle-end, upload x1 (CPU-s/GB)",
            "direct upload x1",
            "upload intermediate x1",
            "cpu_seconds_per_gb",
        ),
        (
            "direct over middle-end, upload x64 (CPU-s/GB)",
            "direct upload x64",
            "upload intermediate x64",
            "cpu_seconds_per_gb",
        ),
        (
            "direct over middle-end, download x1 (CPU-s/GB)",
            "direct download x1",
            "download intermediate x1",
            "cpu_seconds_per_gb",
        ),
        (
            "direct over middle-end, download x64 (CPU-s/GB)",
            "direct download x64",
            "download intermediate x64",
            "cpu_seconds_per_gb",
        ),
    ];
    let present: Vec<_> = ratios
        .iter()
        .filter(|(_, a, b, _)| medians.contains_key(*a) && medians.contains_key(*b))
        .collect();
    let ratios = present
        .into_iter()
        .map(|(name, a, b, key)| {
            (
                name.to_string(),
                ratio(&medians, a, b, key, "c"),
                ratio(&medians, a, b, key, "rust"),
            )
        })
        .collect();
    Ok(Some(E2e {
        intro,
        rows,
        harness: harness_cells,
        ratios,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_rows_show_rust_only_targets_and_ratios_against_the_middle_end() {
        let root = std::env::temp_dir().join(format!("e2e-table-{}", std::process::id()));
        fs::create_dir_all(root.join("measurements")).unwrap();
        let up = |mb: f64, cpu: f64| serde_json::json!({"up_mb_per_sec": mb, "cpu_seconds_per_gb": cpu, "seconds": 1.0});
        let rows = serde_json::json!([
            {"build": "floor", "scenario": "crypto floor", "report":
                {"upload_floor_s_per_gb": 1.0, "download_floor_s_per_gb": 1.0, "direct_floor_s_per_gb": 0.25}},
            {"build": "c", "scenario": "upload intermediate x1", "report": up(500.0, 2.0)},
            {"build": "c", "scenario": "direct upload x1", "report": {"rust_only": true}},
            {"build": "c", "scenario": "direct upload x64", "report": {"rust_only": true}},
            {"build": "rust", "scenario": "upload intermediate x1", "report": up(500.0, 2.0)},
            {"build": "rust", "scenario": "direct upload x1", "report": up(900.0, 0.5)},
            {"build": "rust", "scenario": "direct upload x64", "report": up(800.0, 0.9)},
            {"build": "rust", "scenario": "direct upload x64 -M 2", "report": up(1520.0, 0.9)},
            {"build": "rust", "scenario": "secret search x1000", "report":
                {"users": 1000, "obfs2_ms_per_handshake": 0.2, "fake_tls_ms_per_handshake": 0.47}},
            {"build": "c", "scenario": "secret search x1000", "report": {"rust_only": true}},
            {"build": "rust", "scenario": "echo 64B x100 users x10000 + flood", "report":
                {"rtt_p50_us": 90.0, "rtt_p99_us": 900.0, "flood_per_sec": 420.4}},
        ]);
        fs::write(root.join(E2E_FILE), rows.to_string()).unwrap();
        let e2e = table(&root).unwrap().unwrap();
        fs::remove_dir_all(&root).unwrap();
        let row = |name: &str| e2e.rows.iter().find(|r| r.0 == name).unwrap().clone();
        let (_, c, rust) = row("direct upload x1");
        assert_eq!(c, "n/a (Rust-only)");
        assert!(rust.contains("0.50 CPU-s/GB (2.0x floor)"), "{rust}");
        assert!(rust.ends_with("target ≤ 0.7: met"), "{rust}");
        assert!(row("direct upload x64").2.ends_with("target ≤ 0.8: missed"));
        let flooded = row("echo 64B x100 users x10000 + flood").2;
        assert!(
            flooded.starts_with("p50 90 µs, p99 900 µs,")
                && flooded.ends_with("during 420 wrong-secret handshakes/s"),
            "{flooded}"
        );
        let (_, c, rust) = row("secret search x1000");
        assert_eq!(c, "n/a (Rust-only)");
        assert!(
            rust.contains(
                "obfs2 0.2000 ms (target ≤ 0.25: met), fake TLS 0.4700 ms (target ≤ 0.25: missed)"
            ),
            "{rust}"
        );
        let ratio = |name: &str| {
            e2e.ratios
                .iter()
                .find(|r| r.0.starts_with(name))
                .unwrap()
                .clone()
        };
        assert_eq!(ratio("direct `-M 2`").2, "1.90x");
        let saved = ratio("direct over middle-end, upload x1");
        assert_eq!((saved.1.as_str(), saved.2.as_str()), ("n/a", "0.25x"));
        assert!(
            e2e.intro.contains("direct mode 0.25 CPU-s/GB"),
            "{}",
            e2e.intro
        );
    }
}
