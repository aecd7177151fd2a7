#!/usr/bin/env bash
# Configures (once) and builds ccrun in BUILD_DIR (default: build). Extra
# arguments go to meson setup, e.g. -Db_sanitize=address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" > /dev/null
ninja -C "$dir" > /dev/null
