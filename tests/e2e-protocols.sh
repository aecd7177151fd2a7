#!/usr/bin/env bash
# End to end: the real Claude Code exporting over gRPC (h2c) and over
# OTLP/JSON must record the same figures as with http/protobuf.
#
# How the protocol is forced, as a user's setup would: the project's
# .claude/settings.json sets OTEL_EXPORTER_OTLP_PROTOCOL and the per-signal
# ..._PROTOCOL variables, and the command is a wrapper script rather than
# `claude`, so ccrun passes its variables in the environment only (no
# --settings) and the settings file wins over them, as it does for Claude
# Code started by another tool. Endpoint and token still come from ccrun.
#
#     CCRUN=build/ccrun tests/e2e-protocols.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_setup
export CCRUN_LOG=debug

wrapper=$SCRATCH/cc-wrapper
printf '#!/bin/sh\nexec "%s" "$@"\n' "$CLAUDE_BIN" >"$wrapper"
chmod +x "$wrapper"

# run_protocol NAME PROTOCOL [EXTRA_ENV_JSON]: one print-mode run with the
# project's settings forcing PROTOCOL; leaves $out and $last.
run_protocol() {
	local name=$1 proto=$2 extra=${3:-"{}"} rc=0
	mkdir -p "$REPO/.claude"
	python3 - "$REPO/.claude/settings.json" "$proto" "$extra" <<'PY'
import json, sys
path, proto, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
env = {"OTEL_EXPORTER_OTLP_PROTOCOL": proto}
for s in ("LOGS", "METRICS", "TRACES"):
    env["OTEL_EXPORTER_OTLP_%s_PROTOCOL" % s] = proto
env.update(extra)
json.dump({"env": env}, open(path, "w"))
PY
	write_api_script "$SCRATCH/$name.api.json"
	start_fake_api "$SCRATCH/$name.api.json"
	out=$SCRATCH/$name.out.json
	err=$SCRATCH/$name.stderr.txt
	last=$SCRATCH/$name.last.json
	DEBUG_FILES+=("$err" "$out" "$last" "$REPO/.ccrun/ccrun.log")
	if [ -f "$REPO/.ccrun/ccrun.log" ]; then : >"$REPO/.ccrun/ccrun.log"; fi
	(cd "$REPO" && timeout -k 5 90 "$CCRUN" -- "$wrapper" -p "Say hello using bash" \
		--allowedTools Bash --output-format json) >"$out" 2>"$err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || fail "$name: ccrun -- cc-wrapper exited $rc"
	rm -f "$REPO/.claude/settings.json"
	grep -E "HTTP/2|stored" "$REPO/.ccrun/ccrun.log" | sed "s/^/  $name: /" >&2 || true
	ccrun_last "$last"
}

# check_same NAME: the record agrees with Claude Code's own result.
check_same() {
	local name=$1 cost got want pair mine theirs session
	json_check "$out" 'd["type"] == "result" and d["is_error"] is False' \
		"$name: Claude Code's result is not a success"
	cost=$(json_get "$out" 'd["total_cost_usd"]')
	got=$(json_get "$last" 'd["cost_usd"]') || fail "$name: no cost_usd"
	approx_eq "$got" "$cost" || fail "$name: cost_usd $got differs from total_cost_usd $cost"
	for pair in input:input_tokens output:output_tokens \
		cache_read:cache_read_input_tokens cache_creation:cache_creation_input_tokens; do
		mine=${pair%%:*} theirs=${pair#*:}
		want=$(json_get "$out" "d['usage']['$theirs']")
		got=$(json_get "$last" "d['tokens']['$mine']")
		[ "$got" = "$want" ] || fail "$name: tokens.$mine is $got, usage.$theirs is $want"
	done
	session=$(json_get "$out" 'd["session_id"]')
	json_check "$last" "'$session' in d['sessions']" "$name: sessions does not list $session"
	json_check "$last" "named(d['tools'], 'Bash')['calls'] == 1" "$name: Bash is not 1 call"
	json_check "$last" "d['metric_points'] > 0" "$name: no metric points"
}

run_protocol grpc grpc
check_same grpc
grep -q 'connection speaks HTTP/2' "$REPO/.ccrun/ccrun.log" ||
	fail "grpc: the receiver never saw an HTTP/2 connection"
grep -q 'stored logs request .*encoding=protobuf' "$REPO/.ccrun/ccrun.log" ||
	fail "grpc: no logs export was stored"

run_protocol json http/json
check_same json
grep -q 'stored metrics request .*encoding=json' "$REPO/.ccrun/ccrun.log" ||
	fail "json: no metrics export arrived as JSON"
! grep -q 'connection speaks HTTP/2' "$REPO/.ccrun/ccrun.log" ||
	fail "json: an HTTP/2 connection appeared"

run_protocol grpc-gzip grpc '{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}'
check_same grpc-gzip
grep -q 'stored logs request .*encoding=protobuf+gzip' "$REPO/.ccrun/ccrun.log" ||
	fail "grpc-gzip: no gzip-compressed gRPC message arrived"

run_protocol json-gzip http/json '{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}'
check_same json-gzip
grep -q 'stored logs request .*encoding=json+gzip' "$REPO/.ccrun/ccrun.log" ||
	fail "json-gzip: no gzip-compressed JSON arrived"
