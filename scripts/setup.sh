#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine that has only
# a Rust toolchain: libclang (bindgen, for the contract freshness check),
# OpenSSL headers and libcrypto (the C side), gcc's sanitizer runtimes,
# python3's yaml module and chromium (xtask's tests of the CI workflow and of
# the HTML dashboard), redis-server (the shared-state tests), and rustfmt/clippy; checks for the nightly toolchain and
# installs cargo-fuzz (fuzz smoke). Idempotent: does nothing when everything is present.
#
# Each check looks for exactly what the consumer loads, not for something
# with a similar name: a libclang-cpp library does not satisfy bindgen, a
# `rustup component list` line does not prove `cargo fmt` runs in this tree.
set -euo pipefail
cd "$(dirname "$0")/.."

# `scripts/setup.sh mutants` (used by `make mutants` only, never by `make
# test`): cargo-mutants, when missing.
if [ "${1:-}" = mutants ]; then
  cargo mutants --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-mutants
  exit 0
fi

# libclang_found: true iff bindgen's loader (clang-sys with the "runtime"
# feature, as rust/xtask uses it) would find a 64-bit libclang. It mirrors
# clang-sys 1.x: file names libclang.so, libclang-*.so, libclang.so.*,
# libclang-*.so.*, minus libclang-cpp (names containing "-cpp."); only
# LIBCLANG_PATH when that is set, else `llvm-config --prefix`/{bin,lib,lib64},
# LD_LIBRARY_PATH, LIBRARY_PATH and the system directories
# /usr/local/llvm*/lib*, /usr/local/lib*{,/*,/*/*}, /usr/lib*{,/*,/*/*}.
libclang_in_dir() { # DIR
  local f
  for f in "$1"/libclang.so "$1"/libclang-*.so "$1"/libclang.so.* "$1"/libclang-*.so.*; do
    [[ $(basename "$f") == *-cpp.* ]] && continue
    # -f follows symlinks; byte 4 of the ELF header is the class (2 = 64-bit).
    [ -f "$f" ] && [ "$(od -An -tx1 -j4 -N1 "$f" 2>/dev/null | tr -d ' ')" = 02 ] && return 0
  done
  return 1
}
libclang_found() {
  local d prefix
  if [ -n "${LIBCLANG_PATH+x}" ]; then
    if [ -f "$LIBCLANG_PATH" ]; then
      case $(basename "$LIBCLANG_PATH") in
        *-cpp.*) ;;
        libclang.so | libclang-*.so | libclang.so.* | libclang-*.so.*) libclang_in_dir "$(dirname "$LIBCLANG_PATH")" && return 0 ;;
      esac
    fi
    libclang_in_dir "$LIBCLANG_PATH"
    return
  fi
  local dirs=()
  if prefix=$("${LLVM_CONFIG_PATH:-llvm-config}" --prefix 2>/dev/null); then
    prefix=${prefix%%$'\n'*}
    dirs+=("$prefix/bin" "$prefix/lib" "$prefix/lib64")
  fi
  local IFS=:
  # shellcheck disable=SC2206 # split on ':' on purpose
  dirs+=(${LD_LIBRARY_PATH:-} ${LIBRARY_PATH:-})
  unset IFS
  shopt -s nullglob
  dirs+=(/usr/local/llvm*/lib* /usr/local/lib*/*/* /usr/local/lib*/* /usr/local/lib* /usr/lib*/*/* /usr/lib*/* /usr/lib*)
  shopt -u nullglob
  for d in "${dirs[@]}"; do
    [ -d "$d" ] && libclang_in_dir "$d" && return 0
  done
  return 1
}

# The package that provides a gcc runtime library: from the soname its
# link points to (libasan.so -> libasan.so.8: libasan8), or gcc's own
# libgcc-N-dev when even the link is missing.
gcc_runtime_package() { # NAME (asan, ubsan)
  local link target
  link=$(gcc -print-file-name="lib$1.so")
  if [ -L "$link" ]; then
    target=$(basename "$(readlink "$link")")
    echo "lib$1${target##*.so.}"
  else
    echo "libgcc-$(gcc -dumpversion | cut -d. -f1)-dev"
  fi
}

need_apt=()
command -v make >/dev/null || need_apt+=(make)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v nm >/dev/null || need_apt+=(binutils)
# The C side includes <openssl/...> and links -lcrypto (rust/mtproxy-build).
if ! echo '#include <openssl/evp.h>' | gcc -E -x c - >/dev/null 2>&1 ||
  [ ! -e "$(gcc -print-file-name=libcrypto.so)" ]; then
  need_apt+=(libssl-dev)
fi
libclang_found || need_apt+=(libclang-dev)
# `make asan` links the sanitized C copy with -lasan -lubsan and preloads
# gcc's libasan.so (scripts/asan-runner.sh).
for runtime in asan ubsan; do
  [ -e "$(gcc -print-file-name="lib$runtime.so")" ] || need_apt+=("$(gcc_runtime_package "$runtime")")
done
# The xtask tests parse the generated CI workflow with python3's yaml module,
# decode a PNG with python3, and render MIGRATION_STATUS.html in headless
# Chromium (the `chromium` command, Debian's package of that name).
python3 -c 'import yaml' >/dev/null 2>&1 || need_apt+=(python3-yaml)
command -v chromium >/dev/null || need_apt+=(chromium)
# The tests of --shared-state start their own redis-server on a free
# loopback port (rust/mtproxy-testkit/src/redis_server.rs).
command -v redis-server >/dev/null || need_apt+=(redis-server)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    echo "setup: python3-yaml is installed but \`python3 -c 'import yaml'\` fails (is python3 $(command -v python3) the system one?)" >&2
    exit 1
  fi
  if ! libclang_found; then
    echo "setup: libclang-dev is installed but no libclang.so is where bindgen looks; set LIBCLANG_PATH" >&2
    exit 1
  fi
fi

# `make lint` runs `cargo fmt`, `rustfmt` and `cargo clippy` with the
# toolchain this tree selects.
cargo fmt --version >/dev/null 2>&1 && rustfmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
# Fuzz smoke runs `cargo +nightly fuzz`: the image's nightly toolchain (not
# installed here) and cargo-fuzz, which cargo finds on PATH or in
# $CARGO_HOME/bin.
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "setup: no toolchain answers to +nightly (needed by cargo fuzz); install one with rustup toolchain install nightly" >&2
  exit 1
fi
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-fuzz
echo "setup: ok"
