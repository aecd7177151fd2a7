#!/usr/bin/env bash
# ccrun end to end with a stand-in child that posts real Claude Code bodies,
# chunked, to the endpoint ccrun injects. Needs CCRUN and CCR_TEST_DATA.
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"
here=$(cd "$(dirname "$0")" && pwd)
post="$here/otlp-post.py"
work=$(mktemp -d /tmp/ccrun-e2e-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q repo
mkdir -p repo/sub
cd repo/sub

fail() { echo "FAIL: $*" >&2; exit 1; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }

echo "# a run is recorded at the git top level, its stdout untouched"
"$CCRUN" sh -c 'echo child-stdout; exec python3 "$0" "$@"' "$post" --chunk 700 \
    "$CCR_TEST_DATA"/b-bash-ok/0*.pb > out.txt 2> err.txt || fail "ccrun failed: $(cat err.txt)"
[ "$(cat out.txt)" = child-stdout ] || fail "stdout changed: $(cat out.txt)"
grep -q 'cost' err.txt || fail "no summary on stderr: $(cat err.txt)"
[ -d ../.ccrun ] || fail ".ccrun not at the git top level"
[ "$(stat -c %a ../.ccrun)" = 700 ] || fail ".ccrun mode is $(stat -c %a ../.ccrun)"
[ "$(cat ../.ccrun/.gitignore)" = '*' ] || fail ".ccrun/.gitignore does not hold *"
"$CCRUN" last --json > last.json
[ "$(jget last.json 'd["cost_usd"]')" = 0.02275 ] || fail "cost $(jget last.json 'd["cost_usd"]')"
[ "$(jget last.json 'd["tokens"]')" = "{'input': 2400, 'output': 80, 'cache_read': 10000, 'cache_creation': 600}" ] \
    || fail "tokens $(jget last.json 'd["tokens"]')"
[ "$(jget last.json 'd["sessions"]')" = "['54176c56-2c4b-4cc1-a14e-2e530a0e5bd1']" ] || fail sessions
[ "$(jget last.json 'd["tools"][0]["name"], d["tools"][0]["succeeded"]')" = "('Bash', 1)" ] || fail tools
[ "$(jget last.json 'd["events"], d["api_requests"], d["exit_code"]')" = "(6, 2, 0)" ] || fail counts
for key in run_id command cwd started_at ended_at duration_ms exit_code sessions cost_usd tokens \
           api_requests api_errors prompts models tools lines_added lines_removed events; do
    jget last.json "d['$key']" > /dev/null || fail "last --json lacks $key"
done
"$CCRUN" last > last.txt
grep -q '\$0.0228' last.txt || fail "ccrun last text: $(cat last.txt)"

echo "# --dir and CCRUN_DIR choose the project"
mkdir -p "$work/other"
"$CCRUN" --dir "$work/other" true 2> /dev/null
[ -f "$work/other/.ccrun/history.db" ] || fail "--dir ignored"
CCRUN_DIR="$work/other" "$CCRUN" last --json > other.json
[ "$(jget other.json 'd["command"]')" = "['true']" ] || fail "CCRUN_DIR ignored"

echo "# a wrong token gets 401 and stores nothing"
"$CCRUN" python3 "$post" --token wrong --expect 401 "$CCR_TEST_DATA"/b-bash-ok/01-logs.pb 2> err.txt \
    || fail "401 case: $(cat err.txt)"
grep -q 'no telemetry received from python3' err.txt || fail "no-telemetry line: $(cat err.txt)"
"$CCRUN" last --json > last.json
[ "$(jget last.json 'd["events"]')" = 0 ] || fail "events stored despite a wrong token"

echo "# a malformed body gets 400 and the rest of the session is still recorded"
# All bits set: an over-long varint where the first tag should be. (Random
# bytes decode as a valid message now and then: unknown fields are skipped.)
head -c 100 /dev/zero | tr '\0' '\377' > junk-logs.pb
"$CCRUN" sh -c 'python3 "$0" --expect 400 junk-logs.pb && python3 "$0" "$@"' "$post" \
    "$CCR_TEST_DATA"/c-multi-tool/0*.pb 2> err.txt || fail "400 case: $(cat err.txt)"
"$CCRUN" last --json > last.json
[ "$(jget last.json 'd["api_requests"] > 0 and d["events"] > 0')" = True ] || fail "session lost after a bad body"

echo "# an oversized body gets 413, a broken request 400, and the next connection still works"
cat > raw.py <<'PY'
import os, socket, sys, urllib.parse
u = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
auth = os.environ["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
def ask(data):
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    s.sendall(data)
    line = s.makefile("rb").readline().decode()
    s.close()
    return line.split()[1] if line else "closed"
big = ("POST /v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
       "Content-Type: application/x-protobuf\r\nContent-Length: 999999999\r\n\r\n" % auth)
got = [ask(big.encode()), ask(b"GARBAGE\r\n\r\n"),
       ask(b"GET /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n"),
       ask(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
print(" ".join(got))
sys.exit(0 if got == ["413", "400", "405", "404"] else 1)
PY
"$CCRUN" -q python3 raw.py > raw.txt || fail "raw requests: $(cat raw.txt)"

echo "# Expect: 100-continue is answered, and an absolute-form target is routed"
cat > expect.py <<'PY'
import os, socket, sys, urllib.parse
u = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
auth = os.environ["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
body = open(sys.argv[1], "rb").read()
s = socket.create_connection((u.hostname, u.port), timeout=10)
s.sendall(("POST http://127.0.0.1:%d/v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
           "Content-Type: application/x-protobuf\r\nExpect: 100-continue\r\n"
           "Content-Length: %d\r\n\r\n" % (u.port, auth, len(body))).encode())
f = s.makefile("rb")
first = f.readline().split()[1]
f.readline()
s.sendall(body)
second = f.readline().split()[1]
sys.exit(0 if (first, second) == (b"100", b"200") else 1)
PY
"$CCRUN" -q python3 expect.py "$CCR_TEST_DATA/b-bash-ok/01-logs.pb" || fail "Expect: 100-continue"
"$CCRUN" -q python3 "$post" "$CCR_TEST_DATA"/a-text-only/0*.pb || fail "posting after bad requests"

# lock_then_post DIR SECONDS STATUS: another process holds DIR's history
# locked for SECONDS while the child posts two bodies, expecting STATUS.
lock_then_post() {
	cat > lock-then-post.sh <<SH
python3 - "$1/.ccrun/history.db" $2 > lock.out <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
PY
for _ in \$(seq 100); do grep -q locked lock.out 2>/dev/null && break; sleep 0.05; done
python3 "$post" --expect $3 $CCR_TEST_DATA/b-bash-ok/01-logs.pb $CCR_TEST_DATA/b-bash-ok/02-metrics.pb
SH
	"$CCRUN" --dir "$1" sh lock-then-post.sh 2> err.txt
}

echo "# a history locked by another process for seconds: the exporter waits, then gets 200"
mkdir -p "$work/locked" && "$CCRUN" -q --dir "$work/locked" true
start=$(date +%s)
lock_then_post "$work/locked" 3 200 || fail "locked history: $(cat err.txt)"
[ $(($(date +%s) - start)) -ge 2 ] || fail "the answers did not wait for the lock"
CCRUN_DIR="$work/locked" "$CCRUN" last --json > last.json
[ "$(jget last.json 'd["events"], d["api_requests"]')" = "(6, 2)" ] || fail "not stored: $(cat err.txt)"
if grep -q 'could not be stored' err.txt; then fail "warned although everything was stored"; fi

echo "# locked for longer than ccrun waits: 500, and the requests are stored after the child"
mkdir -p "$work/locked-long" && "$CCRUN" -q --dir "$work/locked-long" true
lock_then_post "$work/locked-long" 12 500 || fail "locked history (long): $(cat err.txt)"
CCRUN_DIR="$work/locked-long" "$CCRUN" last --json > last.json
[ "$(jget last.json 'd["events"], d["api_requests"]')" = "(6, 2)" ] ||
	fail "held requests not stored: $(cat err.txt)"
if grep -q 'could not be stored' err.txt; then fail "warned although everything was stored"; fi

echo "# exit statuses pass through"
set +e
"$CCRUN" -q sh -c 'exit 42'; [ $? = 42 ] || fail "exit 42 not passed through"
"$CCRUN" -q sh -c 'kill -9 $$'; [ $? = 137 ] || fail "SIGKILL not 137"
"$CCRUN" -q /nonexistent/cmd 2> err.txt; [ $? = 127 ] || fail "missing command not 127"
grep -q 'cannot run /nonexistent/cmd' err.txt || fail "missing command message: $(cat err.txt)"
set -e
"$CCRUN" last --json > last.json
[ "$(jget last.json 'd["exit_code"]')" = 127 ] || fail "exit code of missing command not recorded"

echo "# SIGTERM to ccrun reaches the child; SIGINT does not stop ccrun"
"$CCRUN" -q sh -c 'trap "exit 7" TERM; touch ready; while :; do sleep 0.05; done' &
pid=$!
for _ in $(seq 100); do [ -f ready ] && break; sleep 0.05; done
kill -INT $pid 2> /dev/null || true
sleep 0.2
kill -0 $pid 2> /dev/null || fail "SIGINT killed ccrun"
kill -TERM $pid
set +e; wait $pid; st=$?; set -e
[ $st = 7 ] || fail "child status after SIGTERM was $st, wanted 7"

echo "# an unwritable .ccrun never stops the command"
mkdir -p "$work/broken" && touch "$work/broken/.ccrun"
set +e
"$CCRUN" --dir "$work/broken" sh -c 'echo still-ran; exit 3' > out.txt 2> err.txt; st=$?
set -e
[ $st = 3 ] || fail "status $st with an unwritable .ccrun"
[ "$(cat out.txt)" = still-ran ] || fail "command did not run"
grep -q 'not recording this run' err.txt || fail "no warning: $(cat err.txt)"

echo "# a corrupt history never stops the command"
mkdir -p "$work/corrupt/.ccrun" && head -c 8192 /dev/urandom > "$work/corrupt/.ccrun/history.db"
set +e
"$CCRUN" --dir "$work/corrupt" sh -c 'exit 5' 2> err.txt; st=$?
set -e
[ $st = 5 ] || fail "status $st with a corrupt history"
grep -q 'not recording this run' err.txt || fail "no warning: $(cat err.txt)"

echo "# usage errors"
set +e
"$CCRUN" > /dev/null 2>&1; [ $? = 125 ] || fail "no command should exit 125"
"$CCRUN" --bogus true > /dev/null 2> err.txt; [ $? = 125 ] || fail "bad option should exit 125"
set -e
grep -q 'unknown option --bogus' err.txt || fail "bad option message: $(cat err.txt)"
"$CCRUN" --help > help.txt && grep -q '^usage: ccrun' help.txt || fail "--help"
echo "all stand-in checks passed"
