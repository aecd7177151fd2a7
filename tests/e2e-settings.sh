#!/usr/bin/env bash
# End to end: Claude Code's settings must not be able to divert or switch
# off the telemetry ccrun records, and a user's own --settings must keep
# working next to ccrun's.
#
# What Claude Code 2.1.197 does (measured with capture sinks):
# - `env` in ~/.claude/settings.json, <repo>/.claude/settings.json and
#   <repo>/.claude/settings.local.json overrides the process environment
#   (local > project > user > process), OTEL_* included;
# - `--settings` (JSON text or a file path) overrides all three files, but
#   only the LAST --settings on the command line counts: an earlier one is
#   dropped whole, not merged;
# - per-signal variables (OTEL_EXPORTER_OTLP_{LOGS,METRICS}_{ENDPOINT,
#   PROTOCOL}) from a settings file beat the generic ones from --settings,
#   so the per-signal ones must be set (or set to "", which counts as unset)
#   too; OTEL_EXPORTER_OTLP_*_HEADERS per signal are not read at all;
# - managed settings (/etc/claude-code/managed-settings.json) beat
#   --settings; nothing on the command line overrides them.
#
#     CCRUN=build/ccrun tests/e2e-settings.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_setup

dead=http://127.0.0.1:$(free_dead_port)

# run_case NAME ARGS...: `ccrun claude -p ... ARGS` in the repository, with
# the variables in CASE_ENV added to the environment and a fresh fake API
# whose Bash step runs $BASH_CMD; leaves $out, $err, $last.
CASE_ENV=()
run_case() {
	local name=$1 rc=0
	shift
	write_api_script "$SCRATCH/$name.api.json" "$BASH_CMD"
	start_fake_api "$SCRATCH/$name.api.json"
	out=$SCRATCH/$name.out.json
	err=$SCRATCH/$name.stderr.txt
	last=$SCRATCH/$name.last.json
	DEBUG_FILES+=("$err" "$out" "$last")
	(cd "$REPO" && env "${CASE_ENV[@]+"${CASE_ENV[@]}"}" timeout -k 5 45 "$CCRUN" claude \
		-p "Say hello using bash" --output-format json "$@") >"$out" 2>"$err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || fail "$name: ccrun claude -p exited $rc"
	json_check "$out" 'd["type"] == "result" and d["is_error"] is False' \
		"$name: Claude Code's result is not a success"
	ccrun_last "$last"
}

# check_recorded NAME: ccrun's record agrees with Claude Code's result.
check_recorded() {
	local name=$1 cost got session
	json_check "$last" 'd["api_requests"] >= 1' "$name: no API request recorded"
	json_check "$last" 'd["metric_points"] >= 1' "$name: no metric point recorded"
	cost=$(json_get "$out" 'd["total_cost_usd"]')
	got=$(json_get "$last" 'd["cost_usd"]') || fail "$name: ccrun last --json has no cost_usd"
	approx_eq "$got" "$cost" || fail "$name: cost_usd $got differs from total_cost_usd $cost"
	session=$(json_get "$out" 'd["session_id"]')
	json_check "$last" "'$session' in d['sessions']" "$name: sessions does not list $session"
}

# tool_output: what the Bash call printed, as the fake API received it.
tool_output() {
	python3 - "$API_LOG" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    for r in json.loads(line).get("tool_results") or []:
        print(r["content"])
PY
}

# 1. Hostile project settings and a hostile inherited environment: every
#    exporter variable points at a dead port, logs are switched off, the
#    per-signal protocols say gRPC and the session id is dropped.
mkdir -p "$REPO/.claude"
python3 - "$REPO/.claude/settings.json" "$dead" <<'PY'
import json, sys
path, dead = sys.argv[1:3]
env = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": dead,
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": dead + "/v1/logs",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": dead + "/v1/metrics",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer not-ccrun",
    "OTEL_LOGS_EXPORTER": "none",
    "OTEL_METRICS_INCLUDE_SESSION_ID": "false",
    "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
    "CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS": "1",
}
with open(path, "w") as f:
    json.dump({"env": env}, f, indent=2)
PY
BASH_CMD='echo hello-from-tool'
CASE_ENV=(OTEL_EXPORTER_OTLP_ENDPOINT="$dead" OTEL_LOGS_EXPORTER=none
	OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="$dead/v1/logs" OTEL_METRICS_EXPORTER=none)
run_case hostile-settings --allowedTools Bash
check_recorded hostile-settings
json_check "$last" "named(d['tools'], 'Bash')['calls'] == 1" "hostile-settings: Bash call not recorded"
CASE_ENV=()

# 2. The user's own --settings, as JSON text: its env reaches the tool, its
#    permission allows Bash (no --allowedTools), and ccrun still records
#    (the hostile project settings stay: if ccrun's own settings were
#    dropped for the user's, nothing would be recorded).
BASH_CMD='echo "FOO=${FOO:-unset}"'
run_case user-settings-json \
	--settings '{"env": {"FOO": "from-json"}, "permissions": {"allow": ["Bash"]}}'
check_recorded user-settings-json
json_check "$out" 'd["permission_denials"] == []' \
	"user-settings-json: Bash was denied, the user's permissions were lost"
[ "$(tool_output)" = FOO=from-json ] ||
	fail "user-settings-json: the tool printed '$(tool_output)', expected FOO=from-json"
json_check "$last" "named(d['tools'], 'Bash')['succeeded'] == 1" "user-settings-json: Bash success not recorded"

# 3. The same as a settings file path given with --settings=FILE, with a
#    local settings file that switches logs off on top.
printf '{"env": {"OTEL_LOGS_EXPORTER": "none"}}\n' >"$REPO/.claude/settings.local.json"
printf '{"env": {"FOO": "from-file"}, "permissions": {"allow": ["Bash"]}}\n' >"$SCRATCH/user-settings.json"
run_case user-settings-file --settings="$SCRATCH/user-settings.json"
check_recorded user-settings-file
json_check "$out" 'd["permission_denials"] == []' \
	"user-settings-file: Bash was denied, the user's permissions were lost"
[ "$(tool_output)" = FOO=from-file ] ||
	fail "user-settings-file: the tool printed '$(tool_output)', expected FOO=from-file"
json_check "$last" "named(d['tools'], 'Bash')['succeeded'] == 1" "user-settings-file: Bash success not recorded"
