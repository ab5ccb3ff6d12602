#!/usr/bin/env bash
# `make perf`: the all-C and the all-Rust proxy measured end to end in one
# run with mtproxy-load against the test kit's fake middle-end, on loopback.
# Writes measurements/e2e.json (one object per build and scenario) and
# prints a table. The proxy's figures are from /proc/PID of the proxy; the
# load generator (a few epoll threads) and the fake middle-end share the
# machine, so each report also carries their own CPU in the measured phase
# (generator_cpu_s, me_cpu_s): when they are busy, the proxy may not be
# what limits MB/s. Defaults (PERF_SECONDS=4, PERF_REPEAT=3) take about
# 13 minutes on 2 cores once the binaries are built.
# Direct mode (Rust-only) runs against the test kit's fake DC instead of the
# middle-end; the all-C build gets a placeholder row ("n/a (Rust-only)").
# PERF_ONLY=REGEX runs only the scenarios whose name matches (bash regex,
# e.g. PERF_ONLY='direct|floor'), and then writes to
# target/perf/e2e-only.json unless PERF_OUT says where.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${PERF_SECONDS:-4}
REPEAT=${PERF_REPEAT:-3}
IDLE_CONNS=${PERF_IDLE_CONNS:-10000}
ONLY=${PERF_ONLY:-}
source scripts/lib.sh
ulimit -n "$(ulimit -Hn)"
target=$(cargo_target_dir)
OUT=${PERF_OUT:-$([[ -n $ONLY ]] && echo "$target/perf/e2e-only.json" || echo measurements/e2e.json)}
selected() { [[ -z $ONLY || $1 =~ $ONLY ]]; }

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

# One fake middle-end, and for direct mode one fake DC, per answer
# behaviour; each runs until its stdin closes. peer_pid: their pids by name,
# for the harness's CPU in each report.
declare -A peer_pid
start_peer() { # name command...
    local name=$1
    shift
    mkfifo "$work/$name.in"
    "$@" --port-file "$work/$name.port" <"$work/$name.in" >/dev/null 2>&1 &
    pids+=($!)
    peer_pid[$name]=$!
    eval "exec {fd}>\"$work/$name.in\""
    wait_for_file "$work/$name.port"
}
start_me() { # name behaviour
    start_peer "$1" "$kit/fake-me" --secret-file "$work/proxy-secret" \
        --conf-out "$work/$1.conf" --dc 2 --behaviour "$2"
}
start_me echo echo
start_me up reply:64
start_me down reply:65536
start_peer dc-up "$kit/fake-dc" --behaviour reply:64
start_peer dc-down "$kit/fake-dc" --behaviour reply:65536

proxy_pid=
start_proxy() { # binary conf workers extra... (conf "": direct mode, no config)
    local bin=$1 conf=$2 workers=$3
    shift 3
    local files=()
    [[ -n $conf ]] && files=(--aes-pwd "$work/proxy-secret" "$work/$conf.conf")
    rm -f "$work/ports"
    "$bin" -u "$run_user" -H 0 -M "$workers" -S "$secret" --ports-file "$work/ports" \
        "$@" "${files[@]}" >/dev/null 2>"$work/proxy.err" &
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
    local build=$1 scenario=$2
    record "$build" "$scenario" "$(load_report "${@:3}")"
}
load_report() { # conf mtproxy-load args...: the report, or null
    local conf=$1 json
    shift
    json=$("$kit/mtproxy-load" --proxy "127.0.0.1:$proxy_port" --pid "$proxy_pid" \
        --me-pid "${peer_pid[$conf]}" --json --quiet "$@") || true
    echo "${json:-null}"
}

# measure BUILD NAME CONF WORKERS PROXY_ARGS LOAD_ARGS...: one proxy run
# under one load. PROXY_ARGS is one word list ("" for none).
measure() {
    local build=$1 name=$2 conf=$3 workers=$4 proxy_args=$5
    shift 5
    selected "$name" || return 0
    # shellcheck disable=SC2086 # PROXY_ARGS is a word list on purpose
    start_proxy "$target/perf/mtproxy-$build" "$conf" "$workers" $proxy_args
    load "$build" "$name" "$conf" "$@"
    stop_proxy
}

# direct BUILD NAME DC WORKERS LOAD_ARGS...: one direct-mode run, DC 2 at the
# fake DC named DC. The all-C build refuses --direct: it records a
# placeholder that the dashboard shows as "n/a (Rust-only)".
direct() {
    local build=$1 name=$2 dc=$3 workers=$4
    shift 4
    selected "$name" || return 0
    if [[ $build == c ]]; then
        record c "$name" '{"rust_only":true}'
        return
    fi
    start_proxy "$target/perf/mtproxy-$build" "" "$workers" \
        --direct --dc-addr "2=127.0.0.1:$(cat "$work/$dc.port")"
    load "$build" "$name" "$dc" "$@"
    stop_proxy
}

# users_file N: a users file of N users; user i's secret is i as 32 hex
# digits (made once per run).
users_file() {
    local f="$work/users-$1.toml"
    if [[ ! -f $f ]]; then
        for ((i = 1; i <= $1; i++)); do
            printf '[users.u%d]\nsecrets = ["%032x"]\n' "$i" "$i"
        done >"$f"
    fi
    echo "$f"
}

# users BUILD N KIND (obfs2 | fake-tls): 2,000 handshakes with the secret of
# the last of N users (issue #11). Each client connects from a fresh port of
# 127.0.0.1, which the proxy remembers: the first handshake tries every
# secret, the rest try the remembered one first; "secret search" in the
# README gives the cost of a full search. Rust-only: the all-C build gets the
# placeholder row.
users() {
    local build=$1 n=$2 kind=$3 name="handshakes $3 users x$2"
    selected "$name" || return 0
    if [[ $build == c ]]; then
        record c "$name" '{"rust_only":true}'
        return
    fi
    local key args
    key=$(printf '%032x' "$n")
    args="--users $(users_file "$n")"
    local client_secret=$key
    if [[ $kind == fake-tls ]]; then
        args="$args $tls"
        client_secret="ee$key$hex_domain"
    fi
    # shellcheck disable=SC2086 # args is a word list on purpose
    start_proxy "$target/perf/mtproxy-$build" echo 1 $args
    load "$build" "$name" echo --secret "$client_secret" --connections 2000 --mode idle --duration 0
    stop_proxy
}

# hostile BUILD: issue #11's hostile case. 100 clients echo 64 bytes (one
# in flight each) with 10,000 users, alone and while two threads flood the
# proxy with wrong-secret handshakes (each one tries every secret); the
# flood's own figures join the second report. Rust-only.
hostile() {
    local build=$1 name users_arg key
    users_arg=$(users_file 10000)
    key=$(printf '%032x' 10000)
    for name in "echo 64B x100 users x10000" "echo 64B x100 users x10000 + flood"; do
        selected "$name" || continue
        if [[ $build == c ]]; then
            record c "$name" '{"rust_only":true}'
            continue
        fi
        start_proxy "$target/perf/mtproxy-$build" echo 1 --users "$users_arg"
        local flood_pid=
        if [[ $name == *flood ]]; then
            "$kit/handshake-flood" --proxy "127.0.0.1:$proxy_port" --threads 2 \
                --seconds "$((SECS + 2))" >"$work/flood.json" &
            flood_pid=$!
        fi
        local json
        json=$(load_report echo --secret "$key" --connections 100 --size 64 --window 1 --duration "$SECS")
        if [[ -n $flood_pid ]]; then
            wait "$flood_pid" || true
            local flood
            flood=$(cat "$work/flood.json")
            [[ $json == null || -z $flood ]] || json="${json%\}},${flood#\{}"
        fi
        record "$build" "$name" "$json"
        stop_proxy
    done
}

idle_cpu() { # build
    selected "idle CPU, 0 connections" || return 0
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
# "upload intermediate x16"). The rows of issue #10: direct mode at 1 and
# 64 connections each way and -M 2 at 64 uploading, each next to the
# middle-end row with the same load.
up64k="--secret $secret --size 65536 --window 4 --duration $SECS"
down="--secret $secret --mode download --window 4 --duration $SECS"
for rep in $(seq 1 "$REPEAT"); do
    echo "== round $rep of $REPEAT =="
    if selected "crypto floor"; then
        record floor "crypto floor" "$("$kit/crypto-floor")"
    fi
    # Issue #11: the full secret search of one handshake among N users
    # (the last one matches), obfuscated2 and fake TLS; Rust-only.
    for n in 1 100 1000 10000; do
        if selected "secret search x$n"; then
            record rust "secret search x$n" "$("$kit/secret-search" "$n")"
            record c "secret search x$n" '{"rust_only":true}'
        fi
    done
    for build in c rust; do
        # shellcheck disable=SC2086 # up64k and down are word lists on purpose
        {
            measure $build "upload intermediate x1" up 1 "" $up64k --connections 1
            direct $build "direct upload x1" dc-up 1 $up64k --connections 1
            measure $build "upload intermediate x16" up 1 "" $up64k --connections 16
            measure $build "upload intermediate x64" up 1 "" $up64k --connections 64
            direct $build "direct upload x64" dc-up 1 $up64k --connections 64
            measure $build "upload intermediate x256" up 1 "" $up64k --connections 256
            measure $build "download intermediate x1" down 1 "" $down --connections 1
            direct $build "direct download x1" dc-down 1 $down --connections 1
            measure $build "download intermediate x16" down 1 "" $down --connections 16
            measure $build "download intermediate x64" down 1 "" $down --connections 64
            direct $build "direct download x64" dc-down 1 $down --connections 64
            measure $build "download intermediate x256" down 1 "" $down --connections 256
        }
        measure $build "upload fake-tls x16" up 1 "$tls" --secret "$ee" --connections 16 --size 65536 --window 4 --duration "$SECS"
        measure $build "download fake-tls x16" down 1 "$tls" --secret "$ee" --connections 16 --mode download --window 4 --duration "$SECS"
        measure $build "echo 64B x2000" echo 1 "" --secret "$secret" --connections 2000 --size 64 --window 1 --duration "$SECS"
        idle_cpu $build
        measure $build "handshakes obfs2 x2000" echo 1 "" --secret "$secret" --connections 2000 --mode idle --duration 0
        measure $build "handshakes fake-tls x2000" echo 1 "$tls" --secret "$ee" --connections 2000 --mode idle --duration 0
        measure $build "idle x$IDLE_CONNS" echo 1 "" --secret "$secret" --connections "$IDLE_CONNS" --mode idle --duration "$SECS"
        measure $build "upload intermediate x16 -M 2" up 2 "" --secret "$secret" --connections 16 --size 65536 --window 4 --duration "$SECS"
        # shellcheck disable=SC2086
        direct $build "direct upload x64 -M 2" dc-up 2 $up64k --connections 64
        for n in 1 100 1000 10000; do
            users $build $n obfs2
            users $build $n fake-tls
        done
        hostile $build
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
