#!/usr/bin/env bash
# Every test in one command: install what is missing (Debian packages, and
# Claude Code from npm into a cache outside the repository), build with
# AddressSanitizer and UBSan, run all tests including the end-to-end ones with
# the real Claude Code, and print "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/shell/deps.sh" --test
CLAUDE_BIN=$("$top/shell/setup-claude.sh")
export CLAUDE_BIN

dir=build-test
BUILD_DIR=$dir "$top/shell/build.sh" -Db_sanitize=address,undefined -Dwerror=true
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

set +e
meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
rc=$?
set -e
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"):
        passed += 1
    else:
        failed += 1
print("%d passed, %d failed" % (passed, failed))
PY
exit $rc
