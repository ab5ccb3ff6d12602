//! The C side of this suite really is the C code: every contract function's
//! renamed copy `cref_mtp_*` is defined in this very test binary, from a
//! source file under `c-legacy/`, and every plain `mtp_*` that is defined
//! comes from the Rust shims (`mtproxy_sys::c` is the Rust side here), at
//! another address. Read from the binary's own symbol table (`nm`) and debug
//! line info (`addr2line`), so a `cref` wrapper bound to the wrong symbol, a
//! C file left out of the reference build or a C object exporting an
//! unrenamed contract symbol turns this test red.
use std::collections::HashMap;
use std::process::Command;

/// The contract's function names, from bindgen's view of the headers.
fn contract_functions() -> Vec<&'static str> {
    let bindings = include_str!("../../rust/mtproxy-sys/src/bindings.rs");
    let names: Vec<&str> = bindings
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub fn mtp_"))
        .filter_map(|rest| rest.split('(').next())
        .collect();
    assert!(names.len() > 100, "contract list looks truncated");
    names
}

/// Runs a binutils tool on this binary (without the sanitizer preload the
/// ASan runner sets, which is meant for the tests only).
fn tool(name: &str, args: &[String]) -> String {
    let out = Command::new(name)
        .args(args)
        .env_remove("LD_PRELOAD")
        .output()
        .unwrap_or_else(|e| panic!("running {name}: {e}"));
    assert!(out.status.success(), "{name} failed: {:?}", out.status);
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

/// The `cref` wrappers call bindgen's declarations in bindings_cref.rs:
/// each must be bound to the renamed symbol of the same function (a plain
/// `mtp_*` link name there would make `cref` call the Rust side here).
#[test]
fn cref_declarations_bind_the_renamed_symbols() {
    let cref = include_str!("../../rust/mtproxy-sys/src/bindings_cref.rs");
    let mut link_name = None;
    let mut bound = 0;
    for line in cref.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#[link_name = \"") {
            link_name = Some(rest.trim_start_matches("\\u{1}").trim_end_matches("\"]"));
        } else if let Some(rest) = line.strip_prefix("pub fn ") {
            let name = rest.split('(').next().unwrap();
            let want = format!("cref_{name}");
            assert_eq!(
                link_name.take(),
                Some(want.as_str()),
                "declaration of {name}"
            );
            bound += 1;
        }
    }
    assert_eq!(
        bound,
        contract_functions().len(),
        "declarations vs contract"
    );
}

#[test]
fn cref_symbols_are_the_c_code_and_plain_ones_are_not() {
    let exe = std::env::current_exe().unwrap().display().to_string();
    // name -> (address, type letter) of every defined symbol.
    let mut defined: HashMap<String, (u64, char)> = HashMap::new();
    for line in tool("nm", &["--defined-only".into(), exe.clone()]).lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(kind), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if let (Ok(addr), Some(kind)) = (u64::from_str_radix(addr, 16), kind.chars().next()) {
            defined.insert(name.to_string(), (addr, kind));
        }
    }

    let mut problems = Vec::new();
    // Addresses to place in source files, and what each must be.
    let mut to_locate: Vec<(String, u64, bool)> = Vec::new();
    for f in contract_functions() {
        let plain = format!("mtp_{f}");
        let cref = format!("cref_mtp_{f}");
        match defined.get(&cref) {
            Some(&(addr, 'T')) => to_locate.push((cref.clone(), addr, true)),
            Some(&(_, kind)) => problems.push(format!("{cref} is '{kind}', not a global function")),
            None => problems.push(format!("{cref} is not defined in the test binary")),
        }
        if let Some(&(addr, _)) = defined.get(&plain) {
            if defined.get(&cref).is_some_and(|c| c.0 == addr) {
                problems.push(format!("{plain} and {cref} are one address"));
            }
            to_locate.push((plain, addr, false));
        }
    }
    assert!(
        to_locate.iter().any(|s| !s.2),
        "no plain mtp_* symbol defined: mtproxy-ffi's Rust exports missing?"
    );

    let mut args = vec!["-e".to_string(), exe];
    args.extend(to_locate.iter().map(|s| format!("{:#x}", s.1)));
    let places = tool("addr2line", &args);
    let places: Vec<&str> = places.lines().collect();
    assert_eq!(places.len(), to_locate.len(), "addr2line answers");
    for ((name, _, is_c), place) in to_locate.iter().zip(places) {
        let from_c = place.contains("/c-legacy/");
        if *is_c && !from_c {
            problems.push(format!("{name} comes from {place}, not from c-legacy/"));
        }
        if !*is_c && (from_c || !place.contains("/rust/mtproxy-ffi/")) {
            problems.push(format!(
                "{name} comes from {place}, not from rust/mtproxy-ffi/"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
