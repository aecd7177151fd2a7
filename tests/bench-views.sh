#!/usr/bin/env bash
# Times the views on a generated history of 10,000 runs and a million events
# (tests/gen-history.py) and fails when `last` or `sessions` takes 50 ms or
# more, or `stats` a second or more (best of five runs each). Needs CCRUN.
# Run with: meson test -C build --benchmark (or directly, for the numbers).
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
here=$(cd "$(dirname "$0")" && pwd)
runs=${BENCH_RUNS:-10000}
per_run=${BENCH_EVENTS_PER_RUN:-100}
work=$(mktemp -d /tmp/ccrun-bench-views.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$CCRUN" -q --dir "$work" true
python3 "$here/gen-history.py" "$work/.ccrun/history.db" "$runs" "$per_run"
python3 - "$CCRUN" "$work" <<'PY'
import subprocess, sys, time
ccrun, project = sys.argv[1:3]
limits = [(["last"], 50), (["last", "--json"], 50), (["sessions"], 50),
          (["sessions", "--json"], 50), (["sessions", "--since", "7d"], 50),
          (["show"], 50), (["stats"], 1000), (["stats", "--by", "day"], 1000),
          (["stats", "--by", "model"], 1000), (["stats", "--by", "tool"], 1000),
          (["stats", "--since", "30d", "--by", "session", "--json"], 1000)]
bad = 0
for args, limit in limits:
    best = None
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([ccrun] + args + ["--dir", project], check=True,
                       stdout=subprocess.DEVNULL)
        ms = (time.perf_counter() - t) * 1000
        best = ms if best is None or ms < best else best
    verdict = "ok" if best < limit else "TOO SLOW"
    bad += best >= limit
    print("%-44s %8.1f ms  (limit %d ms) %s" % (" ".join(args), best, limit, verdict))
sys.exit(1 if bad else 0)
PY
