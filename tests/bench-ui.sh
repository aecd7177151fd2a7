#!/usr/bin/env bash
# Times `ccrun ui` in Debian's chromium (tests/ui-bench.mjs): first paint,
# and one run of 10,000 events (tests/gen-history.py) from the click to a
# drawn view; prints the compressed size of the page's assets. Needs CCRUN.
# Run with: meson test -C build --benchmark (or directly, for the numbers).
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
here=$(cd "$(dirname "$0")" && pwd)
events=${BENCH_UI_EVENTS:-10000}
work=$(mktemp -d /tmp/ccrun-bench-ui.XXXXXX)
ui_pid=
cleanup() {
    [ -z "$ui_pid" ] || kill "$ui_pid" 2> /dev/null || true
    [ -z "$ui_pid" ] || wait "$ui_pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (shell/deps.sh --test installs it)"
pw=$("$here/../shell/setup-playwright.sh") || fail "cannot install playwright-core"

"$CCRUN" -q --dir "$work" true
python3 "$here/gen-history.py" "$work/.ccrun/history.db" 1 "$events"
run=$(sqlite3 "$work/.ccrun/history.db" 'select max(id) from runs')

"$CCRUN" ui --port 0 --dir "$work" > "$work/url.txt" 2> "$work/ui.err" &
ui_pid=$!
deadline=$((SECONDS + 10))
until grep -q '^http://' "$work/url.txt"; do
    [ $SECONDS -lt $deadline ] || fail "no URL printed: $(cat "$work/ui.err")"
    sleep 0.05
done
url=$(cat "$work/url.txt")
base=${url%%/\?token=*}
token=${url##*token=}

total=0
for path in $(curl -s -H "Authorization: Bearer $token" "$base/" |
              sed -n 's/.*\(href\|src\)="\(\/[^"]*\)".*/\2/p') /lib/chart.min.js; do
    n=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' \
        -H "Authorization: Bearer $token" "$base$path")
    total=$((total + n))
done
echo "compressed assets: $((total / 1024)) KiB (page, styles, scripts and Chart.js)"
n=$(curl -s -o /dev/null -w '%{size_download} bytes in %{time_total} s' -H 'Accept-Encoding: gzip' \
    -H "Authorization: Bearer $token" "$base/api/v1/runs/$run/events?limit=0")
echo "events of run $run over the API, compressed: $n"
node "$here/ui-bench.mjs" "$pw" "$url" "$run"
