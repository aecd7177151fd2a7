#!/usr/bin/env bash
# End to end, `ccrun serve` and `ccrun env`: a long-running receiver that
# two exporters it did not start use at once (one over HTTP/1.1 with small
# chunks, one over gRPC), stopped by SIGTERM with everything committed;
# then --no-auth, a port already in use, and `env` with nothing running.
#
#     CCRUN=build/ccrun tests/e2e-serve.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is needed (shell/deps.sh --test installs it)"
: "${CCRUN:?set CCRUN to the ccrun binary under test}"
CCRUN=$(cd "$(dirname "$CCRUN")" && pwd -P)/$(basename "$CCRUN")
DATA=${CCR_TEST_DATA:-$TESTS_DIR/data}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ccrun-$TEST_NAME.XXXXXX")
PROJ=$SCRATCH/proj
mkdir -p "$PROJ"
export HOME=$SCRATCH/home XDG_DATA_HOME=$SCRATCH/data
unset CCRUN_DIR

# start_serve NAME ARGS...: ccrun serve in the background; waits until its
# state file is written, so `ccrun env` can answer.
start_serve() {
	local name=$1
	shift
	serve_out=$SCRATCH/$name.stdout serve_err=$SCRATCH/$name.stderr
	DEBUG_FILES+=("$serve_err" "$serve_out")
	"$CCRUN" serve "$@" >"$serve_out" 2>"$serve_err" </dev/null &
	serve_pid=$!
	track_pid "$serve_pid"
	wait_for -t 20 grep -q '^export OTEL_EXPORTER_OTLP_ENDPOINT=' "$serve_out" ||
		fail "$name: ccrun serve printed no endpoint"
}

# stop_serve: SIGTERM, then its exit status must be 0 within the deadline.
stop_serve() {
	kill -TERM "$serve_pid"
	wait_for -t 20 sh -c "! kill -0 $serve_pid 2>/dev/null" || fail "serve did not stop on SIGTERM"
	wait "$serve_pid" || fail "serve exited $? after SIGTERM"
}

start_serve first --dir "$PROJ" --port 0
"$CCRUN" env --dir "$PROJ" >"$SCRATCH/env.sh" || fail "ccrun env failed while serve runs"
cmp -s "$SCRATCH/env.sh" "$serve_out" || fail "ccrun env differs from what serve printed"
"$CCRUN" env --dir "$PROJ" --settings >"$SCRATCH/settings.json"
json_check "$SCRATCH/settings.json" 'd["env"]["OTEL_EXPORTER_OTLP_HEADERS"].startswith("Authorization=Bearer ")' \
	"env --settings has no bearer header"
[ "$(stat -c %a "$PROJ/.ccrun/serve.json")" = 600 ] || fail "serve.json is not mode 600"

# Two exporters at once: c-multi-tool over HTTP/1.1 in 200-byte chunks and
# j2's messages over gRPC, each in a loop of its own.
(
	. "$SCRATCH/env.sh"
	python3 "$TESTS_DIR/otlp-post.py" --chunk 200 "$DATA"/c-multi-tool/0*.pb
) >"$SCRATCH/http.txt" 2>&1 &
http_pid=$!
(
	. "$SCRATCH/env.sh"
	token=${OTEL_EXPORTER_OTLP_HEADERS#Authorization=Bearer }
	for f in 01-logs:logs.v1.LogsService 02-metrics:metrics.v1.MetricsService; do
		curl -sS --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' \
			-H "authorization: Bearer $token" --data-binary "@$DATA/j2-grpc-h2c/${f%%:*}.grpc" \
			"$OTEL_EXPORTER_OTLP_ENDPOINT/opentelemetry.proto.collector.${f#*:}/Export"
	done
) >"$SCRATCH/grpc.txt" 2>&1 &
grpc_pid=$!
DEBUG_FILES+=("$SCRATCH/http.txt" "$SCRATCH/grpc.txt")
wait "$http_pid" || fail "the HTTP/1.1 exporter failed"
wait "$grpc_pid" || fail "the gRPC exporter failed"
[ "$(tr -d '\r' <"$SCRATCH/grpc.txt" | grep -c '^grpc-status: 0$')" = 2 ] ||
	fail "the gRPC exporter did not get two OK statuses"

stop_serve
[ ! -e "$PROJ/.ccrun/serve.json" ] || fail "serve.json is left behind"
grep -q 'stopped' "$serve_err" || fail "serve did not say it stopped"

last=$SCRATCH/last.json
DEBUG_FILES+=("$last")
"$CCRUN" last --json --dir "$PROJ" >"$last" || fail "ccrun last --json failed"
python3 - "$last" "$DATA/c-multi-tool/expected.json" "$DATA/j2-grpc-h2c/expected.json" <<'PY' ||
import json, sys
got = json.load(open(sys.argv[1]))
wants = [json.load(open(p)) for p in sys.argv[2:]]
assert got["command"] == ["ccrun", "serve"], got["command"]
assert sorted(got["sessions"]) == sorted(s for w in wants for s in w["session_ids"]), got["sessions"]
cost = sum(w["api_request_totals"]["cost_usd"] for w in wants)
assert abs(got["cost_usd"] - cost) < 1e-9, (got["cost_usd"], cost)
assert got["events"] == sum(sum(w["event_counts"].values()) for w in wants), got["events"]
assert got["exit_code"] == 0 and got["ended_at"] is not None
PY
	fail "the serve run does not hold both exporters' figures"

# --grpc-port: a second listener with the same token and history. An
# exporter sends j2's messages over gRPC to it while another posts b-bash-ok
# over HTTP/1.1 to --port; both land in the one run.
PROJ2=$SCRATCH/proj2
mkdir -p "$PROJ2"
start_serve grpcport --dir "$PROJ2" --port 0 --grpc-port 0
grpc_port=$(sed -n "s|^# export OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:\([0-9]*\)'$|\1|p" \
	"$serve_out")
[ -n "$grpc_port" ] && [ "$grpc_port" != 0 ] ||
	fail "serve printed no gRPC endpoint: $(cat "$serve_out")"
grep -q "^ccrun: and OTLP/gRPC on http://127.0.0.1:$grpc_port$" "$serve_err" ||
	fail "the banner does not name the gRPC port"
json_check "$PROJ2/.ccrun/serve.json" "d['grpc_port'] == $grpc_port" "serve.json has no grpc_port"
"$CCRUN" env --dir "$PROJ2" >"$SCRATCH/env2.sh" || fail "ccrun env failed with a gRPC port"
cmp -s "$SCRATCH/env2.sh" "$serve_out" || fail "ccrun env differs from what serve printed (gRPC)"
http_port=$(sed -n "s|^export OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:\([0-9]*\)'|\1|p" \
	"$serve_out")
[ "$http_port" != "$grpc_port" ] || fail "one port for both listeners"
(
	. "$SCRATCH/env2.sh"
	python3 "$TESTS_DIR/otlp-post.py" "$DATA"/b-bash-ok/0*.pb
) >"$SCRATCH/http2.txt" 2>&1 &
http_pid=$!
(
	. "$SCRATCH/env2.sh"
	token=${OTEL_EXPORTER_OTLP_HEADERS#Authorization=Bearer }
	for t in "$token" wrong; do
		for f in 01-logs:logs.v1.LogsService 02-metrics:metrics.v1.MetricsService; do
			curl -sS --http2-prior-knowledge -D - -o /dev/null \
				-H 'content-type: application/grpc' -H "authorization: Bearer $t" \
				--data-binary "@$DATA/j2-grpc-h2c/${f%%:*}.grpc" \
				"http://127.0.0.1:$grpc_port/opentelemetry.proto.collector.${f#*:}/Export"
		done
	done
) >"$SCRATCH/grpc2.txt" 2>&1 &
grpc_pid=$!
DEBUG_FILES+=("$SCRATCH/http2.txt" "$SCRATCH/grpc2.txt")
wait "$http_pid" || fail "the HTTP/1.1 exporter to --port failed"
wait "$grpc_pid" || fail "the gRPC exporter to --grpc-port failed"
statuses=$(tr -d '\r' <"$SCRATCH/grpc2.txt" | sed -n 's/^grpc-status: //p' | tr '\n' ' ')
[ "$statuses" = "0 0 16 16 " ] ||
	fail "gRPC statuses on --grpc-port: '$statuses', expected 0 0 16 16"
# The second listener takes OTLP/HTTP too, answered on its own connections
# (an empty export: it adds nothing to the figures checked below).
code=$(
	. "$SCRATCH/env2.sh"
	curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
		-H "Authorization: Bearer ${OTEL_EXPORTER_OTLP_HEADERS#Authorization=Bearer }" \
		--data-binary '' "http://127.0.0.1:$grpc_port/v1/logs"
) || fail "an HTTP/1.1 export to --grpc-port got no answer"
[ "$code" = 200 ] || fail "an HTTP/1.1 export to --grpc-port was answered $code"
# A busy gRPC port fails the start like a busy --port.
mkdir -p "$SCRATCH/busy"
rc=0
"$CCRUN" serve --port 0 --grpc-port "$http_port" --dir "$SCRATCH/busy" >/dev/null \
	2>"$SCRATCH/busy2.txt" </dev/null || rc=$?
[ "$rc" = 1 ] && grep -q 'address already in use' "$SCRATCH/busy2.txt" ||
	fail "serve with a busy --grpc-port exited $rc: $(cat "$SCRATCH/busy2.txt")"
stop_serve
"$CCRUN" last --json --dir "$PROJ2" >"$last" || fail "ccrun last --json failed (gRPC port)"
python3 - "$last" "$DATA/b-bash-ok/expected.json" "$DATA/j2-grpc-h2c/expected.json" <<'PY' ||
import json, sys
got = json.load(open(sys.argv[1]))
wants = [json.load(open(p)) for p in sys.argv[2:]]
assert got["command"] == ["ccrun", "serve"] and got["run_id"] == 1, (got["command"], got["run_id"])
want_sessions = sorted(s for w in wants for s in w["session_ids"])
assert sorted(got["sessions"]) == want_sessions, got["sessions"]
cost = sum(w["api_request_totals"]["cost_usd"] for w in wants)
assert abs(got["cost_usd"] - cost) < 1e-9, (got["cost_usd"], cost)
for k in ("input", "output", "cache_read", "cache_creation"):
    assert got["tokens"][k] == sum(w["api_request_totals"][k] for w in wants), k
assert got["events"] == sum(sum(w["event_counts"].values()) for w in wants), got["events"]
assert got["metric_points"] == sum(s["npoints"] for w in wants for m in w["metrics"].values()
                                   for s in m), got["metric_points"]
PY
	fail "the run of serve --grpc-port does not hold both exporters' figures"

# --no-auth takes requests without a token; the per-user history is used
# when no --dir is given.
start_serve noauth --port 0 --no-auth
! grep -q OTEL_EXPORTER_OTLP_HEADERS "$serve_out" || fail "--no-auth still prints a token"
(
	. "$serve_out"
	python3 "$TESTS_DIR/otlp-post.py" --token "" "$DATA"/a-text-only/01-logs.pb
) || fail "--no-auth refused a request without a token"
port=$(sed -n "s|^export OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:\([0-9]*\)'|\1|p" "$serve_out")

# A second serve on the same port fails cleanly.
rc=0
"$CCRUN" serve --port "$port" --dir "$PROJ" >/dev/null 2>"$SCRATCH/busy.txt" </dev/null || rc=$?
[ "$rc" = 1 ] || fail "serve on a busy port exited $rc, expected 1"
grep -q 'address already in use' "$SCRATCH/busy.txt" || fail "no reason given for the busy port"
stop_serve
[ -f "$XDG_DATA_HOME/ccrun/.ccrun/history.db" ] || fail "no per-user history under XDG_DATA_HOME"

# env with nothing running says so.
rc=0
"$CCRUN" env --dir "$PROJ" >/dev/null 2>"$SCRATCH/none.txt" || rc=$?
[ "$rc" = 1 ] && grep -q 'no ccrun serve is running' "$SCRATCH/none.txt" ||
	fail "ccrun env with no serve running exited $rc"
