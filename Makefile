# Entry points. `make test` is what CI runs (.ci/run); `make demo` runs the
# all-Rust proxy on loopback between the test kit's fake middle-end and
# clients (scripts/demo.sh).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
CARGO ?= cargo
# The feature sets of clippy, symcheck and e2e are migration.toml's [matrix]
# (`cargo xtask matrix <list>`), which also generates the CI workflow
# .github/workflows/parity-matrix.yml.
PROPTEST_CASES ?= 256
export PROPTEST_CASES

.PHONY: all build setup test lint unit e2e load-smoke perf asan symcheck fuzz-smoke check-generated parity bench mutants status demo headers clean

all: build

build:
	$(CARGO) build --release --bin mtproxy-rust

setup:
	@scripts/setup.sh

# The whole CI gate, cheapest checks first.
test: setup lint check-generated unit e2e load-smoke asan symcheck fuzz-smoke
	@echo "make test: all checks passed"

lint:
	$(CARGO) fmt --all -- --check
	rustfmt --edition 2021 --check fuzz/fuzz_targets/*.rs
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	@sets=$$($(CARGO) xtask matrix clippy) || exit 1; \
	for set in $$sets; do \
		features="--features $$set"; [ "$$set" = none ] && features=""; \
		echo "clippy $$features"; \
		$(CARGO) clippy -p mtproxy --all-targets --quiet $$features -- -D warnings || exit 1; \
	done

# Contract headers, bindings, CI workflow, manifest and dashboard (.md, .json,
# .html) must match the tree.
check-generated:
	$(CARGO) xtask check
	$(CARGO) xtask status --check

# parity-tests links every Rust export (mtproxy-ffi with all features), so it
# is built on its own: in one invocation with the root package, Cargo's
# feature unification would give mtproxy-rust both sides' symbols.
unit:
	$(CARGO) test --workspace --exclude parity-tests --quiet
	$(CARGO) test -p parity-tests --quiet

# The end-to-end suite against the binary of each e2e build of the matrix
# (the all-C build, `none`, runs in `unit`).
e2e:
	@sets=$$($(CARGO) xtask matrix e2e) || exit 1; \
	for set in $$sets; do \
		[ "$$set" = none ] && continue; \
		echo "e2e --features $$set"; \
		$(CARGO) test -p mtproxy --test e2e --quiet --features $$set || exit 1; \
	done

# The demo with one-second loads: the release all-Rust build under load.
load-smoke:
	DEMO_SECONDS=1 scripts/demo.sh

# The differential suite again, with the C side under ASan + UBSan.
asan:
	MTP_SANITIZE=1 CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$(CURDIR)/scripts/asan-runner.sh \
		$(CARGO) test -p parity-tests --test parity --quiet

# Every symcheck set of the matrix.
symcheck:
	$(CARGO) xtask symcheck

# Every cargo-fuzz target (the `fuzz` lists of migration.toml), briefly, from
# its committed seed corpus (new inputs go to a scratch directory, not into
# the committed corpus).
FUZZ_RUNS ?= 100000
fuzz-smoke:
	cd fuzz && cargo +nightly fuzz build
	@targets=$$($(CARGO) xtask fuzz-targets) || exit 1; \
	for t in $$targets; do \
		scratch=$$(mktemp -d); \
		echo "fuzz $$t: $(FUZZ_RUNS) runs"; \
		(cd fuzz && cargo +nightly fuzz run $$t $$scratch corpus/$$t -- -runs=$(FUZZ_RUNS) -max_total_time=60 2>&1 | tail -n 3) || exit 1; \
		rm -rf $$scratch; \
	done

# Record the differential results for the dashboard (commit measurements/).
parity:
	$(CARGO) xtask parity-record
	$(CARGO) xtask status

bench:
	$(CARGO) bench -p parity-tests --bench compare
	$(CARGO) xtask bench-record
	$(CARGO) xtask status

# Mutation score of the protocol cores, both sides, on a rotating sample
# (scripts/mutants.sh: knobs MUTANTS_RUST, MUTANTS_C, MUTANTS_SEED; commit
# measurements/mutants.json). Installs cargo-mutants when missing. Not part
# of `make test`.
mutants:
	scripts/mutants.sh

# End-to-end figures, all-C against all-Rust (commit measurements/e2e.json).
perf:
	scripts/perf.sh
	$(CARGO) xtask status

status:
	$(CARGO) xtask status

headers:
	$(CARGO) xtask gen

demo: setup
	scripts/demo.sh

clean:
	$(CARGO) clean
