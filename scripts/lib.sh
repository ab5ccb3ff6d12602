# Shared by demo.sh and perf.sh (sourced): a scratch directory and a list of
# background pids that are killed and reaped on any exit, and a poll for the
# port files the proxy and the test kit's servers write.
work=$(mktemp -d)
# The user the proxies run as (-u, always explicit): the current one, who
# can read the scratch files (root in CI, where the proxy warns about -u root;
# without -u a root proxy would switch to user mtproxy or refuse to start).
run_user=$(id -un)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# wait_for_file PATH: polls (10 ms steps, 30 s at most) until PATH is non-empty.
wait_for_file() {
    for _ in $(seq 1 3000); do
        [[ -s $1 ]] && return 0
        sleep 0.01
    done
    echo "$(basename "$0"): $1 never appeared" >&2
    return 1
}
