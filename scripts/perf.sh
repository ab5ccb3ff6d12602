#!/usr/bin/env bash
# `make perf`: the all-C and the all-Rust proxy measured end to end in one
# run with mtproxy-load against the test kit's fake middle-end, on loopback.
# Writes measurements/e2e.json (one object per build and scenario) and
# prints a table. The proxy's figures are from /proc/PID of the proxy; the
# load generator (a few epoll threads) and the fake middle-end share the
# machine, so each report also carries their own CPU in the measured phase
# (generator_cpu_s, me_cpu_s): when they are busy, the proxy may not be
# what limits MB/s. Defaults (PERF_SECONDS=4, PERF_REPEAT=3) take about
# 10 minutes on 2 cores once the binaries are built.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${PERF_SECONDS:-4}
REPEAT=${PERF_REPEAT:-3}
IDLE_CONNS=${PERF_IDLE_CONNS:-10000}
OUT=${PERF_OUT:-measurements/e2e.json}
source scripts/lib.sh
ulimit -n "$(ulimit -Hn)"
target=$(cargo_target_dir)

echo "== building release binaries (all-C, all-Rust, test kit) =="
mkdir -p "$target/perf"
cargo build --quiet --release --bin mtproxy-rust
cp "$target/release/mtproxy-rust" "$target/perf/mtproxy-c"
cargo build --quiet --release --bin mtproxy-rust --features rust-all
cp "$target/release/mtproxy-rust" "$target/perf/mtproxy-rust"
cargo build --quiet --release -p mtproxy-testkit --bins
kit=$target/release

head -c 128 /dev/urandom >"$work/proxy-secret"
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
hex_domain=$(printf localhost | od -An -tx1 | tr -d ' \n')

# A real TLS 1.3 fronting domain for the fake-TLS rows, so the proxy's probe
# learns a profile; it runs until its stdin closes (a pipe kept open).
mkfifo "$work/domain.in"
"$kit/fake-domain" --tls --port-file "$work/domain-port" <"$work/domain.in" >/dev/null 2>&1 &
pids+=($!)
exec {domain_fd}>"$work/domain.in"
wait_for_file "$work/domain-port"
domain_port=$(cat "$work/domain-port")

# One fake middle-end per answer behaviour; each runs until its stdin closes.
declare -A me_pid
start_me() { # name behaviour
    mkfifo "$work/$1.in"
    "$kit/fake-me" --secret-file "$work/proxy-secret" --port-file "$work/$1.port" \
        --conf-out "$work/$1.conf" --dc 2 --behaviour "$2" <"$work/$1.in" >/dev/null 2>&1 &
    pids+=($!)
    me_pid[$1]=$!
    eval "exec {fd}>\"$work/$1.in\""
    wait_for_file "$work/$1.port"
}
start_me echo echo
start_me up reply:64
start_me down reply:65536

proxy_pid=
start_proxy() { # binary conf workers extra...
    local bin=$1 conf=$2 workers=$3
    shift 3
    rm -f "$work/ports"
    "$bin" -u "$run_user" -H 0 -M "$workers" -S "$secret" --aes-pwd "$work/proxy-secret" --ports-file "$work/ports" \
        "$@" "$work/$conf.conf" >/dev/null 2>"$work/proxy.err" &
    proxy_pid=$!
    pids+=($proxy_pid)
    wait_for_file "$work/ports"
    proxy_port=$(awk '$1 == "client" {print $2; exit}' "$work/ports")
    sleep 0.3 # let the middle-end connections finish their handshakes
}
stop_proxy() {
    kill -TERM "$proxy_pid"
    wait "$proxy_pid" || true
}
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

results=()
record() { # build scenario json
    results+=("{\"build\":\"$1\",\"scenario\":\"$2\",\"report\":$3}")
    printf '%-6s %-34s %s\n' "$1" "$2" "$3"
}
load() { # build scenario conf mtproxy-load args...
    local build=$1 scenario=$2 conf=$3
    shift 3
    local json
    json=$("$kit/mtproxy-load" --proxy "127.0.0.1:$proxy_port" --pid "$proxy_pid" \
        --me-pid "${me_pid[$conf]}" --json --quiet "$@") || true
    record "$build" "$scenario" "${json:-null}"
}

# measure BUILD NAME CONF WORKERS PROXY_ARGS LOAD_ARGS...: one proxy run
# under one load. PROXY_ARGS is one word list ("" for none).
measure() {
    local build=$1 name=$2 conf=$3 workers=$4 proxy_args=$5
    shift 5
    # shellcheck disable=SC2086 # PROXY_ARGS is a word list on purpose
    start_proxy "$target/perf/mtproxy-$build" "$conf" "$workers" $proxy_args
    load "$build" "$name" "$conf" "$@"
    stop_proxy
}

idle_cpu() { # build
    start_proxy "$target/perf/mtproxy-$1" echo 1
    local before after
    before=$(cpu_of "$proxy_pid")
    sleep "$SECS"
    after=$(cpu_of "$proxy_pid")
    record "$1" "idle CPU, 0 connections" "{\"proxy_cpu_seconds\":$(awk "BEGIN {print ($after - $before) / 100}"),\"seconds\":$SECS}"
    stop_proxy
}

tls="-D localhost:$domain_port"
ee="ee$secret$hex_domain"
# Each scenario runs REPEAT times, the builds alternating, so both see the
# same machine; the dashboard shows the median of each figure.
# The rows of issue #14: upload at 1 / 16 / 256 connections (64 KiB
# packets), download at 16 / 256, fake TLS at 16 each way, 64-byte echo at
# 2,000 connections (latency with one packet in flight), handshakes, idle
# CPU and memory, and -M 2 at 16 uploading connections (the -M 1 figure is
# "upload intermediate x16").
for rep in $(seq 1 "$REPEAT"); do
    echo "== round $rep of $REPEAT =="
    record floor "crypto floor" "$("$kit/crypto-floor")"
    for build in c rust; do
        for conns in 1 16 256; do
            measure $build "upload intermediate x$conns" up 1 "" --secret "$secret" --connections $conns --size 65536 --window 4 --duration "$SECS"
        done
        for conns in 16 256; do
            measure $build "download intermediate x$conns" down 1 "" --secret "$secret" --connections $conns --mode download --window 4 --duration "$SECS"
        done
        measure $build "upload fake-tls x16" up 1 "$tls" --secret "$ee" --connections 16 --size 65536 --window 4 --duration "$SECS"
        measure $build "download fake-tls x16" down 1 "$tls" --secret "$ee" --connections 16 --mode download --window 4 --duration "$SECS"
        measure $build "echo 64B x2000" echo 1 "" --secret "$secret" --connections 2000 --size 64 --window 1 --duration "$SECS"
        idle_cpu $build
        measure $build "handshakes obfs2 x2000" echo 1 "" --secret "$secret" --connections 2000 --mode idle --duration 0
        measure $build "handshakes fake-tls x2000" echo 1 "$tls" --secret "$ee" --connections 2000 --mode idle --duration 0
        measure $build "idle x$IDLE_CONNS" echo 1 "" --secret "$secret" --connections "$IDLE_CONNS" --mode idle --duration "$SECS"
        measure $build "upload intermediate x16 -M 2" up 2 "" --secret "$secret" --connections 16 --size 65536 --window 4 --duration "$SECS"
    done
done

mkdir -p "$(dirname "$OUT")"
{
    echo "["
    for i in "${!results[@]}"; do
        sep=,
        [[ $i -eq $((${#results[@]} - 1)) ]] && sep=
        echo "  ${results[$i]}$sep"
    done
    echo "]"
} >"$OUT"
echo "wrote $OUT"
