# Shared by demo.sh and perf.sh (sourced): a scratch directory and a list of
# background pids that are killed and reaped on any exit, a poll for the
# port files the proxy and the test kit's servers write, and cargo's target
# directory.
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

# cargo_target_dir: where cargo puts what it builds, as `cargo metadata`
# reports it (so CARGO_TARGET_DIR, CARGO_BUILD_TARGET_DIR and build.target-dir
# are honoured), not a hard-coded target/.
cargo_target_dir() {
    local dir
    dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    if [[ -z $dir ]]; then
        echo "$(basename "$0"): no target_directory in cargo metadata" >&2
        return 1
    fi
    printf '%s\n' "$dir"
}
