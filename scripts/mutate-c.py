#!/usr/bin/env python3
"""Mutation testing of the C protocol cores (`make mutants`, scripts/mutants.sh).

Operator and boundary flips (`<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`,
`&&` <-> `||`, `+ 1` <-> `- 1`, a comparison's integer constant +1) in the C
files of the protocol cores: the modules whose Rust core is in mtproxy-core's
`net/` or `mtproto/` (the scope cargo-mutants samples on the Rust side), read
from migration.toml. One at a time, on a sample drawn with a seed: each
mutant is written into the tree, compiled and run against `cargo test -p
parity-tests --test parity <module>` (the module's differential tests, the
C copy under ASan + UBSan as `make asan` runs them), and the file is
restored. A build failure is `unviable`, a test failure
`caught`, a pass `missed` (a survivor), over --timeout seconds `timeout`.
Sites listed in scripts/equivalent-mutants.toml are left out of the sample
(and listed in the result). Results go to <out>/outcomes.json for `cargo
xtask mutants-record`.

Usage: scripts/mutate-c.py [--count N | --all | --rerun OUTCOMES] [--seed S] [--out DIR]
                           [--file PATH]... [--match REGEX] [--list]
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import tomllib

import equivalent_mutants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUST_CORES = ("rust/mtproxy-core/src/net/", "rust/mtproxy-core/src/mtproto/")


def manifest_modules():
    with open(os.path.join(ROOT, "migration.toml"), "rb") as f:
        return tomllib.load(f)["module"]


def core_files():
    """The C files of the modules whose Rust core cargo-mutants samples."""
    return sorted(f for m in manifest_modules() if m["rust_core"].startswith(RUST_CORES)
                  for f in m["c_files"])

# (pattern, replacement, kind); a group named `x` is the part replaced (else
# the whole match). Patterns avoid `<<`, `>>`, `->`, `<=`/`>=` prefixes and
# `+=`-style assignments. Constants are bumped in comparisons only: a bumped
# flag assignment (`x = 1` -> `x = 2`) is nearly always equivalent, a bumped
# comparison constant is the boundary a test should pin.
RULES = [
    (r"(?<![<>=!-])<(?![<=])", "<=", "< to <="),
    (r"<=", "<", "<= to <"),
    (r"(?<![<>=-])>(?![>=])", ">=", "> to >="),
    (r"(?<!>)>=", ">", ">= to >"),
    (r"==", "!=", "== to !="),
    (r"!=", "==", "!= to =="),
    (r"&&", "||", "&& to ||"),
    (r"\|\|", "&&", "|| to &&"),
    (r"\+ 1\b", "- 1", "+ 1 to - 1"),
    (r"(?<![-\w])- 1\b", "+ 1", "- 1 to + 1"),
    (r"(?:(?<![<>])[<>]=?|[=!]=) (?P<x>\d+)\b(?!\.)", None, "constant + 1"),
]


def module_of(path):
    """The parity test filter of the module owning a C file."""
    for m in manifest_modules():
        if path in m["c_files"]:
            return os.path.splitext(os.path.basename(m["parity"]))[0]
    raise SystemExit(f"mutate-c: {path} belongs to no module")


def code_spans(line):
    """Parts of a line outside string/char literals and // comments."""
    spans, start, i, quote = [], 0, 0, None
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote, start = None, i + 1
        elif c in "\"'":
            spans.append((start, i))
            quote = c
        elif line.startswith("//", i) or line.startswith("/*", i):
            spans.append((start, i))
            return spans
        i += 1
    if not quote:
        spans.append((start, len(line)))
    return spans


def candidates(files):
    """Every mutation site: (file, line number, column, kind, old, new)."""
    sites = []
    for path in files:
        with open(os.path.join(ROOT, path)) as f:
            lines = f.read().split("\n")
        in_comment = False
        for n, line in enumerate(lines):
            s = line.strip()
            if in_comment:
                in_comment = "*/" not in s
                continue
            if s.startswith("/*"):
                in_comment = "*/" not in s
                continue
            if s.startswith(("#", "*", "//")) or "#include" in s:
                continue
            for a, b in code_spans(line):
                for pat, new, kind in RULES:
                    for m in re.finditer(pat, line[a:b]):
                        g = "x" if "x" in m.groupdict() else 0
                        old = m.group(g)
                        repl = str(int(old) + 1) if new is None else new
                        sites.append((path, n + 1, a + m.start(g), kind, old, repl))
    return sites


def source_line(path, line):
    with open(os.path.join(ROOT, path)) as f:
        return f.read().split("\n")[line - 1]


def name(site):
    path, line, col, kind, old, new = site
    return f"{path}:{line}:{col + 1}: {kind} (`{old}` -> `{new}`)"


# The oracle is the differential suite as `make asan` runs it (part of `make
# test`): the C copy under ASan + UBSan, so a mutant that reads or writes out
# of bounds is caught even when its wrong bytes go unnoticed.
SANITIZED = {
    "MTP_SANITIZE": "1",
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER": os.path.join(ROOT, "scripts/asan-runner.sh"),
}


def run(cmd, timeout):
    """(returncode or None on timeout, output tail)."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True, env=dict(os.environ, **SANITIZED))
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors="replace")[-2000:]
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, ""


def build(timeout):
    """The parity binary (C copy included): (returncode or None, output tail)."""
    return run(["cargo", "test", "-q", "-p", "parity-tests", "--test", "parity", "--no-run"],
               timeout)


def oracle(modules, timeout):
    return run(["cargo", "test", "-q", "-p", "parity-tests", "--test", "parity", "--", *modules],
               timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.strftime("%j")))
    ap.add_argument("--out", default="target/mutants/c")
    ap.add_argument("--timeout", type=int, default=300, help="per oracle run at most, seconds")
    ap.add_argument("--file", action="append", help="sample from this file only (repeatable)")
    ap.add_argument("--all", action="store_true", help="every site of the files, not a sample")
    ap.add_argument("--rerun", help="only the survivors of this earlier outcomes.json")
    ap.add_argument("--match", help="only sites whose source line matches this regex")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    files = core_files()
    if args.file:
        unknown = set(args.file) - set(files)
        if unknown:
            sys.exit(f"mutate-c: not a protocol core file: {sorted(unknown)} (cores: {files})")
        files = sorted(args.file)
    equivalent = [e for e in equivalent_mutants.load() if e["file"] in files]
    sites = [s for s in candidates(files)
             if not equivalent_mutants.is_equivalent(equivalent, s[0], s[1], s[2] + 1, s[3])]
    if args.match:
        pattern = re.compile(args.match)
        sites = [s for s in sites if pattern.search(source_line(s[0], s[1]))]
    if args.list:
        for s in sites:
            print(name(s))
        return
    if args.rerun:
        with open(args.rerun) as f:
            missed = {o["name"] for o in json.load(f)["outcomes"] if o["outcome"] == "missed"}
        sample = [s for s in sites if name(s) in missed]
    elif args.all:
        sample = list(sites)
    else:
        sample = random.Random(args.seed).sample(sites, min(args.count, len(sites)))
    sample.sort()
    env_cases = os.environ.get("PROPTEST_CASES", "32")
    os.environ["PROPTEST_CASES"] = env_cases
    # The unmutated tree first: it builds and passes the oracle, or every
    # mutant would count as caught.
    modules = sorted({module_of(s[0]) for s in sample})
    rc, out = build(3600)
    if rc != 0:
        sys.exit(f"mutate-c: the unmutated tree does not build:\n{out}")
    # Each module's unmutated oracle time sets its mutants' limit: ten times
    # that (at least 30 s, at most --timeout), so a mutant that loops costs
    # seconds, not the full --timeout.
    limit = {}
    for module in modules:
        started = time.time()
        rc, out = oracle([module], 3600)
        if rc != 0:
            sys.exit(f"mutate-c: the unmutated tree fails {module}:\n{out}")
        limit[module] = min(args.timeout, max(30, 10 * (time.time() - started)))
    outcomes = []
    for i, site in enumerate(sample):
        path, line, col, kind, old, new = site
        full = os.path.join(ROOT, path)
        with open(full) as f:
            original = f.read()
        lines = original.split("\n")
        text = lines[line - 1]
        lines[line - 1] = text[:col] + new + text[col + len(old):]
        module = module_of(path)
        started = time.time()
        try:
            with open(full, "w") as f:
                f.write("\n".join(lines))
            # The build is not the mutant's time: a loaded machine must not
            # turn a slow compile into a `timeout`.
            rc, out = build(3600)
            if rc != 0:
                outcome = "unviable"
            else:
                rc, out = oracle([module], limit[module])
                outcome = "timeout" if rc is None else ("missed" if rc == 0 else "caught")
        finally:
            with open(full, "w") as f:
                f.write(original)
        print(f"mutate-c: [{i + 1}/{len(sample)}] {outcome:8} {name(site)} "
              f"({time.time() - started:.0f}s)", flush=True)
        outcomes.append({"name": name(site), "outcome": outcome, "module": module})
    # Rebuild the restored tree, so nothing mutated stays in target/.
    build(3600)
    os.makedirs(os.path.join(ROOT, args.out), exist_ok=True)
    with open(os.path.join(ROOT, args.out, "outcomes.json"), "w") as f:
        json.dump({
            "sample": f"{len(sample)} of {len(sites)} mutation sites in {len(files)} files "
                      f"(seed {args.seed}), PROPTEST_CASES={env_cases}",
            "outcomes": outcomes,
            "equivalent": [{"name": e["name"], "reason": e["reason"]} for e in equivalent],
        }, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
