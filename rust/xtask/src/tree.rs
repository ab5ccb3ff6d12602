//! What the dashboard counts in the tree: a module's files, their code lines
//! and `unsafe` keywords.
use mtproxy_build::Module;
use std::fs;
use std::path::Path;

/// Non-blank, non-comment-only lines.
pub fn code_lines(root: &Path, file: &str) -> usize {
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
pub fn unsafe_count(root: &Path, file: &str) -> usize {
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
pub fn sys_api_file(m: &Module) -> String {
    format!("rust/mtproxy-sys/src/api/{}.rs", m.stem())
}

/// The Rust core's files: the file itself, or every `.rs` file of its
/// directory when the core is a `mod.rs` (the runtime modules).
pub fn core_files(root: &Path, core: &str) -> Vec<String> {
    if !core.ends_with("/mod.rs") {
        return vec![core.to_string()];
    }
    rust_files_under(root, Path::new(core).parent().unwrap_or(Path::new("")))
}

/// Every `.rs` file under `dir`, as paths relative to `root`.
pub fn rust_files_under(root: &Path, dir: &Path) -> Vec<String> {
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
