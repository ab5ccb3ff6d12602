//! MIGRATION_STATUS.html: the dashboard as one static page (inline CSS and
//! SVG, no scripts, no external assets), written by `cargo xtask status` next
//! to MIGRATION_STATUS.md from the same figures (migration-status.json's text,
//! measurements/bench.json, measurements/e2e.json), plus their history: the
//! committed migration-status.json of the last commits that changed it
//! (`git log` + `git show`), read only from HEAD's ancestry so the page is the
//! same on every clone with full history. Without history (no git, a shallow
//! clone) the page says so, and `status --check` compares the rest of it.
use crate::bench::BenchRecord;
use crate::util::write_or_compare;
use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

pub const HTML_FILE: &str = "MIGRATION_STATUS.html";
const STATUS_JSON: &str = "migration-status.json";
/// At most this many earlier commits in the history.
const HISTORY_COMMITS: usize = 50;
const HISTORY_BEGIN: &str = "<!-- history:begin -->";
const HISTORY_END: &str = "<!-- history:end -->";

/// (status, label, background, border)
const STATUSES: &[(&str, &str, &str, &str)] = &[
    ("parity", "parity", "#c8e6c9", "#2e7d32"),
    ("rust-only", "Rust only", "#bbdefb", "#1565c0"),
    ("rust-in-progress", "Rust in progress", "#fff3c4", "#f9a825"),
    ("c-retired", "C retired", "#d1c4e9", "#5e35b1"),
    ("c-only", "C only", "#ffcdd2", "#c62828"),
    ("not-started", "not started", "#eeeeee", "#9e9e9e"),
];

/// Figures of one point of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// "2026-12-03 6113116", or "now" for the tree being rendered.
    pub label: String,
    pub modules: usize,
    pub parity: usize,
    pub c_lines: f64,
    pub rust_lines: f64,
    pub unsafe_count: f64,
    pub tests_passed: f64,
}

impl Point {
    fn from_json(label: String, v: &Value) -> Point {
        let modules = v["modules"].as_array().cloned().unwrap_or_default();
        let sum = |key: &str| -> f64 { modules.iter().filter_map(|m| m[key].as_f64()).sum() };
        let total = |key: &str, fallback: &str| v["totals"][key].as_f64().unwrap_or(sum(fallback));
        Point {
            label,
            modules: modules.len(),
            parity: modules.iter().filter(|m| m["status"] == "parity").count(),
            c_lines: total("c_lines", "c_lines"),
            rust_lines: total("rust_lines", "rust_lines"),
            unsafe_count: total("unsafe", "unsafe_count"),
            tests_passed: modules
                .iter()
                .filter_map(|m| m["parity_tests"]["passed"].as_f64())
                .sum(),
        }
    }
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The figures of the last commits that changed migration-status.json,
/// oldest first, or None without a full git history of `root`. Commits whose
/// file equals `current` at the tip of the log are left out, so the page is
/// the same before and after the dashboard is committed.
pub fn history(root: &Path, current: &str) -> Option<Vec<Point>> {
    let top = git(root, &["rev-parse", "--show-toplevel"])?;
    let same_repo = fs::canonicalize(top.trim()).ok()? == fs::canonicalize(root).ok()?;
    let shallow = git(root, &["rev-parse", "--is-shallow-repository"])?;
    if !same_repo || shallow.trim() != "false" {
        return None;
    }
    let log = git(
        root,
        &["log", "--format=%H %h %cs", "HEAD", "--", STATUS_JSON],
    )?;
    let mut points = Vec::new();
    let mut at_tip = true;
    for line in log.lines() {
        let mut parts = line.split(' ');
        let (Some(full), Some(short), Some(date)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        // A commit that deleted the file has nothing to show.
        let Some(text) = git(root, &["show", &format!("{full}:{STATUS_JSON}")]) else {
            continue;
        };
        if at_tip && text == current {
            continue;
        }
        at_tip = false;
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        points.push(Point::from_json(format!("{date} {short}"), &v));
        if points.len() == HISTORY_COMMITS {
            break;
        }
    }
    points.reverse();
    Some(points)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escaped text with markdown `code` spans as <code>.
fn esc_md(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// 12345 -> "12,345".
pub fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn status_style(status: &str) -> (&'static str, &'static str, &'static str) {
    STATUSES
        .iter()
        .find(|s| s.0 == status)
        .map_or(("unknown", "#eeeeee", "#616161"), |s| (s.1, s.2, s.3))
}

const CSS: &str = "
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;color:#1f2328;background:#fff;margin:0;padding:20px 28px;max-width:1400px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}p.sub{color:#57606a;margin:0 0 14px}code{font:12px/1.3 'DejaVu Sans Mono',monospace;background:#f3f4f6;padding:1px 4px;border-radius:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:110px;background:#f6f8fa}
.card b{display:block;font-size:22px}.card span{color:#57606a;font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0 4px;font-size:13px}
.legend i{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-2px;margin-right:5px;border:2px solid}
.grid{display:flex;flex-wrap:wrap;gap:8px}
.tile{width:214px;border-radius:8px;border:2px solid;padding:7px 9px;box-sizing:border-box}
.tile .n{font-weight:700;font-size:14px}.tile .s{font-size:11px;text-transform:uppercase;letter-spacing:.04em;opacity:.8}
.tile .f{font-size:12px;margin-top:3px}.ok{color:#1b5e20;font-weight:700}.slow{color:#e65100;font-weight:700}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.r{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:9px;border-radius:2px;vertical-align:middle;margin-right:6px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid #d0d7de;border-radius:8px;padding:6px}
";

/// A line chart of `series` (name, colour, values) over `labels`.
fn line_chart(title: &str, labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let (w, h) = (540.0, 230.0);
    let (left, right, top, bottom) = (58.0, 16.0, 30.0, 42.0);
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(0.0, f64::max);
    // A round upper bound: 1, 2 or 5 times a power of ten, 4 gridlines.
    let step = {
        let raw = (max / 4.0).max(1.0);
        let pow = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * pow)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * pow)
    };
    let ymax = step * 4.0;
    let n = labels.len();
    let x = |i: usize| {
        if n <= 1 {
            left + (w - left - right) / 2.0
        } else {
            left + (w - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / ymax);
    let mut svg = format!(
        "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"{left}\" y=\"18\" font-size=\"13\" font-weight=\"700\" fill=\"#1f2328\">{t}</text>",
        t = esc(title)
    );
    for k in 0..=4 {
        let v = step * k as f64;
        let yy = y(v);
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
            w - right,
            left - 6.0,
            yy + 4.0,
            thousands(v)
        );
    }
    // Date labels: first, last and a few between.
    let every = n.div_ceil(5).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let date = label.split(' ').next().unwrap_or("");
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>",
                x(i),
                h - bottom + 16.0,
                esc(date)
            );
        }
    }
    let mut lx = left;
    for (name, colour, values) in series {
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\" points=\"{}\"/>",
            pts.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {} {}</title></circle>",
                x(i),
                y(*v),
                esc(&labels[i]),
                thousands(*v),
                esc(name)
            );
        }
        let _ = write!(
            svg,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1f2328\">{}</text>",
            h - 13.0,
            lx + 16.0,
            h - 8.0,
            esc(name)
        );
        lx += 30.0 + 7.0 * name.len() as f64;
    }
    svg.push_str("</svg>");
    svg
}

fn history_section(history: Option<&[Point]>, now: &Point) -> String {
    let mut s = String::from(HISTORY_BEGIN);
    s.push_str("\n<h2>History</h2>\n");
    let Some(history) = history else {
        s.push_str("<p class=\"sub\">History unavailable: this tree has no full git history (a shallow clone or no git). Run <code>make status</code> in a full clone to draw it.</p>\n");
        s.push_str(HISTORY_END);
        return s;
    };
    let mut points: Vec<Point> = history.to_vec();
    points.push(now.clone());
    let _ = writeln!(
        s,
        "<p class=\"sub\">The committed migration-status.json of the last {} commits that changed it (of at most {HISTORY_COMMITS}, from <code>git log</code>), and this tree (“now”).</p>",
        history.len()
    );
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let series = |f: fn(&Point) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    s.push_str("<div class=\"charts\">");
    s.push_str(&line_chart(
        "Lines of code",
        &labels,
        &[
            ("C lines", "#c62828", series(|p| p.c_lines)),
            ("Rust lines", "#1565c0", series(|p| p.rust_lines)),
        ],
    ));
    s.push_str(&line_chart(
        "Modules at parity",
        &labels,
        &[
            ("modules", "#9e9e9e", series(|p| p.modules as f64)),
            ("at parity", "#2e7d32", series(|p| p.parity as f64)),
        ],
    ));
    s.push_str(&line_chart(
        "Differential tests passed, unsafe",
        &labels,
        &[
            ("tests passed", "#f9a825", series(|p| p.tests_passed)),
            ("unsafe", "#6a1b9a", series(|p| p.unsafe_count)),
        ],
    ));
    s.push_str("</div>\n<table><tr><th>commit</th><th>modules</th><th>at parity</th><th>C lines</th><th>Rust lines</th><th>unsafe</th><th>differential tests passed</th></tr>\n");
    for p in points.iter().rev() {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
            esc(&p.label),
            p.modules,
            p.parity,
            thousands(p.c_lines),
            thousands(p.rust_lines),
            thousands(p.unsafe_count),
            thousands(p.tests_passed)
        );
    }
    s.push_str("</table>\n");
    s.push_str(HISTORY_END);
    s
}

/// The page for the dashboard `json` (migration-status.json's text), with
/// `history` (None: unavailable).
pub fn render(root: &Path, json: &str, history: Option<&[Point]>) -> Result<String, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("{STATUS_JSON}: {e}"))?;
    let bench: BenchRecord = match fs::read_to_string(root.join("measurements/bench.json")) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("measurements/bench.json: {e}"))?,
        Err(_) => BenchRecord::default(),
    };
    let e2e = crate::e2e_table::table(root)?;
    let now = Point::from_json("now".into(), &v);
    let modules = v["modules"].as_array().cloned().unwrap_or_default();
    let count = |s: &str| modules.iter().filter(|m| m["status"] == s).count();
    let failed: f64 = modules
        .iter()
        .filter_map(|m| m["parity_tests"]["failed"].as_f64())
        .sum();

    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>mtproxy migration status</title>\n<style>");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n<h1>mtproxy: C → Rust migration status</h1>\n");
    h.push_str("<p class=\"sub\">Generated by <code>make status</code> (<code>cargo xtask status</code>) from migration.toml, the tree and measurements/; the same figures as MIGRATION_STATUS.md. Do not edit: CI fails when this page is stale.</p>\n");
    h.push_str("<div class=\"cards\">");
    let cards = [
        (now.modules.to_string(), "modules"),
        (count("parity").to_string(), "at parity"),
        (count("rust-only").to_string(), "Rust only"),
        (count("rust-in-progress").to_string(), "in progress"),
        (count("c-retired").to_string(), "C retired"),
        (thousands(now.c_lines), "C lines"),
        (thousands(now.rust_lines), "Rust lines"),
        (thousands(now.unsafe_count), "unsafe"),
        (thousands(now.tests_passed), "differential tests passed"),
        (thousands(failed), "failed"),
    ];
    for (value, label) in cards {
        let _ = write!(
            h,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(label)
        );
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<p class=\"sub\">Each property runs {} random cases. Rust lines = core + FFI shim + sys wrapper; unsafe counts the keyword in the shim and wrapper. Bench = Rust time / C time, worst over the module's benchmarks (≤ 1.00: Rust at least as fast).</p>",
        v["cases_per_property"].as_u64().unwrap_or(0)
    );

    h.push_str("<h2>Modules</h2>\n<div class=\"legend\">");
    for (_, label, bg, border) in STATUSES {
        let _ = write!(
            h,
            "<span><i style=\"background:{bg};border-color:{border}\"></i>{}</span>",
            esc(label)
        );
    }
    h.push_str("</div>\n");
    let mut groups: Vec<String> = Vec::new();
    for m in &modules {
        let g = m["group"].as_str().unwrap_or("?").to_string();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for g in &groups {
        let _ = writeln!(
            h,
            "<h3>Group <code>{0}</code> (feature <code>rust-{0}</code>)</h3>\n<div class=\"grid\">",
            esc(g)
        );
        for m in modules.iter().filter(|m| m["group"] == g.as_str()) {
            let status = m["status"].as_str().unwrap_or("?");
            let (label, bg, border) = status_style(status);
            let tests = match m["parity_tests"].as_object() {
                Some(p) => format!(
                    "tests {} passed, {} failed",
                    p["passed"].as_u64().unwrap_or(0),
                    p["failed"].as_u64().unwrap_or(0)
                ),
                None => "tests not recorded".into(),
            };
            let bench = m["bench_ratio"].as_f64().map_or(String::new(), |r| {
                let class = if r <= 1.0 { "ok" } else { "slow" };
                format!("<br>bench Rust/C <span class=\"{class}\">{r:.2}</span>")
            });
            let upstream: Vec<&str> = m["upstream"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let tip = format!(
                "upstream: {}{}",
                upstream.join(", "),
                m["note"]
                    .as_str()
                    .map(|n| format!("\n{n}"))
                    .unwrap_or_default()
            );
            let _ = writeln!(
                h,
                "<div class=\"tile\" style=\"background:{bg};border-color:{border}\" title=\"{}\"><div class=\"n\">{}</div><div class=\"s\">{}</div><div class=\"f\">C {} · Rust {} lines<br>unsafe {}{}<br>{}</div></div>",
                esc(&tip),
                esc(m["name"].as_str().unwrap_or("?")),
                esc(label),
                thousands(m["c_lines"].as_f64().unwrap_or(0.0)),
                thousands(m["rust_lines"].as_f64().unwrap_or(0.0)),
                m["unsafe_count"].as_u64().unwrap_or(0),
                bench,
                esc(&tests)
            );
        }
        h.push_str("</div>\n");
    }

    if !bench.groups.is_empty() {
        h.push_str("<h2>Benchmarks (median time per call)</h2>\n");
        if !bench.machine.is_empty() {
            let _ = writeln!(
                h,
                "<p class=\"sub\">Measured on {}.</p>",
                esc(&bench.machine)
            );
        }
        h.push_str("<table><tr><th>benchmark</th><th>input</th><th>C</th><th>Rust</th><th>Rust/C</th></tr>\n");
        for (g, points) in &bench.groups {
            for (label, p) in points {
                let ratio = p.rust_ns / p.c_ns;
                let colour = if ratio <= 1.0 { "#2e7d32" } else { "#ef6c00" };
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td><span class=\"bar\" style=\"width:{:.0}px;background:{colour}\"></span>{ratio:.2}</td></tr>",
                    esc(g),
                    esc(label),
                    fmt_ns(p.c_ns),
                    fmt_ns(p.rust_ns),
                    (ratio * 60.0).min(180.0)
                );
            }
        }
        h.push_str("</table>\n");
    }

    if let Some(e2e) = e2e {
        h.push_str("<h2>End to end: all-C against all-Rust (<code>make perf</code>)</h2>\n");
        let _ = writeln!(h, "<p class=\"sub\">{}</p>", esc_md(&e2e.intro));
        h.push_str("<table><tr><th>scenario</th><th>all-C</th><th>all-Rust</th></tr>\n");
        for (scenario, c, rust) in &e2e.rows {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc_md(scenario),
                esc_md(c),
                esc_md(rust)
            );
        }
        h.push_str("</table>\n");
    }

    let mutants = crate::mutants::load(root)?;
    if !mutants.sides.is_empty() {
        h.push_str("<h2>Mutation score of the protocol cores (<code>make mutants</code>)</h2>\n");
        let _ = writeln!(
            h,
            "<p class=\"sub\">Caught / (caught + missed) on a sample, with its 95 % interval; target {:.0} % per side. Survivors and the equivalent mutants left out: MIGRATION_STATUS.md.</p>",
            crate::mutants::TARGET_PERCENT
        );
        h.push_str("<table><tr><th>side</th><th>last run</th><th>sample</th><th>caught</th><th>missed</th><th>score</th><th>95 % interval</th><th>target</th></tr>\n");
        for (side, r) in &mutants.sides {
            let [score, interval, verdict] = crate::mutants::score_cells(r);
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(crate::mutants::side_label(side)),
                esc(&r.date),
                esc(&r.sample),
                r.caught,
                r.missed,
                esc(&score),
                esc(&interval),
                esc(&verdict)
            );
        }
        h.push_str("</table>\n");
    }

    h.push_str(&history_section(history, &now));
    h.push_str("\n</body>\n</html>\n");
    Ok(h)
}

/// The page without its history section (what `--check` compares when the
/// history cannot be read).
fn without_history(page: &str) -> String {
    match (page.find(HISTORY_BEGIN), page.find(HISTORY_END)) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &page[..a], &page[b..]),
        _ => page.to_string(),
    }
}

/// Write (or check) MIGRATION_STATUS.html for the dashboard `json`.
pub fn write_or_check(
    root: &Path,
    json: &str,
    check: bool,
    stale: &mut Vec<String>,
) -> Result<(), String> {
    let history = history(root, json);
    let page = render(root, json, history.as_deref())?;
    let path = root.join(HTML_FILE);
    if check && history.is_none() {
        eprintln!("xtask: no full git history here, so {HTML_FILE} is checked without its history section");
        let current = fs::read_to_string(&path).unwrap_or_default();
        if without_history(&current) != without_history(&page) {
            stale.push(path.display().to_string());
        }
        return Ok(());
    }
    write_or_compare(&path, &page, check, stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::repo_root;
    use std::path::PathBuf;

    /// Decodes a PNG with python3's standard library (see pngstat.py).
    const PNGSTAT: &str = include_str!("pngstat.py");

    struct TempDir(PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            fs::remove_dir_all(&self.0).ok();
        }
    }

    /// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh)
    /// on `page`; `mode` is `--dump-dom` or `--screenshot=<png>`.
    fn chromium(dir: &Path, page: &Path, mode: &str) -> String {
        let out = Command::new("timeout")
            .arg("120")
            .arg("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg("--window-size=1200,1600")
            .arg(mode)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("run chromium (scripts/setup.sh installs it)");
        assert!(
            out.status.success(),
            "chromium {mode} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The page's text: tags dropped, entities of `esc` undone.
    fn text_of(dom: &str) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for ch in dom.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    #[test]
    fn page_renders_in_chromium_with_its_figures() {
        let root = repo_root();
        let json = fs::read_to_string(root.join(STATUS_JSON)).unwrap();
        let v: Value = serde_json::from_str(&json).unwrap();
        let hist = history(&root, &json);
        let page = render(&root, &json, hist.as_deref()).unwrap();
        let dir = TempDir(std::env::temp_dir().join(format!("xtask-html-{}", std::process::id())));
        fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join("status.html");
        fs::write(&file, &page).unwrap();

        // The figures, as the browser sees the page.
        let text = text_of(&chromium(&dir.0, &file, "--dump-dom"));
        let now = Point::from_json("now".into(), &v);
        let mut expected = vec![
            format!("{} C lines", thousands(now.c_lines)),
            format!("{} Rust lines", thousands(now.rust_lines)),
            format!("{} unsafe", thousands(now.unsafe_count)),
            format!("{} at parity", now.parity),
            format!("{} differential tests passed", thousands(now.tests_passed)),
        ];
        for m in v["modules"].as_array().unwrap() {
            expected.push(format!(
                "{} {} C {} · Rust {} lines",
                m["name"].as_str().unwrap(),
                status_style(m["status"].as_str().unwrap()).0,
                thousands(m["c_lines"].as_f64().unwrap()),
                thousands(m["rust_lines"].as_f64().unwrap()),
            ));
        }
        if let Some(e2e) = crate::e2e_table::table(&root).unwrap() {
            for (scenario, c, rust) in e2e.rows {
                expected.push(format!("{scenario}  {c}  {rust}"));
            }
        }
        for (side, r) in crate::mutants::load(&root).unwrap().sides {
            let [score, interval, verdict] = crate::mutants::score_cells(&r);
            let label = crate::mutants::side_label(&side);
            expected.push(format!("{label}  {}  {}", r.date, r.sample));
            expected.push(format!("{score}  {interval}  {verdict}"));
        }
        match &hist {
            Some(points) => {
                expected.push("Lines of code".into());
                for p in points {
                    expected.push(p.label.clone());
                }
            }
            None => expected.push("History unavailable".into()),
        }
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for want in expected {
            let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&want), "page text lacks `{want}`");
        }

        // The screenshot is a page, not a blank: many colours, a good share
        // of non-white pixels, and the tiles in their status colours.
        let png = dir.0.join("page.png");
        chromium(&dir.0, &file, &format!("--screenshot={}", png.display()));
        let script = dir.0.join("pngstat.py");
        fs::write(&script, PNGSTAT).unwrap();
        let mut colours = Vec::new();
        for (status, _, bg, _) in STATUSES {
            if v["modules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["status"] == *status)
            {
                colours.push(bg.trim_start_matches('#').to_string());
            }
        }
        let out = Command::new("python3")
            .arg(&script)
            .arg(&png)
            .args(&colours)
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "pngstat: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stat: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (stat["width"].as_u64(), stat["height"].as_u64()),
            (Some(1200), Some(1600))
        );
        assert!(stat["colours"].as_u64().unwrap() >= 50, "{stat}");
        let non_white = stat["non_white"].as_f64().unwrap();
        assert!((0.05..0.95).contains(&non_white), "{stat}");
        for c in &colours {
            assert!(
                stat["count"][c].as_u64().unwrap() >= 5000,
                "status colour #{c} barely on screen: {stat}"
            );
        }
    }

    #[test]
    fn history_section_is_masked_only_between_its_markers() {
        let page = format!("a{HISTORY_BEGIN}b{HISTORY_END}c");
        assert_eq!(without_history(&page), format!("a{HISTORY_END}c"));
        assert_eq!(without_history("abc"), "abc");
    }

    #[test]
    fn figures_format() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(15366.0), "15,366");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(esc_md("a `b<c` d"), "a <code>b&lt;c</code> d");
    }
}
