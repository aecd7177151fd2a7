# Shared setup for the end-to-end tests that drive the real Claude Code
# through ccrun. Source it from a tests/e2e-*.sh script:
#
#     . "$(dirname "$0")/lib.sh"
#     e2e_setup                      # scratch dir, repo, HOME, environment
#     write_api_script "$SCRATCH/api.json"
#     start_fake_api "$SCRATCH/api.json"
#
# Inputs from the environment:
#   CCRUN        path of the ccrun binary under test (required)
#   CLAUDE_BIN   path of the claude binary; when unset, shell/setup-claude.sh
#                installs the pinned release into a cache and prints it
#   CCRUN_TEST_KEEP=1   keep the scratch directory after a failure
#
# Nothing here talks to anything but 127.0.0.1; every port is picked by
# the kernel; waits poll a condition under a deadline.

set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(dirname "$TESTS_DIR")
TEST_NAME=$(basename "$0" .sh)
FAKE_API_KEY=sk-ant-api03-FAKEKEYFORLOOPBACKTESTING000
FAKE_USER_ID=00000000000000000000000000000000000000000000000000000000c0ffee00

SCRATCH=
_pids=()
_cleanups=()
# Files whose tails are printed when a test fails.
DEBUG_FILES=()

# fail MSG...: report a failure and stop the test (not from inside $(...)).
fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

note() {
	printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# on_cleanup CMD...: run CMD when the test exits, before processes are
# stopped and the scratch directory goes.
on_cleanup() {
	_cleanups+=("$(printf '%q ' "$@")")
}

# track_pid PID: stop this background process when the test exits.
track_pid() {
	_pids+=("$1")
}

_cleanup() {
	local rc=$? c pid f
	set +e
	for c in "${_cleanups[@]+"${_cleanups[@]}"}"; do
		eval "$c" >/dev/null 2>&1
	done
	for pid in "${_pids[@]+"${_pids[@]}"}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${_pids[@]+"${_pids[@]}"}"; do
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ]; then
		for f in "${DEBUG_FILES[@]+"${DEBUG_FILES[@]}"}"; do
			[ -s "$f" ] || continue
			printf -- '--- %s (last 40 lines) ---\n' "${f#"$SCRATCH"/}" >&2
			tail -n 40 "$f" | cut -c 1-400 >&2
		done
	fi
	if [ -n "$SCRATCH" ] && [ -d "$SCRATCH" ]; then
		if [ "$rc" -ne 0 ] && [ "${CCRUN_TEST_KEEP:-}" = 1 ]; then
			note "scratch kept in $SCRATCH"
		else
			rm -rf "$SCRATCH"
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		note "PASS"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for [-t SECONDS] CMD...: run CMD every 0.1 s until it succeeds;
# return 1 if it has not succeeded within SECONDS (a whole number; default
# $WAIT_TIMEOUT, else 30). CMD may be a shell function.
wait_for() {
	local timeout=${WAIT_TIMEOUT:-30}
	if [ "${1:-}" = -t ]; then
		timeout=$2
		shift 2
	fi
	local deadline=$(($(date +%s%N) / 1000000 + timeout * 1000))
	until "$@"; do
		if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# json_get FILE EXPR: evaluate the Python expression EXPR with `d` bound to
# the parsed JSON of FILE and print the result (strings as they are,
# anything else as JSON). Exits non-zero if the file does not parse or the
# expression raises. In EXPR, named(items, name) is the object of the list
# items whose "name" is name (e.g. named(d["tools"], "Bash")).
json_get() {
	python3 - "$1" "$2" <<'PY'
import json, sys

def named(items, name):
    for item in items:
        if item.get("name") == name:
            return item
    raise KeyError(name)

with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d, "named": named})
print(v if isinstance(v, str) else json.dumps(v))
PY
}

# json_check FILE EXPR MSG: fail with MSG (and the file's name) unless
# EXPR (as for json_get) is true.
json_check() {
	local v
	v=$(json_get "$1" "bool($2)") || fail "$3 (cannot evaluate $2 on $1)"
	[ "$v" = true ] || fail "$3 ($2 is false on ${1#"$SCRATCH"/})"
}

# approx_eq A B [EPS]: true when the numbers A and B differ by at most EPS
# (default 1e-9).
approx_eq() {
	python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > float(sys.argv[3]))' \
		"$1" "$2" "${3:-1e-9}"
}

# mentions_cost FILE COST: true when FILE has a "$"- or "cost"-labelled
# number that is COST rounded to the number of decimals it is printed with
# (at least 2), e.g. $0.02 / 0.0228 / 0.02275 for 0.02275.
mentions_cost() {
	python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
cost = float(sys.argv[2])
if not re.search(r"\$|cost", text, re.I):
    sys.exit(1)
for m in re.finditer(r"\d+\.(\d+)", text):
    places = len(m.group(1))
    if places >= 2 and abs(float(m.group(0)) - cost) <= 0.51 * 10 ** -places:
        sys.exit(0)
sys.exit(1)
PY
}

# resolve_binaries: check $CCRUN and find the claude binary. Runs before
# HOME is replaced, so that the default install cache is the user's.
resolve_binaries() {
	[ -n "${CCRUN:-}" ] || fail "set CCRUN to the ccrun binary under test (e.g. CCRUN=build/ccrun)"
	[ -x "$CCRUN" ] || fail "CCRUN=$CCRUN is not an executable file"
	CCRUN=$(cd "$(dirname "$CCRUN")" && pwd -P)/$(basename "$CCRUN")
	if [ -z "${CLAUDE_BIN:-}" ]; then
		CLAUDE_BIN=$("$REPO_ROOT/shell/setup-claude.sh") ||
			fail "shell/setup-claude.sh could not provide Claude Code"
	fi
	[ -x "$CLAUDE_BIN" ] || fail "CLAUDE_BIN=$CLAUDE_BIN is not an executable file"
	[ "$(basename "$CLAUDE_BIN")" = claude ] ||
		fail "CLAUDE_BIN must be named claude (ccrun recognises it by name): $CLAUDE_BIN"
	export CCRUN CLAUDE_BIN
}

# make_repo DIR: a small git repository with one commit.
make_repo() {
	mkdir -p "$1/src"
	printf '# demo\n\nA scratch project\nfor ccrun tests.\nNothing to see.\n' >"$1/README.md"
	printf 'def greet():\n    return "hello"\n' >"$1/src/app.py"
	git -C "$1" -c init.defaultBranch=main init -q
	git -C "$1" add README.md src/app.py
	git -C "$1" -c user.name=ccrun-test -c user.email=ccrun-test@localhost \
		commit -q -m "initial"
}

# make_home DIR PROJECT: a HOME whose ~/.claude.json lets both print mode
# and the interactive TUI start without any dialog: onboarding done (no
# theme/login screens, which would try to reach the network), the API key
# in $ANTHROPIC_API_KEY approved (the TUI asks about a "custom API key"
# otherwise; it is recognised by its last 20 characters), and PROJECT
# trusted (the "Accessing workspace" dialog). userID is fixed so that
# telemetry's user.id is stable.
make_home() {
	mkdir -p "$1/.claude"
	python3 - "$1/.claude.json" "$2" "$FAKE_API_KEY" "$FAKE_USER_ID" <<'PY'
import json, sys
path, project, key, user_id = sys.argv[1:5]
config = {
    "hasCompletedOnboarding": True,
    "userID": user_id,
    "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []},
    "projects": {project: {"hasTrustDialogAccepted": True}},
}
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY
}

# export_test_env: the environment Claude Code runs in: nothing inherited
# that could steer it (OTEL_*, ANTHROPIC_*, CLAUDE_*), a scratch HOME and
# XDG directories, the fake API key, no non-essential traffic.
export_test_env() {
	local v
	for v in $(compgen -e); do
		case $v in
		OTEL_* | ANTHROPIC_* | CLAUDE_CODE_* | CLAUDECODE | CLAUDE_CONFIG_DIR | \
			DISABLE_* | TMUX | TMUX_PANE | CCRUN_DIR)
			unset "$v"
			;;
		esac
	done
	export HOME=$FAKE_HOME
	export XDG_CONFIG_HOME=$FAKE_HOME/.config
	export XDG_CACHE_HOME=$FAKE_HOME/.cache
	export XDG_DATA_HOME=$FAKE_HOME/.local/share
	export XDG_STATE_HOME=$FAKE_HOME/.local/state
	export LANG=C.UTF-8
	unset LC_ALL
	export TERM=xterm
	export ANTHROPIC_API_KEY=$FAKE_API_KEY
	export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
	PATH=$(dirname "$CLAUDE_BIN"):$PATH
	export PATH
}

# e2e_setup: scratch directory ($SCRATCH), repository ($REPO), HOME
# ($FAKE_HOME) and the exported environment.
e2e_setup() {
	command -v python3 >/dev/null || fail "python3 is required"
	command -v git >/dev/null || fail "git is required"
	resolve_binaries
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ccrun-$TEST_NAME.XXXXXX")
	SCRATCH=$(cd "$SCRATCH" && pwd -P)
	REPO=$SCRATCH/repo
	FAKE_HOME=$SCRATCH/home
	make_repo "$REPO"
	make_home "$FAKE_HOME" "$REPO"
	export_test_env
}

# write_api_script FILE [BASH_COMMAND [USAGE_JSON]]: the reply script of
# the reference flow: the model asks for one Bash call (default
# `echo hello-from-tool`), then answers "Done. The command printed
# hello-from-tool.". Every reply uses USAGE_JSON (default
# in=1200 out=40 cache_read=5000 cache_creation=300).
write_api_script() {
	local usage='{"input": 1200, "output": 40, "cache_read": 5000, "cache_creation": 300}'
	python3 - "$1" "${2:-echo hello-from-tool}" "${3:-$usage}" <<'PY'
import json, sys
path, command, usage = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
script = {
    "steps": [
        {"tool_use": {"name": "Bash", "input": {
            "command": command, "description": "Print a greeting"}},
         "usage": usage},
        {"text": "Done. The command printed hello-from-tool.", "usage": usage},
    ],
    "default": {"text": "Done. The command printed hello.", "usage": usage},
    "no_tools": {"text": "Short title", "usage": usage},
}
with open(path, "w") as f:
    json.dump(script, f, indent=2)
PY
}

# start_fake_api SCRIPT: start tests/fake-anthropic.py with SCRIPT, wait for
# its port, export ANTHROPIC_BASE_URL and set API_LOG (one JSON line per
# request). Each call starts a fresh server with a fresh log.
_api_count=0
start_fake_api() {
	_api_count=$((_api_count + 1))
	local dir=$SCRATCH/api$_api_count
	mkdir -p "$dir"
	API_LOG=$dir/requests.jsonl
	: >"$API_LOG"
	python3 "$TESTS_DIR/fake-anthropic.py" --script "$1" \
		--port-file "$dir/port" --log "$API_LOG" >"$dir/server.log" 2>&1 &
	local pid=$!
	track_pid "$pid"
	DEBUG_FILES+=("$dir/server.log" "$API_LOG")
	wait_for -t 10 _fake_api_ready "$dir" "$pid" ||
		fail "the fake API wrote no port file within 10 s"
	ANTHROPIC_BASE_URL=http://127.0.0.1:$(cat "$dir/port")
	export ANTHROPIC_BASE_URL
}

# _fake_api_ready DIR PID: the server has written DIR/port; stops the test
# if process PID has died instead.
_fake_api_ready() {
	[ -s "$1/port" ] && return 0
	kill -0 "$2" 2>/dev/null || fail "the fake API exited at start: $(cat "$1/server.log")"
	return 1
}

# api_usage_total: the usage the fake API sent in all its replies so far,
# as JSON {"input":..,"output":..,"cache_read":..,"cache_creation":..,
# "requests":N}.
api_usage_total() {
	python3 - "$API_LOG" <<'PY'
import json, sys
tot = {"input": 0, "output": 0, "cache_read": 0, "cache_creation": 0, "requests": 0}
names = {"input": "input_tokens", "output": "output_tokens",
         "cache_read": "cache_read_input_tokens",
         "cache_creation": "cache_creation_input_tokens"}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "usage" not in r:
        continue
    tot["requests"] += 1
    for k, wire in names.items():
        tot[k] += r["usage"][wire]
print(json.dumps(tot))
PY
}

# ccrun_last OUT: `ccrun last --json` run in the repository, into OUT;
# fails unless it exits 0 and prints one JSON document.
ccrun_last() {
	local err=$1.stderr
	(cd "$REPO" && timeout -k 5 20 "$CCRUN" last --json) >"$1" 2>"$err" ||
		fail "ccrun last --json exited $?: $(cat "$err")"
	json_get "$1" 'True' >/dev/null || fail "ccrun last --json did not print valid JSON: $(head -c 500 "$1")"
}

# free_dead_port: a loopback port nothing listens on (the kernel picks
# one, it is closed again at once).
free_dead_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
