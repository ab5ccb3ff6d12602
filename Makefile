# Entry points. `make test` is what CI runs (.ci/run); `make demo` shows the
# binary working in the all-C and all-Rust builds.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
CARGO ?= cargo
# Feature sets that get their own clippy pass and symbol check.
FEATURE_SETS := rust-all rust-common rust-crypto rust-net rust-mtproto rust-crc32 rust-md5 rust-net-crypto-aes
PROPTEST_CASES ?= 256
export PROPTEST_CASES

.PHONY: all build setup test lint unit asan symcheck fuzz-smoke check-generated parity bench status demo headers clean

all: build

build:
	$(CARGO) build --release --bin mtproxy-rust

setup:
	@scripts/setup.sh

# The whole CI gate, cheapest checks first.
test: setup lint check-generated unit asan symcheck fuzz-smoke
	@echo "make test: all checks passed"

lint:
	$(CARGO) fmt --all -- --check
	rustfmt --edition 2021 --check fuzz/fuzz_targets/*.rs
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	@for set in $(FEATURE_SETS); do \
		echo "clippy --features $$set"; \
		$(CARGO) clippy -p mtproxy --all-targets --quiet --features $$set -- -D warnings || exit 1; \
	done

# Contract headers, bindings, manifest and dashboard must match the tree.
check-generated:
	$(CARGO) xtask check
	$(CARGO) xtask status --check

unit:
	$(CARGO) test --workspace --quiet

# The differential suite again, with the C side under ASan + UBSan.
asan:
	MTP_SANITIZE=1 CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$(CURDIR)/scripts/asan-runner.sh \
		$(CARGO) test -p parity-tests --test parity --quiet

symcheck:
	$(CARGO) xtask symcheck none $(FEATURE_SETS)

# Every cargo-fuzz target, briefly, from its committed seed corpus (new
# inputs go to a scratch directory, not into the committed corpus).
FUZZ_RUNS ?= 100000
fuzz-smoke:
	cd fuzz && cargo +nightly fuzz build
	@for t in $$(sed -n 's/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml | grep -v '^mtproxy-fuzz$$'); do \
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

status:
	$(CARGO) xtask status

headers:
	$(CARGO) xtask gen

demo: setup
	@echo "== all-C build (no features) =="
	$(CARGO) build --quiet --bin mtproxy-rust
	./target/debug/mtproxy-rust selftest
	@echo
	@echo "== all-Rust build (rust-all) =="
	$(CARGO) build --quiet --bin mtproxy-rust --features rust-all
	./target/debug/mtproxy-rust selftest
	@echo
	@echo "== mixed build (rust-md5,rust-aesni256): the C key derivation calls the Rust MD5 =="
	$(CARGO) build --quiet --bin mtproxy-rust --features rust-md5,rust-aesni256
	./target/debug/mtproxy-rust --modules
	./target/debug/mtproxy-rust selftest

clean:
	$(CARGO) clean
