#!/usr/bin/env bash
# `make mutants`: mutation testing of the protocol cores, both sides, on a
# rotating sample; the score goes to measurements/mutants.json and the
# dashboard. Not part of `make test`.
#
# Rust: cargo-mutants (.cargo/mutants.toml) over rust/mtproxy-core/src/net/*
# and mtproto/*, oracle `cargo test -p mtproxy-core -p parity-tests`, filtered
# to the tests whose names contain the mutated file's stem (its unit tests and
# its differential tests; a mutant another module's tests would catch counts
# as missed, so the score is a lower bound).
# C: scripts/mutate-c.py (operator and boundary flips in c-legacy/net/*.c,
# rpc-proxy-msg.c, mtproto-config.c), each mutant compiled and run against
# `cargo test -p parity-tests --test parity <module>`.
#
# Knobs (the defaults run in well under an hour on 2 cores):
#   MUTANTS_RUST=20        Rust mutants sampled (0 = skip the Rust side)
#   MUTANTS_C=20           C mutants sampled (0 = skip the C side)
#   MUTANTS_SEED=<n>       sample seed; default: day of the year, so the sample rotates daily
#   MUTANTS_RUST_FILES=... Rust files to sample from (default: every net/ and mtproto/ core)
#   MUTANTS_C_FILES=...    C files to sample from (default: every protocol core's)
#   PROPTEST_CASES=32      cases per property in the oracle runs
set -euo pipefail
cd "$(dirname "$0")/.."
MUTANTS_RUST=${MUTANTS_RUST:-20}
MUTANTS_C=${MUTANTS_C:-20}
MUTANTS_SEED=${MUTANTS_SEED:-$((10#$(date -u +%j)))}
export PROPTEST_CASES=${PROPTEST_CASES:-32}
OUT=target/mutants
mkdir -p "$OUT"

if [ "$MUTANTS_RUST" -gt 0 ]; then
  scripts/setup.sh mutants
  # Every core file, module roots and submodules (net/fake_tls/*.rs too),
  # not the mod.rs lists or the unit-test files.
  files=${MUTANTS_RUST_FILES:-$(find rust/mtproxy-core/src/net rust/mtproxy-core/src/mtproto -name '*.rs' ! -name mod.rs ! -name tests.rs | sort)}
  # The sample: round-robin shard `seed mod n` of n shards, n chosen so a
  # shard holds about MUTANTS_RUST mutants, spread over every file.
  # --no-config: `--file` would add to .cargo/mutants.toml's examine_globs
  # rather than narrow them (and `--re` does not filter field deletions), so
  # the script passes the scope and the oracle (the same as the config's) itself.
  file_args=(--no-config --package mtproxy-core --minimum-test-timeout 120)
  for f in $files; do file_args+=(--file "$f"); done
  # Equivalent mutants (scripts/equivalent-mutants.toml) are not sampled.
  mapfile -t exclude < <(python3 scripts/equivalent_mutants.py rust-exclude)
  file_args+=("${exclude[@]}")
  total=$(cargo mutants --list "${file_args[@]}" | wc -l)
  [ "$total" -gt 0 ] || { echo "mutants: no Rust mutants in $files" >&2; exit 1; }
  shards=$(((total + MUTANTS_RUST - 1) / MUTANTS_RUST))
  [ "$shards" -ge 1 ] || shards=1
  shard=$((MUTANTS_SEED % shards))
  # The test filter: the module of each sampled file, i.e. its path under
  # net/ or mtproto/ up to the first `/` or `.rs` (`net/fake_tls/records.rs`
  # is `fake_tls`, matching `net::fake_tls::…` unit tests in the core and
  # `fake_tls::…` in parity-tests).
  filter=()
  for f in $files; do
    m=${f#rust/mtproxy-core/src/*/}
    m=${m%%/*}
    filter+=("${m%.rs}")
  done
  mapfile -t filter < <(printf '%s\n' "${filter[@]}" | sort -u)
  echo "mutants: Rust: shard $shard/$shards of $total mutants (seed $MUTANTS_SEED), PROPTEST_CASES=$PROPTEST_CASES"
  rm -rf "$OUT/rust"
  # A persistent target directory: dependencies are built once, not per run.
  CARGO_TARGET_DIR="$PWD/$OUT/build" cargo mutants "${file_args[@]}" \
    --test-package mtproxy-core --test-package parity-tests \
    --shard "$shard/$shards" --sharding round-robin --output "$OUT/rust" \
    -- -- "${filter[@]}" || true # cargo-mutants exits non-zero when mutants survive
  python3 scripts/equivalent_mutants.py rust-json "$OUT/rust/equivalent.json"
  echo "$(cat "$OUT/rust/mutants.out/caught.txt" "$OUT/rust/mutants.out/missed.txt" "$OUT/rust/mutants.out/timeout.txt" "$OUT/rust/mutants.out/unviable.txt" 2>/dev/null | wc -l) of $total mutants in $(echo $files | wc -w) files (round-robin shard $shard/$shards, seed $MUTANTS_SEED), PROPTEST_CASES=$PROPTEST_CASES" > "$OUT/rust/sample.txt"
fi

if [ "$MUTANTS_C" -gt 0 ]; then
  c_files=()
  for f in ${MUTANTS_C_FILES:-}; do c_files+=(--file "$f"); done
  python3 scripts/mutate-c.py --count "$MUTANTS_C" --seed "$MUTANTS_SEED" --out "$OUT/c" "${c_files[@]}"
fi

cargo xtask mutants-record
cargo xtask status
