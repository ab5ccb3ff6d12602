//! The operator kit in deploy/ (README "Running as a service"): the systemd
//! unit and the container recipe are checked here, so they cannot drift from
//! the binary's options. `systemd-analyze verify` runs where the machine has
//! it; the container recipe is checked by its structure (no engine needed).
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const UNIT: &str = "deploy/mtproxy.service";
const RECIPE: &str = "deploy/Dockerfile";
const BUILD_SCRIPT: &str = "deploy/build-image.sh";

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Logical lines: comments dropped, `\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.starts_with('#') || line.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    lines
}

/// `[Section]` → key → every value given (systemd keys may repeat).
fn unit_keys(text: &str) -> HashMap<String, HashMap<String, Vec<String>>> {
    let mut sections: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    let mut section = String::new();
    for line in logical_lines(text) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            let values = sections.entry(section.clone()).or_default();
            values
                .entry(key.trim().to_string())
                .or_default()
                .push(value.trim().to_string());
        } else {
            panic!("{UNIT}: not a key=value line: {line}");
        }
    }
    sections
}

/// The long options of `mtproxy-rust --help`.
fn known_options() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_mtproxy-rust"))
        .arg("--help")
        .output()
        .expect("run mtproxy-rust --help");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| w.trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn the_unit_runs_unprivileged_hardened_and_with_known_options() {
    let keys = unit_keys(&read(UNIT));
    let service = &keys["Service"];
    let one = |key: &str| -> &str {
        let values = service.get(key).unwrap_or_else(|| panic!("no {key}="));
        values.last().map(String::as_str).unwrap_or_default()
    };
    assert!(
        !["root", "0", ""].contains(&one("User")),
        "User={}",
        one("User")
    );
    assert!(one("AmbientCapabilities").contains("CAP_NET_BIND_SERVICE"));
    let files: u64 = one("LimitNOFILE").parse().expect("LimitNOFILE is a number");
    assert!(files >= 65_536, "LimitNOFILE={files}");
    assert!(one("ExecReload").ends_with("kill -HUP $MAINPID"));
    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ] {
        assert_eq!(one(key), want, "{key}");
    }
    let exec = one("ExecStart");
    assert!(exec.starts_with("/usr/local/bin/mtproxy-rust "), "{exec}");
    let known = known_options();
    for word in exec.split_whitespace() {
        if let Some(option) = word.strip_prefix("--") {
            assert!(
                known.iter().any(|k| k == option),
                "ExecStart uses unknown --{option}"
            );
        }
    }
    assert!(keys["Install"]["WantedBy"].contains(&"multi-user.target".to_string()));
}

#[test]
fn systemd_accepts_the_unit_where_it_can_check() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        println!("skipped: systemd-analyze is not installed on this machine");
        return;
    };
    assert!(probe.status.success());
    // verify wants the binary to exist: point ExecStart at this build's.
    let dir = std::env::temp_dir().join(format!("mtproxy-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let unit = dir.join("mtproxy.service");
    let text = read(UNIT).replace(
        "/usr/local/bin/mtproxy-rust",
        env!("CARGO_BIN_EXE_mtproxy-rust"),
    );
    std::fs::write(&unit, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("run systemd-analyze verify");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // verify exits 0 even for values it ignores: every complaint counts.
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}

#[test]
fn the_container_recipe_is_multi_stage_slim_and_unprivileged() {
    let lines = logical_lines(&read(RECIPE));
    let instruction = |l: &String| {
        l.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_uppercase()
    };
    let stages: Vec<usize> = (0..lines.len())
        .filter(|&i| instruction(&lines[i]) == "FROM")
        .collect();
    assert!(stages.len() >= 2, "one build stage and one runtime stage");
    let runtime = &lines[*stages.last().unwrap()..];
    assert!(
        runtime[0].contains("-slim"),
        "runtime image: {}",
        runtime[0]
    );
    let user = runtime
        .iter()
        .rev()
        .find(|l| instruction(l) == "USER")
        .expect("the runtime stage sets USER");
    let name = user.split_whitespace().nth(1).unwrap_or_default();
    assert!(!["root", "0"].contains(&name), "{user}");
    assert!(runtime
        .iter()
        .any(|l| instruction(l) == "COPY" && l.contains("--from=build")));
    assert!(lines
        .iter()
        .any(|l| l.contains("cargo build") && l.contains("--release") && l.contains("rust-all")));
    for line in &lines {
        assert!(
            !(instruction(line) == "ADD" && line.contains("://")),
            "remote ADD: {line}"
        );
        if line.contains("apt-get install") {
            assert!(line.contains("--no-install-recommends"), "{line}");
            assert!(line.contains("rm -rf /var/lib/apt/lists"), "{line}");
        }
    }
    // The build context leaves out build output (`COPY . .` would copy it).
    let ignored = read(".dockerignore");
    assert!(
        ignored.lines().any(|l| l.trim() == "target"),
        ".dockerignore"
    );
    // The entry point's options are the binary's.
    let entry = runtime
        .iter()
        .find(|l| instruction(l) == "ENTRYPOINT")
        .expect("ENTRYPOINT");
    let known = known_options();
    for option in entry.split('"').filter_map(|w| w.strip_prefix("--")) {
        assert!(known.iter().any(|k| k == option), "unknown --{option}");
    }
}

#[test]
fn the_image_build_script_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg("-n")
        .arg(root.join(BUILD_SCRIPT))
        .status()
        .expect("run bash -n");
    assert!(status.success());
}
