#!/usr/bin/env bash
# Runs every fuzz seed and every input that once crashed (tests/fuzz-regress/)
# through the replay build of each fuzz target. Needs CCR_TEST_DATA and
# CCR_FUZZ_BIN_DIR (the directory of the *-replay programs and otlp-to-json).
set -euo pipefail
: "${CCR_TEST_DATA:?}" "${CCR_FUZZ_BIN_DIR:?}"
here=$(cd "$(dirname "$0")" && pwd)
seeds=$(mktemp -d /tmp/ccrun-fuzz-seeds.XXXXXX)
trap 'rm -rf "$seeds"' EXIT
python3 "$here/fuzz-seeds.py" "$CCR_TEST_DATA" "$seeds" "$CCR_FUZZ_BIN_DIR/otlp-to-json"
for target in fuzz-http fuzz-otlp fuzz-json fuzz-gzip fuzz-config; do
    inputs=("$seeds/$target")
    [ -d "$seeds/slow/$target" ] && inputs+=("$seeds/slow/$target")
    [ -d "$here/fuzz-regress/$target" ] && inputs+=("$here/fuzz-regress/$target")
    echo "# $target"
    "$CCR_FUZZ_BIN_DIR/$target-replay" "${inputs[@]}"
done
