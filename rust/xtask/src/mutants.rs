//! Mutation score (`make mutants`, scripts/mutants.sh): `cargo xtask
//! mutants-record` collects the last run of each side into
//! measurements/mutants.json, and the dashboard shows the score per side,
//! the sample it came from and when it ran.
//!
//! Inputs: cargo-mutants' `target/mutants/rust/mutants.out/{caught,missed,
//! timeout,unviable}.txt` (one mutant per line) with the script's
//! `sample.txt` and `equivalent.json`, and scripts/mutate-c.py's
//! `target/mutants/c/outcomes.json`. A side whose output is absent keeps its
//! previous record. Equivalent mutants (scripts/equivalent-mutants.toml) are
//! not sampled; each side's record lists them with the reason, apart from
//! the score.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

pub const MUTANTS_FILE: &str = "measurements/mutants.json";
const RUST_OUT: &str = "target/mutants/rust";
const C_OUT: &str = "target/mutants/c/outcomes.json";

/// One side's last mutation run.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideRecord {
    /// Day of the run, UTC.
    pub date: String,
    /// What was sampled, from how many, with which seed.
    pub sample: String,
    pub caught: u32,
    pub missed: u32,
    pub timeout: u32,
    pub unviable: u32,
    /// The surviving (missed) mutants.
    pub survivors: Vec<String>,
    /// Mutants left out as equivalent, with the argument.
    #[serde(default)]
    pub equivalent: Vec<Equivalent>,
}

/// An excluded mutant: no input can tell it from the original.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equivalent {
    pub name: String,
    pub reason: String,
}

/// The score issue #15 asks of the protocol cores, per side, in percent.
pub const TARGET_PERCENT: f64 = 90.0;

impl SideRecord {
    /// Caught / (caught + missed), in percent; timeouts and unviable
    /// mutants are left out (shown apart).
    pub fn score(&self) -> Option<f64> {
        let tested = self.caught + self.missed;
        (tested > 0).then(|| 100.0 * f64::from(self.caught) / f64::from(tested))
    }

    /// The 95 % Wilson interval of the score, in percent: what a sample of
    /// this size says about the score over every mutant.
    pub fn interval(&self) -> Option<(f64, f64)> {
        let n = f64::from(self.caught + self.missed);
        if n == 0.0 {
            return None;
        }
        let p = f64::from(self.caught) / n;
        let z2 = 1.96f64 * 1.96;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = 1.96 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        Some((100.0 * (centre - half), 100.0 * (centre + half)))
    }

    fn from_outcomes<'a>(
        date: &str,
        sample: &str,
        outcomes: impl IntoIterator<Item = (&'a str, &'a str)>,
        equivalent: Vec<Equivalent>,
    ) -> SideRecord {
        let mut r = SideRecord {
            date: date.into(),
            sample: sample.into(),
            equivalent,
            ..SideRecord::default()
        };
        for (name, outcome) in outcomes {
            match outcome {
                "caught" => r.caught += 1,
                "missed" => {
                    r.missed += 1;
                    r.survivors.push(name.to_string());
                }
                "timeout" => r.timeout += 1,
                _ => r.unviable += 1,
            }
        }
        r.survivors.sort();
        r
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MutantsRecord {
    /// "rust" and "c".
    pub sides: BTreeMap<String, SideRecord>,
}

fn rust_side(root: &Path, date: &str) -> Option<SideRecord> {
    let out = root.join(RUST_OUT).join("mutants.out");
    if !out.is_dir() {
        return None;
    }
    let mut outcomes: Vec<(String, &str)> = Vec::new();
    for kind in ["caught", "missed", "timeout", "unviable"] {
        let text = fs::read_to_string(out.join(format!("{kind}.txt"))).unwrap_or_default();
        outcomes.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| (l.to_string(), kind)),
        );
    }
    let sample = fs::read_to_string(root.join(RUST_OUT).join("sample.txt"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "sample not described".into());
    let equivalent = fs::read_to_string(root.join(RUST_OUT).join("equivalent.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    Some(SideRecord::from_outcomes(
        date,
        &sample,
        outcomes.iter().map(|(n, k)| (n.as_str(), *k)),
        equivalent,
    ))
}

#[derive(Deserialize)]
struct COutcomes {
    sample: String,
    outcomes: Vec<COutcome>,
    #[serde(default)]
    equivalent: Vec<Equivalent>,
}

#[derive(Deserialize)]
struct COutcome {
    name: String,
    outcome: String,
}

fn c_side(root: &Path, date: &str) -> Result<Option<SideRecord>, String> {
    let Ok(text) = fs::read_to_string(root.join(C_OUT)) else {
        return Ok(None);
    };
    let c: COutcomes = serde_json::from_str(&text).map_err(|e| format!("{C_OUT}: {e}"))?;
    Ok(Some(SideRecord::from_outcomes(
        date,
        &c.sample,
        c.outcomes
            .iter()
            .map(|o| (o.name.as_str(), o.outcome.as_str())),
        c.equivalent.clone(),
    )))
}

/// Collect the last run of each side into measurements/mutants.json.
pub fn record(root: &Path) -> Result<(), String> {
    let path = root.join(MUTANTS_FILE);
    let mut record: MutantsRecord = match fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("{MUTANTS_FILE}: {e}"))?,
        Err(_) => MutantsRecord::default(),
    };
    let date = crate::util::today();
    let mut found = false;
    if let Some(r) = rust_side(root, &date) {
        record.sides.insert("rust".into(), r);
        found = true;
    }
    if let Some(c) = c_side(root, &date)? {
        record.sides.insert("c".into(), c);
        found = true;
    }
    if !found {
        return Err("no mutation results under target/mutants/ (run `make mutants`)".into());
    }
    fs::create_dir_all(root.join("measurements")).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&record).unwrap() + "\n";
    fs::write(&path, text).map_err(|e| format!("{MUTANTS_FILE}: {e}"))?;
    println!("recorded {MUTANTS_FILE}");
    Ok(())
}

/// The recorded runs (none when nothing was ever recorded).
pub fn load(root: &Path) -> Result<MutantsRecord, String> {
    let Ok(text) = fs::read_to_string(root.join(MUTANTS_FILE)) else {
        return Ok(MutantsRecord::default());
    };
    serde_json::from_str(&text).map_err(|e| format!("{MUTANTS_FILE}: {e}"))
}

/// The dashboard's section (empty when nothing was ever recorded).
pub fn render(root: &Path) -> Result<String, String> {
    Ok(render_record(&load(root)?))
}

/// One side's row as both dashboards show it: score, 95 % interval and
/// whether it meets [`TARGET_PERCENT`].
pub fn score_cells(r: &SideRecord) -> [String; 3] {
    let verdict = match r.score() {
        Some(s) if s >= TARGET_PERCENT => "met",
        Some(_) => "missed",
        None => "n/a",
    };
    [
        r.score().map_or("n/a".into(), |s| format!("{s:.0}%")),
        r.interval()
            .map_or("n/a".into(), |(lo, hi)| format!("{lo:.0}–{hi:.0}%")),
        verdict.into(),
    ]
}

/// At most this many survivors are listed per side on the dashboard (all of
/// them are in measurements/mutants.json).
const SURVIVORS_SHOWN: usize = 10;

pub fn render_record(record: &MutantsRecord) -> String {
    if record.sides.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n## Mutation score (`make mutants`, not part of `make test`)\n\n\
         Protocol cores only (Rust: mtproxy-core `net/`, `mtproto/` by cargo-mutants; C: `c-legacy/net/*.c`, \
         rpc-proxy-msg.c, mtproto-config.c by scripts/mutate-c.py), on a sample; oracle: the unit tests and the \
         module's differential tests. Score = caught / (caught + missed), with its 95 % (Wilson) interval \
         over the sample; target: {TARGET_PERCENT:.0}% per side. Mutants argued equivalent \
         (scripts/equivalent-mutants.toml) are not sampled and are listed below.\n\n\
         | side | last run | sample | caught | missed | timeout | unviable | score | 95 % interval | target |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (side, r) in &record.sides {
        let [score, interval, verdict] = score_cells(r);
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {score} | {interval} | {verdict} |\n",
            side_label(side),
            r.date,
            r.sample,
            r.caught,
            r.missed,
            r.timeout,
            r.unviable,
        ));
    }
    for (side, r) in &record.sides {
        if r.survivors.is_empty() {
            continue;
        }
        md.push_str(&format!("\nSurviving {} mutants:\n", side_label(side)));
        for s in r.survivors.iter().take(SURVIVORS_SHOWN) {
            md.push_str(&format!("- `{}`\n", s.replace('`', "'")));
        }
        if r.survivors.len() > SURVIVORS_SHOWN {
            md.push_str(&format!(
                "- … {} more in {MUTANTS_FILE}\n",
                r.survivors.len() - SURVIVORS_SHOWN
            ));
        }
    }
    for (side, r) in &record.sides {
        if r.equivalent.is_empty() {
            continue;
        }
        md.push_str(&format!(
            "\nEquivalent {} mutants (not sampled, not scored):\n",
            side_label(side)
        ));
        for e in &r.equivalent {
            md.push_str(&format!("- `{}`: {}\n", e.name.replace('`', "'"), e.reason));
        }
    }
    md
}

pub fn side_label(side: &str) -> &str {
    match side {
        "rust" => "Rust",
        "c" => "C",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_and_survivors_from_outcomes() {
        let r = SideRecord::from_outcomes(
            "2026-01-02",
            "4 of 100",
            [
                ("b.rs:2: replace", "missed"),
                ("a.rs:1: replace", "caught"),
                ("a.rs:9: replace", "missed"),
                ("c.rs:3: replace", "timeout"),
                ("d.rs:4: replace", "unviable"),
                ("e.rs:5: replace", "caught"),
            ],
            vec![],
        );
        assert_eq!((r.caught, r.missed, r.timeout, r.unviable), (2, 2, 1, 1));
        assert_eq!(r.survivors, ["a.rs:9: replace", "b.rs:2: replace"]);
        assert_eq!(r.score(), Some(50.0));
        assert_eq!(SideRecord::default().score(), None);
    }

    #[test]
    fn render_shows_each_side_with_date_sample_and_score() {
        let mut record = MutantsRecord::default();
        assert_eq!(render_record(&record), "");
        let survivors: Vec<String> = (0..12).map(|i| format!("x.c:{i}: `<` -> `<=`")).collect();
        record.sides.insert(
            "c".into(),
            SideRecord {
                date: "2026-01-02".into(),
                sample: "20 of 1535 sites".into(),
                caught: 8,
                missed: 12,
                survivors,
                ..SideRecord::default()
            },
        );
        record.sides.insert(
            "rust".into(),
            SideRecord {
                date: "2026-01-03".into(),
                sample: "20 of 900".into(),
                caught: 19,
                missed: 1,
                survivors: vec!["f.rs:1: replace f -> bool with true".into()],
                equivalent: vec![Equivalent {
                    name: "g.rs:2:3: replace > with >= in g".into(),
                    reason: "the same value either way".into(),
                }],
                ..SideRecord::default()
            },
        );
        let md = render_record(&record);
        assert!(
            md.contains(
                "| C | 2026-01-02 | 20 of 1535 sites | 8 | 12 | 0 | 0 | 40% | 22–61% | missed |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| Rust | 2026-01-03 | 20 of 900 | 19 | 1 | 0 | 0 | 95% | 76–99% | met |"),
            "{md}"
        );
        assert!(md.contains("- `x.c:0: '<' -> '<='`"), "{md}");
        assert!(
            md.contains("- … 2 more in measurements/mutants.json"),
            "{md}"
        );
        assert!(
            md.contains("- `f.rs:1: replace f -> bool with true`"),
            "{md}"
        );
        assert!(
            md.contains(
                "Equivalent Rust mutants (not sampled, not scored):\n\
                 - `g.rs:2:3: replace > with >= in g`: the same value either way\n"
            ),
            "{md}"
        );
        assert!(!md.contains("Equivalent C"), "{md}");
        // Deterministic.
        assert_eq!(md, render_record(&record));
    }
}
