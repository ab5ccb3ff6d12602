#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine that has only
# a Rust toolchain: libclang (bindgen, for the contract freshness check),
# OpenSSL headers and libcrypto (the C side), gcc's sanitizer runtimes, and
# rustfmt/clippy. Idempotent: does nothing when everything is present.
set -euo pipefail

need_apt=()
[ -e /usr/include/openssl/evp.h ] || need_apt+=(libssl-dev)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || need_apt+=(libclang-dev)
[ -e "$(gcc -print-file-name=libasan.so)" ] || need_apt+=(libasan8)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v nm >/dev/null || need_apt+=(binutils)
command -v make >/dev/null || need_apt+=(make)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
# Fuzz smoke runs need the image's nightly toolchain and cargo-fuzz.
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "setup: no nightly toolchain (needed by cargo fuzz); install one with rustup" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install --locked --quiet cargo-fuzz
echo "setup: ok"
