#!/usr/bin/env bash
# End to end, interactive: `ccrun claude --allowedTools Bash` runs the real
# TUI in a detached tmux pane; the test types a prompt, waits for the
# answer, types /exit, and checks what ccrun recorded and printed.
#
#     CCRUN=build/ccrun tests/e2e-interactive.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is required"

e2e_setup

# The l-interactive numbers: a Bash call, a text answer, and the tool-less
# session-title request that every interactive prompt also makes.
python3 - "$SCRATCH/api.json" <<'PY'
import json, sys
step = lambda i, o, cr, cc: {"input": i, "output": o, "cache_read": cr, "cache_creation": cc}
script = {
    "steps": [
        {"tool_use": {"name": "Bash", "input": {"command": "echo hello-from-tool",
                                                "description": "Print a greeting"}},
         "usage": step(2000, 45, 7000, 500)},
        {"text": "Done. The command printed hello-from-tool.", "usage": step(2100, 15, 7500, 0)},
    ],
    "default": {"text": "Done. The command printed hello.", "usage": step(1200, 40, 5000, 300)},
    "no_tools": {"text": "Short title", "usage": step(150, 6, 0, 0)},
}
json.dump(script, open(sys.argv[1], "w"), indent=2)
PY
start_fake_api "$SCRATCH/api.json"

err=$SCRATCH/ccrun.stderr
status=$SCRATCH/status
screen=$SCRATCH/screen.txt
DEBUG_FILES+=("$err" "$screen")

# The pane runs a script that exports the test environment explicitly (a
# tmux server may hand panes an environment of its own), keeps ccrun's
# stderr (the TUI draws on the terminal through stdout), and writes the
# exit status when ccrun is gone.
{
	echo 'set -u'
	for v in HOME PATH LANG ANTHROPIC_API_KEY ANTHROPIC_BASE_URL \
		CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC \
		XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo 'export TERM=xterm-256color'
	printf 'cd %q || exit 1\n' "$REPO"
	printf '%q claude --allowedTools Bash 2>%q\n' "$CCRUN" "$err"
	printf 'echo $? >%q.tmp && mv %q.tmp %q\n' "$status" "$status" "$status"
} >"$SCRATCH/pane.sh"

tmux_() {
	tmux -S "$SCRATCH/tmux.sock" "$@"
}
tmux_ -f /dev/null new-session -d -s e2e -x 200 -y 50 "sh $SCRATCH/pane.sh"
on_cleanup tmux -S "$SCRATCH/tmux.sock" kill-server

# screen_has TEXT: the visible pane contains TEXT (also saved for debugging).
screen_has() {
	tmux_ capture-pane -p -t e2e >"$screen.new" 2>/dev/null || return 1
	mv "$screen.new" "$screen"
	grep -qF -- "$1" "$screen"
}
pane_done() {
	[ -s "$status" ]
}

# ccrun's status line takes the footer's place: its first figures mark the TUI as up.
wait_for -t 30 screen_has "ccrun \$" || fail "the TUI and ccrun's status line did not appear"

tmux_ send-keys -t e2e -l "Say hello using bash"
wait_for -t 10 screen_has "Say hello using bash" || fail "the typed prompt did not show"
tmux_ send-keys -t e2e Enter
# The turn is over when the answer shows and "esc to interrupt" has gone.
turn_done() {
	screen_has "Done. The command printed hello-from-tool." &&
		! grep -qF "esc to interrupt" "$screen"
}
wait_for -t 45 turn_done || fail "the answer did not appear, or the turn did not end"

tmux_ send-keys -t e2e -l "/exit"
wait_for -t 10 screen_has "/exit" || fail "the typed /exit did not show"
tmux_ send-keys -t e2e Enter
wait_for -t 20 pane_done || fail "ccrun did not exit after /exit"

rc=$(cat "$status")
[ "$rc" = 0 ] || fail "ccrun exited $rc"

last=$SCRATCH/last.json
DEBUG_FILES+=("$last")
ccrun_last "$last"

json_check "$last" 'd["exit_code"] == 0' "exit_code is not 0"
json_check "$last" 'd["api_requests"] >= 2' "fewer than 2 API requests recorded"
json_check "$last" "named(d['tools'], 'Bash')['calls'] == 1" "Bash is not recorded with 1 call"
json_check "$last" "named(d['tools'], 'Bash')['succeeded'] == 1" "Bash is not recorded with 1 success"
json_check "$last" 'len(d["prompts"]) == 2' "expected 2 prompts (the question and /exit)"
json_check "$last" 'sum(p["command"] == "exit" for p in d["prompts"]) == 1' \
	"no prompt is recorded as the /exit command"
json_check "$last" 'sum(p["command"] is None and p["length"] == 20 for p in d["prompts"]) == 1' \
	"the 20-character question is not recorded as a prompt"

# Tokens: everything the fake API billed, title request included.
sent=$SCRATCH/api-usage.json
api_usage_total >"$sent"
json_check "$sent" 'd["requests"] >= 2' "the fake API served fewer than 2 requests"
requests=$(json_get "$sent" 'd["requests"]')
json_check "$last" "d['api_requests'] == $requests" "api_requests differs from the $requests the fake API served"
for k in input output cache_read cache_creation; do
	want=$(json_get "$sent" "d['$k']")
	got=$(json_get "$last" "d['tokens']['$k']") || fail "ccrun last --json has no tokens.$k"
	[ "$got" = "$want" ] || fail "tokens.$k is $got, the fake API sent $want"
done

# The summary went to stderr and tells the cost.
cost=$(json_get "$last" 'd["cost_usd"]')
mentions_cost "$err" "$cost" || fail "ccrun's stderr does not mention the cost $cost"
