//! Small helpers shared by the xtask commands.
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives at rust/xtask")
        .to_path_buf()
}

/// `cargo metadata --no-deps` of the workspace at `root`.
pub fn cargo_metadata(root: &Path) -> Result<serde_json::Value, String> {
    let out = run(Command::new("cargo").current_dir(root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))?;
    serde_json::from_str(&out).map_err(|e| format!("cargo metadata: {e}"))
}

/// Cargo's real target directory, as `cargo metadata` reports it: it honours
/// `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR` and `build.target-dir`, so
/// built binaries are found wherever cargo put them.
pub fn target_dir(metadata: &serde_json::Value) -> Result<PathBuf, String> {
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".into())
}

/// Run a command, returning its stdout; an error names the command.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Write `text` to `path` (Write mode) or compare it with the file (Check
/// mode), collecting the names of stale files.
pub fn write_or_compare(
    path: &Path,
    text: &str,
    check: bool,
    stale: &mut Vec<String>,
) -> Result<(), String> {
    if check {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != text {
            stale.push(path.display().to_string());
        }
        Ok(())
    } else {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Today's date (UTC), `YYYY-MM-DD`, for measurements that say when they ran.
pub fn today() -> String {
    run(Command::new("date").args(["-u", "+%F"]))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
