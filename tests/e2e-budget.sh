#!/usr/bin/env bash
# End to end, budgets: the real Claude Code against the fake API, whose
# replies have known costs (opus input at $5 per million tokens).
#
# Interactive, under tmux, with --budget 0.10: the first prompt costs
# $0.085 (the 80% warning shows), the second asks for a tool with a request
# of $0.03 that crosses the limit (the turn ends after the tool), the third
# prompt is blocked with the message on screen. The status line matches
# `ccrun last --json`, and the user's own hook and status line still run.
# Print mode with a budget exits with the documented status 90.
#
#     CCRUN=build/ccrun tests/e2e-budget.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is required"

e2e_setup

python3 - "$SCRATCH/api.json" <<'PY'
import json, sys
usage = lambda i: {"input": i, "output": 0, "cache_read": 0, "cache_creation": 0}
script = {
    "steps": [
        {"text": "First answer here.", "usage": usage(17000)},
        {"tool_use": {"name": "Bash", "input": {"command": "echo budget-tool-ran",
                                                "description": "Print a marker"}},
         "usage": usage(6000)},
        {"text": "This reply must never be asked for.", "usage": usage(1000)},
    ],
    "default": {"text": "Default answer.", "usage": usage(1000)},
    "no_tools": {"text": "Short title", "usage": usage(100)},
}
json.dump(script, open(sys.argv[1], "w"), indent=2)
PY
start_fake_api "$SCRATCH/api.json"

err=$SCRATCH/ccrun.stderr
status=$SCRATCH/status
screen=$SCRATCH/screen.txt
user_hook_log=$SCRATCH/user-hook.log
DEBUG_FILES+=("$err" "$screen" "$REPO/.ccrun/ccrun.log")

# The user's own settings: a command hook on every prompt and a status line.
python3 - "$SCRATCH/user-settings.json" "$user_hook_log" <<'PY'
import json, shlex, sys
path, log = sys.argv[1:3]
settings = {
    "hooks": {"UserPromptSubmit": [{"hooks": [
        {"type": "command", "command": "echo prompt >> " + shlex.quote(log)}]}]},
    "statusLine": {"type": "command", "command": "echo USER-STATUS-LINE"},
}
json.dump(settings, open(path, "w"))
PY

{
	echo 'set -u'
	for v in HOME PATH LANG ANTHROPIC_API_KEY ANTHROPIC_BASE_URL \
		CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC \
		XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo 'export TERM=xterm-256color CCRUN_LOG=debug'
	printf 'cd %q || exit 1\n' "$REPO"
	printf '%q --budget 0.10 claude --allowedTools Bash --settings %q 2>%q\n' \
		"$CCRUN" "$SCRATCH/user-settings.json" "$err"
	printf 'echo $? >%q.tmp && mv %q.tmp %q\n' "$status" "$status" "$status"
} >"$SCRATCH/pane.sh"

tmux_() {
	tmux -S "$SCRATCH/tmux.sock" "$@"
}
tmux_ -f /dev/null new-session -d -s e2e -x 220 -y 50 "sh $SCRATCH/pane.sh"
on_cleanup tmux -S "$SCRATCH/tmux.sock" kill-server

screen_has() {
	tmux_ capture-pane -p -J -t e2e >"$screen.new" 2>/dev/null || return 1
	mv "$screen.new" "$screen"
	grep -qF -- "$1" "$screen"
}
idle() {
	tmux_ capture-pane -p -J -t e2e >"$screen.new" 2>/dev/null || return 1
	mv "$screen.new" "$screen"
	! grep -qF "esc to interrupt" "$screen"
}
pane_done() {
	[ -s "$status" ]
}
# type_prompt TEXT: types TEXT, waits for it to show, presses Enter.
type_prompt() {
	tmux_ send-keys -t e2e -l "$1"
	wait_for -t 10 screen_has "$1" || fail "the typed text '$1' did not show"
	tmux_ send-keys -t e2e Enter
}

wait_for -t 30 screen_has "USER-STATUS-LINE" || fail "the user's status line did not show"
wait_for -t 10 screen_has "ccrun \$" || fail "ccrun's status line did not show"

# Prompt 1: $0.085 of $0.10, so the warning shows when the turn ends.
type_prompt "First question"
wait_for -t 45 screen_has "First answer here." || fail "the first answer did not appear"
wait_for -t 20 screen_has "of the \$0.10 run budget used" ||
	fail "the 80% warning did not show"
wait_for -t 20 idle || fail "the first turn did not end"

# Prompt 2: its tool request crosses the limit; the turn ends after the tool.
type_prompt "Second question"
wait_for -t 45 screen_has "budget reached" || fail "no budget-reached notice after the tool"
wait_for -t 20 idle || fail "the second turn did not end"
screen_has "budget-tool-ran" || fail "the tool did not run"
if grep -qF '"step": 3' "$API_LOG"; then
	fail "the turn went on to another paid request after the tool"
fi

# Prompt 3: blocked before any request, with what was spent and how to raise it.
requests_before=$(grep -c '"n":' "$API_LOG")
type_prompt "Third question"
wait_for -t 20 screen_has "New prompts are blocked" || fail "the third prompt was not blocked"
screen_has "ccrun --budget USD" || fail "the block message does not say how to raise the limit"
[ "$(grep -c '"n":' "$API_LOG")" = "$requests_before" ] ||
	fail "the blocked prompt still reached the API"

# The status line shows the figures `ccrun last --json` gives for the run.
last=$SCRATCH/last.json
DEBUG_FILES+=("$last")
status_matches() {
	ccrun_last "$last"
	local want
	want=$(python3 - "$last" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cost = d["cost_usd"] * (1 + 1e-12)
usd = "$%.4f" % cost if cost < 1 else "$%.2f" % cost
tools = sum(t["calls"] for t in d["tools"])
print("ccrun %s · " % usd)
print(" · %d req · %d tool%s" % (d["api_requests"], tools, "" if tools == 1 else "s"))
PY
	)
	tmux_ capture-pane -p -J -t e2e >"$screen" 2>/dev/null || return 1
	local line
	while IFS= read -r line; do
		grep -qF -- "$line" "$screen" || return 1
	done <<<"$want"
}
wait_for -t 15 status_matches || fail "the status line does not match ccrun last --json"
grep -qF "budget 1" "$screen" || fail "the status line does not show the budget used"

# `ccrun watch` in another terminal asks the running ccrun, budget included.
watch_out=$SCRATCH/watch.txt
(cd "$REPO" && timeout -k 5 20 "$CCRUN" watch --once) >"$watch_out" 2>&1 ||
	fail "ccrun watch --once failed: $(cat "$watch_out")"
grep -qF "run 1 running: ccrun \$" "$watch_out" || fail "watch does not show the running run: $(cat "$watch_out")"
grep -qF "budget 1" "$watch_out" || fail "watch does not show the budget: $(cat "$watch_out")"

# ccrun's own routes: the token is required, unknown paths get 404, and a
# hook with a body too large to keep is still answered from its path.
python3 - "$REPO/.ccrun/live-1.json" <<'PY' || fail "ccrun's own routes misbehave"
import json, sys, urllib.error, urllib.request
live = json.load(open(sys.argv[1]))
base = live["url"].rsplit("/ccrun/", 1)[0]
auth = {"Authorization": "Bearer " + live["token"]}
def status(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
assert status(live["url"])[0] == 401, "status without the token"
assert status(base + "/ccrun/nothing", headers=auth)[0] == 404, "unknown path"
big = json.dumps({"hook_event_name": "Stop", "pad": "x" * (3 << 20)}).encode()
code, body = status(base + "/ccrun/hook/Stop", big, dict(auth, **{"Content-Type": "application/json"}))
assert code == 200 and b"budget reached" in body, (code, body[:200])
PY

tmux_ send-keys -t e2e -l "/exit"
wait_for -t 10 screen_has "/exit" || fail "the typed /exit did not show"
tmux_ send-keys -t e2e Enter
wait_for -t 20 pane_done || fail "ccrun did not exit after /exit"
rc=$(cat "$status")
[ "$rc" = 0 ] || fail "interactive ccrun exited $rc"

# The user's own hook ran for the prompts it saw (the third was blocked by ccrun).
[ "$(wc -l <"$user_hook_log")" -ge 2 ] || fail "the user's own UserPromptSubmit hook did not run"
grep -qF "budget " "$err" || fail "the summary has no budget line"
grep -qF "1 prompt blocked" "$err" || fail "the summary does not count the blocked prompt"
grep -qF "1 turn ended" "$err" || fail "the summary does not count the ended turn"

# For the record: how long Claude Code waited for ccrun's hooks, as it reports.
(cd "$REPO" && "$CCRUN" export 1) | python3 -c '
import json, sys
times = {}
for line in sys.stdin:
    e = json.loads(line)
    a = e.get("attrs") or {}
    if e["name"] == "hook_execution_complete":
        times.setdefault(a.get("hook_name", "?"), []).append(int(a.get("total_duration_ms", 0)))
print("hook times (ms): " + ", ".join("%s %s" % (k, v) for k, v in sorted(times.items())))
' >&2

# Print mode: a tool request of $0.03 passes a $0.02 budget; ccrun exits 90.
start_fake_api "$SCRATCH/api.json"
python3 - "$SCRATCH/api-print.json" <<'PY'
import json, sys
usage = lambda i: {"input": i, "output": 0, "cache_read": 0, "cache_creation": 0}
script = {
    "steps": [
        {"tool_use": {"name": "Bash", "input": {"command": "echo print-tool-ran",
                                                "description": "Print a marker"}},
         "usage": usage(6000)},
        {"text": "Never asked for.", "usage": usage(6000)},
    ],
    "default": {"text": "Never asked for either.", "usage": usage(6000)},
}
json.dump(script, open(sys.argv[1], "w"), indent=2)
PY
start_fake_api "$SCRATCH/api-print.json"
perr=$SCRATCH/print.stderr
DEBUG_FILES+=("$perr")
set +e
(cd "$REPO" && timeout -k 5 60 "$CCRUN" --budget 0.02 claude -p "Run the marker" \
	--allowedTools Bash >"$SCRATCH/print.out" 2>"$perr")
rc=$?
set -e
[ "$rc" = 90 ] || fail "print mode over budget exited $rc, not 90"
grep -qF "budget " "$perr" || fail "the print-mode summary has no budget line"

# Print mode when the day's budget is already spent: the prompt is blocked
# before any request, and ccrun still says so with 90.
before=$(grep -c '"n":' "$API_LOG" || true)
set +e
(cd "$REPO" && timeout -k 5 60 "$CCRUN" --budget-day 0.05 claude -p "Anything" \
	>"$SCRATCH/print2.out" 2>"$perr")
rc=$?
set -e
[ "$rc" = 90 ] || fail "print mode with the day's budget spent exited $rc, not 90"
[ "$(grep -c '"n":' "$API_LOG" || true)" = "$before" ] ||
	fail "a prompt over the day's budget still reached the API"
grep -qF "prompt blocked" "$perr" || fail "the summary does not count the blocked prompt"

# --budget-hard: a request passes the limit while its tool runs for long;
# ccrun ends the session with SIGTERM instead of waiting for the tool.
python3 - "$SCRATCH/api-hard.json" <<'PY'
import json, sys
usage = lambda i: {"input": i, "output": 0, "cache_read": 0, "cache_creation": 0}
script = {
    "steps": [
        {"tool_use": {"name": "Bash", "input": {"command": "sleep 60",
                                                "description": "Wait a long time"}},
         "usage": usage(6000)},
    ],
    "default": {"text": "Never asked for.", "usage": usage(6000)},
}
json.dump(script, open(sys.argv[1], "w"), indent=2)
PY
start_fake_api "$SCRATCH/api-hard.json"
hard_dir=$SCRATCH/hard
mkdir -p "$hard_dir"
started=$(date +%s)
set +e
(cd "$REPO" && timeout -k 5 50 "$CCRUN" --dir "$hard_dir" --budget 0.02 --budget-hard claude \
	-p "Wait" --allowedTools Bash --max-budget-usd 100 >"$SCRATCH/hard.out" 2>"$perr")
rc=$?
set -e
took=$(($(date +%s) - started))
note "--budget-hard ended a 60 s tool after ${took} s"
[ "$rc" = 90 ] || fail "--budget-hard run exited $rc, not 90"
[ "$took" -lt 30 ] || fail "--budget-hard took $took s: the session was not ended"
grep -qF "session ended (--budget-hard)" "$perr" || fail "the summary does not say the session was ended"
