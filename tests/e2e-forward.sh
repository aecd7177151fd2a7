#!/usr/bin/env bash
# End to end, forwarding upstream: every fixture goes through ccrun to a
# second `ccrun serve` and arrives with the same records, privacy applied and
# the resource attributes added; an upstream that refuses, stalls, or answers
# 503 with Retry-After leaves the child's time as it is; what was not sent is
# spooled and sent by the next run and by `ccrun flush`; `ccrun export
# --otlp` twice leaves no duplicates.
#
#     CCRUN=build/ccrun tests/e2e-forward.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${CCRUN:?set CCRUN to the ccrun binary under test}"
CCRUN=$(cd "$(dirname "$CCRUN")" && pwd -P)/$(basename "$CCRUN")
DATA=${CCR_TEST_DATA:-$TESTS_DIR/data}
POST=$TESTS_DIR/otlp-post.py
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ccrun-$TEST_NAME.XXXXXX")
SCRATCH=$(cd "$SCRATCH" && pwd -P)
for v in $(compgen -e); do
	case $v in OTEL_* | CCRUN_* | CLAUDE_CODE_*) unset "$v" ;; esac
done
export HOME=$SCRATCH/home XDG_DATA_HOME=$SCRATCH/data XDG_CONFIG_HOME=$SCRATCH/config
DEADLINE_MS=1000

# project DIR [BRANCH]: a directory with a git HEAD on BRANCH (no commit needed).
project() {
	mkdir -p "$1"
	git -C "$1" init -q
	git -C "$1" symbolic-ref HEAD "refs/heads/${2:-main}"
}

# keep_everything DIR: the sink stores what it gets, so the test sees what was sent.
keep_everything() {
	mkdir -p -m 700 "$1/.ccrun"
	printf '[privacy]\nprompts = keep\ntool_details = keep\n' >"$1/.ccrun/config"
}

# start_sink NAME DIR [ARGS]: `ccrun serve` as the upstream; sets SINK_PID and
# SINK_ENV (the export lines pointing at it).
start_sink() {
	local name=$1 dir=$2
	shift 2
	SINK_ENV=$SCRATCH/$name.env
	DEBUG_FILES+=("$SCRATCH/$name.err")
	"$CCRUN" serve --dir "$dir" --port 0 "$@" >"$SINK_ENV" 2>"$SCRATCH/$name.err" </dev/null &
	SINK_PID=$!
	track_pid "$SINK_PID"
	wait_for -t 20 grep -qs '^export OTEL_EXPORTER_OTLP_ENDPOINT=' "$SINK_ENV" ||
		fail "$name: ccrun serve printed no endpoint"
}

stop_sink() {
	kill -TERM "$SINK_PID"
	wait "$SINK_PID" || fail "the sink exited $? after SIGTERM"
}

# start_py_sink NAME ARGS: tests/otlp-sink.py; sets PY_URL and PY_LOG.
start_py_sink() {
	local name=$1
	shift
	PY_LOG=$SCRATCH/$name.jsonl
	: >"$PY_LOG"
	python3 "$TESTS_DIR/otlp-sink.py" --port-file "$SCRATCH/$name.port" --log "$PY_LOG" "$@" \
		>"$SCRATCH/$name.out" 2>&1 &
	track_pid $!
	DEBUG_FILES+=("$SCRATCH/$name.out" "$PY_LOG")
	wait_for -t 10 test -s "$SCRATCH/$name.port" || fail "$name wrote no port"
	PY_URL=http://127.0.0.1:$(cat "$SCRATCH/$name.port")
}

# fixture_files DIR: the request bodies of a fixture, in order (gRPC frames aside).
fixture_files() {
	ls "$1"/[0-9][0-9]-*.pb "$1"/[0-9][0-9]-*.json "$1"/[0-9][0-9]-*.pb.gz 2>/dev/null | sort
}

note "every fixture through ccrun to a ccrun serve upstream"
SRC=$SCRATCH/src
SINK=$SCRATCH/sink
project "$SRC" team-branch
mkdir -p "$SINK"
keep_everything "$SINK"
start_sink sink "$SINK"
# Every other fixture goes upstream as http/json with gzip, the rest as http/protobuf.
n=0
for dir in "$DATA"/*/; do
	mapfile -t files < <(fixture_files "$dir")
	[ ${#files[@]} -gt 0 ] || continue
	out=$SCRATCH/run-$(basename "$dir").err
	DEBUG_FILES+=("$out")
	n=$((n + 1))
	(
		. "$SINK_ENV"
		export OTEL_RESOURCE_ATTRIBUTES='job=claude,team=a%20b'
		if [ $((n % 2)) = 0 ]; then
			export OTEL_EXPORTER_OTLP_PROTOCOL=http/json OTEL_EXPORTER_OTLP_COMPRESSION=gzip
		fi
		cd "$SRC" && "$CCRUN" python3 "$POST" "${files[@]}"
	) 2>"$out" || fail "ccrun on $(basename "$dir") failed: $(cat "$out")"
	grep -q "^ccrun: forwarded ${#files[@]} batch" "$out" ||
		fail "$(basename "$dir"): no 'forwarded ${#files[@]} batches' line: $(tail -3 "$out")"
done
stop_sink
python3 - "$SRC/.ccrun/history.db" "$SINK/.ccrun/history.db" <<'PY' ||
import json, sqlite3, sys
src, sink = (sqlite3.connect(p) for p in sys.argv[1:3])
queries = {
    "events": "select session_id, seq, time_ns, name, attrs from events",
    "points": "select name, unit, kind, temporality, start_ns, time_ns, value, attrs "
              "from metric_points",
    "spans": "select trace_id, span_id, parent_span_id, name, start_ns, end_ns, attrs from spans",
}
for what, q in queries.items():
    a, b = set(src.execute(q)), set(sink.execute(q))
    assert a == b, "%s: %d only upstream, %d only local" % (what, len(b - a), len(a - b))
    assert a, "no %s at all" % what
added = {"ccrun.project": "src", "vcs.repository.ref.name": "team-branch", "job": "claude",
         "team": "a b"}
local = [json.loads(r) for (r,) in src.execute("select attrs from resources")]
for (text,) in sink.execute("select attrs from resources"):
    r = json.loads(text)
    for k, v in added.items():
        assert r.get(k) == v, (k, r)
        r.pop(k)
    assert r in local, r
dump = "\n".join(sink.iterdump())
for secret in ("Deploy with key", "sk-live-EXAMPLE0000"):
    assert secret not in dump, "the upstream got %r in clear" % secret
print("events, points, spans and resources agree")
PY
	fail "the upstream's records differ"

note "the child's time with an upstream that refuses, stalls or answers 503"
# run_child NAME PROJECT URL: one run of a stand-in child posting c-multi-tool;
# prints the child's own time and ccrun's, in ms.
run_child() {
	local name=$1 proj=$2 url=$3 t=$SCRATCH/t-$1
	local args=(--forward-deadline "$DEADLINE_MS")
	if [ "$url" = none ]; then args=(--no-forward); else args+=(--forward "$url"); fi
	local t0 t1
	t0=$(date +%s%N)
	(cd "$proj" && "$CCRUN" "${args[@]}" sh -c \
		'date +%s%N >"$0.start"; python3 "$@"; date +%s%N >"$0.end"' \
		"$t" "$POST" "$DATA"/c-multi-tool/0*.pb) 2>"$t.err" || fail "$name: ccrun failed: $(cat "$t.err")"
	t1=$(date +%s%N)
	echo "$(( ($(cat "$t.end") - $(cat "$t.start")) / 1000000 )) $(( (t1 - t0) / 1000000 ))"
}

# median of three runs: "CHILD_MS CCRUN_MS"
timed() {
	local name=$1 proj=$2 url=$3 i
	for i in 1 2 3; do run_child "$name" "$proj" "$url"; done |
		sort -n | sed -n 2p
}

start_py_sink stall --mode stall
STALL_URL=$PY_URL
start_py_sink busy --mode status --status 503 --retry-after 1 --fail-first 2
BUSY_URL=$PY_URL BUSY_LOG=$PY_LOG
DEAD_URL=http://127.0.0.1:$(free_dead_port)
for p in none refuse stall busy; do project "$SCRATCH/p-$p"; done

read -r none_child none_total < <(timed none "$SCRATCH/p-none" none)
read -r refuse_child refuse_total < <(timed refuse "$SCRATCH/p-refuse" "$DEAD_URL")
grep -q 'spooled to .ccrun/outbox: connection refused' "$SCRATCH/t-refuse.err" ||
	fail "no spool line for a refusing upstream: $(cat "$SCRATCH/t-refuse.err")"
read -r stall_child stall_total < <(timed stall "$SCRATCH/p-stall" "$STALL_URL")
grep -q 'spooled to .ccrun/outbox: no answer before the deadline' "$SCRATCH/t-stall.err" ||
	fail "no spool line for a stalled upstream: $(cat "$SCRATCH/t-stall.err")"
# The 503 upstream fails the first two requests only; the run waits out Retry-After.
busy_first=$(run_child busy "$SCRATCH/p-busy" "$BUSY_URL")
grep -q '^ccrun: forwarded 2 batches' "$SCRATCH/t-busy.err" ||
	fail "503 with Retry-After: not delivered on retry: $(cat "$SCRATCH/t-busy.err")"
python3 - "$BUSY_LOG" <<'PY' || fail "the retries did not honour Retry-After"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
for path in ("/v1/logs", "/v1/metrics"):
    tries = [r for r in log if r["path"] == path]
    assert [r["status"] for r in tries][-1] == 200, tries
    first_503 = min(r["t"] for r in tries if r["status"] == 503)
    first_ok = min(r["t"] for r in tries if r["status"] == 200)
    assert first_ok - first_503 >= 0.99, (path, first_ok - first_503)
PY
read -r busy_child busy_total < <(timed busy "$SCRATCH/p-busy" "$BUSY_URL")
note "child ms (median of 3): none $none_child, refusing $refuse_child, stalled $stall_child," \
	"503 $busy_child; ccrun ms: $none_total, $refuse_total, $stall_total, $busy_total;" \
	"first 503 run: $busy_first"
python3 - "$none_child" "$refuse_child" "$stall_child" "$busy_child" <<'PY' ||
import sys
base, *others = (int(x) for x in sys.argv[1:])
for name, t in zip(("refusing", "stalled", "503"), others):
    print("child time ratio, %s upstream / none: %.2f" % (name, t / base), file=sys.stderr)
    assert t <= base * 1.5 + 150, (name, t, base)
PY
	fail "an upstream slowed the child down"
[ "$stall_total" -le $((stall_child + DEADLINE_MS + 2500)) ] ||
	fail "ccrun took ${stall_total} ms with a stalled upstream (child ${stall_child} ms)"

note "spooled batches: private files, sent by the next run and by ccrun flush"
spooled=$(find "$SCRATCH/p-refuse/.ccrun/outbox" -name '*.pb' | wc -l)
[ "$spooled" -eq 6 ] || fail "expected 6 spooled batches (3 runs x 2), found $spooled"
[ -z "$(find "$SCRATCH/p-refuse/.ccrun/outbox" -name '*.pb' ! -perm 600)" ] ||
	fail "an outbox file is not mode 600"
SINK2=$SCRATCH/sink2
mkdir -p "$SINK2"
keep_everything "$SINK2"
start_sink sink2 "$SINK2"
(
	. "$SINK_ENV"
	cd "$SCRATCH/p-refuse" && "$CCRUN" true
) 2>"$SCRATCH/resend.err" || fail "the resending run failed"
grep -q "^ccrun: forwarded 6 batches to http://127.0.0.1:[0-9]* (6 from the outbox)" \
	"$SCRATCH/resend.err" || fail "the next run did not resend: $(cat "$SCRATCH/resend.err")"
[ -z "$(find "$SCRATCH/p-refuse/.ccrun/outbox" -name '*.pb')" ] || fail "the outbox is not empty"
stalled=$(find "$SCRATCH/p-stall/.ccrun/outbox" -name '*.pb' | wc -l)
[ "$stalled" -gt 0 ] || fail "nothing spooled after the stalled upstream"
(
	. "$SINK_ENV"
	"$CCRUN" flush --dir "$SCRATCH/p-stall"
) 2>"$SCRATCH/flush.err" || fail "ccrun flush failed: $(cat "$SCRATCH/flush.err")"
grep -q "^ccrun: forwarded $stalled batch" "$SCRATCH/flush.err" ||
	fail "flush did not send the outbox: $(cat "$SCRATCH/flush.err")"
[ -z "$(find "$SCRATCH/p-stall/.ccrun/outbox" -name '*.pb')" ] || fail "flush left files behind"
stop_sink
"$CCRUN" last --json --dir "$SINK2" >"$SCRATCH/sink2.json"
json_check "$SCRATCH/sink2.json" 'd["sessions"] == ["34f1baea-5831-4eea-92ec-54eaabb2bd66"]' \
	"the resent batches are not c-multi-tool's"

note "backfill: ccrun export --otlp twice sends the same records, and nothing twice"
SINK3=$SCRATCH/sink3
mkdir -p "$SINK3"
keep_everything "$SINK3"
start_sink sink3 "$SINK3" --no-auth
url=$(sed -n "s|^export OTEL_EXPORTER_OTLP_ENDPOINT='\(.*\)'|\1|p" "$SINK_ENV")
for i in 1 2; do
	"$CCRUN" export --dir "$SRC" --otlp "$url" --since 1d 2>"$SCRATCH/export$i.err" ||
		fail "export $i failed: $(cat "$SCRATCH/export$i.err")"
	grep -q '^ccrun: exported [1-9][0-9]* batches to ' "$SCRATCH/export$i.err" ||
		fail "export $i said: $(cat "$SCRATCH/export$i.err")"
done
stop_sink
python3 - "$SRC/.ccrun/history.db" "$SINK3/.ccrun/history.db" <<'PY' || fail "the backfill differs"
import sqlite3, sys
src, sink = (sqlite3.connect(p) for p in sys.argv[1:3])
events = "select session_id, seq, time_ns, name, attrs from events"
points = ("select name, unit, kind, temporality, start_ns, time_ns, value, attrs "
          "from metric_points where kind != 'histogram'")
for what, q in (("events", events), ("points", points)):
    a, rows = set(src.execute(q)), list(sink.execute(q))
    assert len(rows) == len(set(rows)), "%s: duplicates upstream" % what
    assert set(rows) == a, "%s: %d only upstream, %d only local" % (
        what, len(set(rows) - a), len(a - set(rows)))
print("backfilled %d events and %d points, no duplicates" % (
    len(set(src.execute(events))), len(set(src.execute(points)))))
PY
