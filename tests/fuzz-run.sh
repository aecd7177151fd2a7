#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and UBSan in a
# tree of their own (CCR_FUZZ_BUILD), seeds them from the fixtures and runs
# each for FUZZ_SECONDS (default 30), with tests/TARGET.dict where there is
# one. A crash fails the test; its input is kept in CCR_FUZZ_BUILD/artifacts,
# to be added to tests/fuzz-regress/TARGET/ with the fix. Longer runs:
# FUZZ_SECONDS=3600 meson test -C build fuzz
set -euo pipefail
: "${CCR_SOURCE_ROOT:?}" "${CCR_FUZZ_BUILD:?}" "${CCR_TEST_DATA:?}"
seconds=${FUZZ_SECONDS:-30}
here=$(cd "$(dirname "$0")" && pwd)
build=$CCR_FUZZ_BUILD
cc=$(command -v clang-14 || command -v clang || true)
[ -n "$cc" ] || { echo "fuzz: clang is not installed (shell/deps.sh --test installs it)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
    CC=$cc meson setup "$build" "$CCR_SOURCE_ROOT" -Dfuzz=enabled \
        -Db_sanitize=address,undefined -Dwerror=true > "$build.setup.log" 2>&1 ||
        { cat "$build.setup.log" >&2; exit 1; }
fi
targets=(fuzz-http fuzz-otlp fuzz-json fuzz-gzip fuzz-config)
ninja -C "$build" -j2 "${targets[@]/#/tests/}" tests/otlp-to-json > /dev/null

work=$(mktemp -d /tmp/ccrun-fuzz-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/fuzz-seeds.py" "$CCR_TEST_DATA" "$work/seeds" "$build/tests/otlp-to-json"
mkdir -p "$build/artifacts"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus-$target"
    seeds=("$work/seeds/$target")
    [ -d "$here/fuzz-regress/$target" ] && seeds+=("$here/fuzz-regress/$target")
    options=()
    [ -f "$here/$target.dict" ] && options+=("-dict=$here/$target.dict")
    log="$work/$target.log"
    if "$build/tests/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
        "${options[@]}" "$work/corpus-$target" "${seeds[@]}" > "$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $target: $execs inputs in ${seconds} s, no crash"
    else
        echo "fuzz: $target FAILED; the input is in $build/artifacts/" >&2
        tail -n 60 "$log" >&2
        status=1
    fi
done
exit $status
