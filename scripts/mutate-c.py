#!/usr/bin/env python3
"""Mutation testing of the C protocol cores (`make mutants`, scripts/mutants.sh).

Operator and boundary flips (`<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`,
`&&` <-> `||`, `+ 1` <-> `- 1`, a comparison's integer constant +1) in
c-legacy/net/*.c, c-legacy/mtproto/rpc-proxy-msg.c and mtproto-config.c, one
at a time, on a sample drawn with a seed: each mutant is written into the
tree, compiled and run against `cargo test -p parity-tests --test parity
<module>` (the module's differential tests), and the file is restored. A build
failure is `unviable`, a test failure `caught`, a pass `missed` (a survivor),
over --timeout seconds `timeout`. Results go to <out>/outcomes.json for
`cargo xtask mutants-record`.

Usage: scripts/mutate-c.py [--count N] [--seed S] [--out DIR] [--list]
"""
import argparse
import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = sorted(glob.glob("c-legacy/net/*.c", root_dir=ROOT)) + [
    "c-legacy/mtproto/rpc-proxy-msg.c",
    "c-legacy/mtproto/mtproto-config.c",
]

# (pattern, replacement, kind). Patterns avoid `<<`, `>>`, `->`, `<=`/`>=`
# prefixes and `+=`-style assignments.
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
    (r"(?<=[<>=] )(\d+)\b(?!\.)", None, "constant + 1"),
]


def module_of(path):
    """The parity test filter of the module owning a C file."""
    with open(os.path.join(ROOT, "migration.toml"), "rb") as f:
        manifest = tomllib.load(f)
    for m in manifest["module"]:
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


def candidates():
    """Every mutation site: (file, line number, column, kind, old, new)."""
    sites = []
    for path in FILES:
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
                        old = m.group(0)
                        repl = str(int(old) + 1) if new is None else new
                        sites.append((path, n + 1, a + m.start(), kind, old, repl))
    return sites


def name(site):
    path, line, col, kind, old, new = site
    return f"{path}:{line}:{col + 1}: {kind} (`{old}` -> `{new}`)"


def run(cmd, timeout):
    """(returncode or None on timeout, output tail)."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors="replace")[-2000:]
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.strftime("%j")))
    ap.add_argument("--out", default="target/mutants/c")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    sites = candidates()
    if args.list:
        for s in sites:
            print(name(s))
        return
    sample = random.Random(args.seed).sample(sites, min(args.count, len(sites)))
    sample.sort()
    env_cases = os.environ.get("PROPTEST_CASES", "32")
    os.environ["PROPTEST_CASES"] = env_cases
    # The unmutated tree first: the oracle must pass, and the C copy is built.
    rc, out = run(["cargo", "test", "-q", "-p", "parity-tests", "--test", "parity", "--no-run"], 3600)
    if rc != 0:
        sys.exit(f"mutate-c: the unmutated tree does not build:\n{out}")
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
            rc, out = run(["cargo", "build", "-q", "-p", "parity-tests", "--tests"], args.timeout)
            if rc != 0:
                outcome = "timeout" if rc is None else "unviable"
            else:
                rc, out = run(["cargo", "test", "-q", "-p", "parity-tests", "--test", "parity",
                               "--", module], args.timeout)
                outcome = "timeout" if rc is None else ("missed" if rc == 0 else "caught")
        finally:
            with open(full, "w") as f:
                f.write(original)
        print(f"mutate-c: [{i + 1}/{len(sample)}] {outcome:8} {name(site)} "
              f"({time.time() - started:.0f}s)", flush=True)
        outcomes.append({"name": name(site), "outcome": outcome, "module": module})
    # Rebuild the restored tree, so nothing mutated stays in target/.
    run(["cargo", "build", "-q", "-p", "parity-tests", "--tests"], 3600)
    os.makedirs(os.path.join(ROOT, args.out), exist_ok=True)
    with open(os.path.join(ROOT, args.out, "outcomes.json"), "w") as f:
        json.dump({
            "sample": f"{len(sample)} of {len(sites)} mutation sites in {len(FILES)} files "
                      f"(seed {args.seed}), PROPTEST_CASES={env_cases}",
            "outcomes": outcomes,
        }, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
