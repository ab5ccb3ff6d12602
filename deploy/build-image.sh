#!/usr/bin/env bash
# Builds the container image (deploy/Dockerfile) from the repository root with
# docker or podman, whichever is present and has a running engine:
#   deploy/build-image.sh [TAG]        (default tag mtproxy-rust:latest)
# Without an engine it says so and exits 2; the recipe itself is checked by
# `cargo test --test deploy` either way.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-mtproxy-rust:latest}
for engine in docker podman; do
    if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then
        exec "$engine" build --file deploy/Dockerfile --tag "$tag" .
    fi
done
echo "build-image: no running docker or podman engine found" >&2
exit 2
