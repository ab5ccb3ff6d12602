#!/usr/bin/env python3
"""The equivalent-mutants list (scripts/equivalent-mutants.toml) for `make mutants`.

An entry names one mutation site by file, the trimmed text of its line, the
column and the operator; the line number is informative only (the site is
found by its text, so edits elsewhere in the file do not make it stale). An
entry that matches no line is an error, and so is one that matches several
unless its line number is one of them: the list must say exactly what it
excludes.

Used by scripts/mutate-c.py (C sites are left out of the sample) and, as a
command, by scripts/mutants.sh:

    equivalent_mutants.py rust-exclude   # cargo-mutants --exclude-re arguments
    equivalent_mutants.py rust-json OUT  # the resolved Rust entries, for the record
"""
import json
import os
import re
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = "scripts/equivalent-mutants.toml"


def load():
    """Every entry, resolved: dict with file, line (current), col, operator, reason, name."""
    with open(os.path.join(ROOT, LIST), "rb") as f:
        entries = tomllib.load(f).get("mutant", [])
    resolved = []
    for e in entries:
        for key in ("file", "line", "col", "operator", "code", "reason"):
            if key not in e:
                sys.exit(f"{LIST}: an entry lacks `{key}`: {e}")
        with open(os.path.join(ROOT, e["file"])) as f:
            lines = [l.strip() for l in f.read().split("\n")]
        at = [n + 1 for n, l in enumerate(lines) if l == e["code"].strip()]
        if len(at) > 1 and e["line"] in at:
            # The same text on several lines: the entry's line picks one.
            at = [e["line"]]
        if len(at) != 1:
            sys.exit(f"{LIST}: `{e['code']}` is on {len(at)} lines of {e['file']} "
                     "(must be exactly one, or several with `line` naming one: "
                     "fix or remove the entry)")
        resolved.append(dict(e, line=at[0],
                             name=f"{e['file']}:{at[0]}:{e['col']}: {e['operator']}"))
    return resolved


def is_equivalent(entries, path, line, col, kind):
    """Whether the C site (path, 1-based line, 1-based col, rule kind) is listed."""
    return any(e["file"] == path and e["line"] == line and e["col"] == col
               and e["operator"] == kind for e in entries)


def rust_entries(entries):
    return [e for e in entries if e["file"].endswith(".rs")]


def main():
    entries = load()
    if sys.argv[1:] == ["rust-exclude"]:
        # cargo-mutants names a mutant `file:line:col: replace X with Y in fn`.
        for e in rust_entries(entries):
            print("--exclude-re")
            print("^" + re.escape(f"{e['file']}:{e['line']}:{e['col']}: {e['operator']}"))
    elif len(sys.argv) == 3 and sys.argv[1] == "rust-json":
        with open(sys.argv[2], "w") as f:
            json.dump([{"name": e["name"], "reason": e["reason"]} for e in rust_entries(entries)],
                      f, indent=2)
            f.write("\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
