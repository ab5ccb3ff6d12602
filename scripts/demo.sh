#!/usr/bin/env bash
# `make demo`: the proxy relaying real traffic on loopback.
#
# Starts the test kit's fake middle-end and the proxy (the build chosen by
# FEATURES, default the all-Rust one) with a generated secret, prints the
# tg:// links and the stats URL, runs a short load over every transport,
# prints the results and the proxy's /stats, and stops everything (a trap
# kills whatever is still running, also on error or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

FEATURES=${FEATURES-rust-all}
SECONDS_PER_RUN=${DEMO_SECONDS:-2}

source scripts/lib.sh
PROFILE_DIR="$(cargo_target_dir)/release"

echo "== building mtproxy-rust (features: ${FEATURES:-none}) and the test kit (release) =="
cargo build --quiet --release --bin mtproxy-rust ${FEATURES:+--features "$FEATURES"}
cargo build --quiet --release -p mtproxy-testkit --bins

# A 128-byte proxy secret (as getProxySecret serves) and a client secret.
head -c 128 /dev/urandom >"$work/proxy-secret"
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
domain=localhost

# A real TLS 1.3 fronting domain; like fake-me it runs until its stdin
# closes, so it gets a pipe that stays open.
mkfifo "$work/domain-stdin"
"$PROFILE_DIR/fake-domain" --tls --cert-padding 2000 --port-file "$work/domain-port" \
    <"$work/domain-stdin" >"$work/domain.log" 2>&1 &
pids+=($!)
exec 6>"$work/domain-stdin"
wait_for_file "$work/domain-port"
domain_port=$(cat "$work/domain-port")

# fake-me runs until its stdin closes: keep a pipe open to it.
mkfifo "$work/me-stdin"
"$PROFILE_DIR/fake-me" --secret-file "$work/proxy-secret" --port-file "$work/me-port" \
    --conf-out "$work/proxy-multi.conf" --dc 2 --behaviour echo <"$work/me-stdin" >"$work/me.log" 2>&1 &
pids+=($!)
exec 7>"$work/me-stdin"
wait_for_file "$work/me-port"

"$PROFILE_DIR/mtproxy-rust" -u "$run_user" -H 0 -p 0 -M 2 -S "$secret" --aes-pwd "$work/proxy-secret" \
    -D "$domain:$domain_port" --ports-file "$work/ports" "$work/proxy-multi.conf" \
    >"$work/proxy.out" 2>"$work/proxy.err" &
proxy=$!
pids+=($proxy)
wait_for_file "$work/ports"
port=$(awk '$1 == "client" {print $2; exit}' "$work/ports")
stats_port=$(awk '$1 == "stats" {print $2}' "$work/ports")

echo
echo "== fake-TLS proxy running (pid $proxy, -D $domain), the links it printed =="
cat "$work/proxy.out"
echo "stats: http://127.0.0.1:$stats_port/stats   metrics: http://127.0.0.1:$stats_port/metrics"

# A second proxy without -D serves the obfuscated2 transports.
"$PROFILE_DIR/mtproxy-rust" -u "$run_user" -H 0 -p 0 -M 2 -S "$secret" --aes-pwd "$work/proxy-secret" \
    --ports-file "$work/ports2" "$work/proxy-multi.conf" >"$work/proxy2.out" 2>"$work/proxy2.err" &
proxy2=$!
pids+=($proxy2)
wait_for_file "$work/ports2"
port2=$(awk '$1 == "client" {print $2; exit}' "$work/ports2")
echo
echo "== obfuscated2 proxy running (pid $proxy2), the links it printed =="
cat "$work/proxy2.out"

hex_domain=$(printf '%s' "$domain" | od -An -tx1 | tr -d ' \n')
run_load() {
    local title=$1 target_port=$2 target_pid=$3
    shift 3
    echo
    echo "== load: $title, 8 connections, ${SECONDS_PER_RUN}s =="
    "$PROFILE_DIR/mtproxy-load" --proxy "127.0.0.1:$target_port" --connections 8 --window 4 \
        --duration "$SECONDS_PER_RUN" --pid "$target_pid" --quiet "$@"
}
run_load "abridged, 4 KiB packets" "$port2" "$proxy2" --secret "$secret" --transport abridged --size 4096
run_load "intermediate, 64 KiB packets" "$port2" "$proxy2" --secret "$secret" --transport intermediate --size 65536
run_load "padded intermediate (dd), 1 KiB packets" "$port2" "$proxy2" --secret "dd$secret" --transport padded --size 1024
run_load "fake TLS (ee, -D $domain), 16 KiB packets" "$port" "$proxy" --secret "ee$secret$hex_domain" --size 16384

fetch_stats() {
    exec 8<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /stats HTTP/1.1\r\nHost: localhost\r\n\r\n' >&8
    cat <&8
    exec 8<&-
}
echo
echo "== /stats of the fake-TLS proxy (selected lines) =="
fetch_stats "$stats_port" | grep -E '^(pid|uptime|workers|config_auth_clusters|total_ready_targets|ext_connections|tot_forwarded_queries|tot_forwarded_responses|total_connections|proxy_tag_set|version|fake_tls_profile_[a-z.]+)\b' || true

echo
echo "== stopping: SIGTERM to the proxies, EOF to the fake middle-end =="
kill -TERM "$proxy" "$proxy2"
status=0
wait "$proxy" || status=$?
wait "$proxy2" || status=$?
exec 7>&-
exec 6>&-
echo "proxies exited with status $status"
[[ $status -eq 0 ]]
