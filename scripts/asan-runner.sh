#!/usr/bin/env bash
# Cargo target runner for `make test`'s sanitizer pass: the C copy in the
# differential tests is built with -fsanitize=address,undefined, so its
# runtime must be loaded first. Leak checking is off: the Rust test harness
# keeps threads and buffers alive at exit by design.
if ! nm "$1" 2>/dev/null | grep -q '__asan_report_load'; then
  echo "asan-runner: $1 contains no ASan-instrumented C code (was MTP_SANITIZE=1 set?)" >&2
  exit 1
fi
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec "$@"
