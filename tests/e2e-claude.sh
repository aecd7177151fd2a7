#!/usr/bin/env bash
# End to end, print mode: `ccrun claude -p ... --output-format json` with
# the real Claude Code against the scripted fake API (one Bash call, then a
# text answer). ccrun must leave Claude Code's stdout alone, exit with its
# status, and record the same cost, tokens, session and tool call as
# Claude Code reports in its own JSON result.
#
#     CCRUN=build/ccrun tests/e2e-claude.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_setup
write_api_script "$SCRATCH/api.json"
start_fake_api "$SCRATCH/api.json"

out=$SCRATCH/out.json
err=$SCRATCH/stderr.txt
DEBUG_FILES+=("$err" "$out")

rc=0
(cd "$REPO" && timeout -k 5 45 "$CCRUN" claude -p "Say hello using bash" \
	--allowedTools Bash --output-format json) >"$out" 2>"$err" </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "ccrun claude -p exited $rc"

# stdout is Claude Code's result document and nothing else.
python3 - "$out" <<'PY' || fail "stdout is not exactly Claude Code's JSON result"
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")
assert text.endswith("\n") and text.count("\n") == 1, "expected one line: %r" % text[:300]
doc = json.loads(text)
assert doc.get("type") == "result", doc.get("type")
assert doc.get("subtype") == "success" and doc.get("is_error") is False, text[:300]
assert doc.get("result") == "Done. The command printed hello-from-tool.", doc.get("result")
assert doc.get("permission_denials") == [], doc.get("permission_denials")
PY

# Claude Code really ran the tool and talked to the fake API twice.
python3 - "$API_LOG" <<'PY' || fail "the fake API did not see the expected two requests"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
reqs = [r for r in reqs if r["path"].split("?")[0] == "/v1/messages"]
assert [r["step"] for r in reqs] == [1, 2], [r["step"] for r in reqs]
assert reqs[1]["tool_results"] == [{"content": "hello-from-tool", "is_error": False}], reqs[1]
PY

last=$SCRATCH/last.json
DEBUG_FILES+=("$last")
ccrun_last "$last"

cost=$(json_get "$out" 'd["total_cost_usd"]')
got=$(json_get "$last" 'd["cost_usd"]') || fail "ccrun last --json has no cost_usd"
approx_eq "$got" "$cost" || fail "cost_usd $got differs from Claude Code's total_cost_usd $cost"

for pair in input:input_tokens output:output_tokens \
	cache_read:cache_read_input_tokens cache_creation:cache_creation_input_tokens; do
	mine=${pair%%:*} theirs=${pair#*:}
	want=$(json_get "$out" "d['usage']['$theirs']")
	got=$(json_get "$last" "d['tokens']['$mine']") || fail "ccrun last --json has no tokens.$mine"
	[ "$got" = "$want" ] || fail "tokens.$mine is $got, Claude Code's usage.$theirs is $want"
done

session=$(json_get "$out" 'd["session_id"]')
json_check "$last" "'$session' in d['sessions']" "sessions does not list $session"
json_check "$last" "named(d['tools'], 'Bash')['calls'] == 1" "Bash is not recorded with 1 call"
json_check "$last" "named(d['tools'], 'Bash')['succeeded'] == 1" "Bash is not recorded with 1 success"

# The store: .ccrun/ private to the user and ignored by git.
[ -d "$REPO/.ccrun" ] || fail "$REPO/.ccrun was not created"
mode=$(stat -c %a "$REPO/.ccrun")
[ "$mode" = 700 ] || fail ".ccrun has mode $mode, expected 700"
[ -f "$REPO/.ccrun/history.db" ] || fail ".ccrun/history.db was not created"
grep -qx '\*' "$REPO/.ccrun/.gitignore" 2>/dev/null || fail ".ccrun/.gitignore does not hold a '*' line"
untracked=$(git -C "$REPO" status --porcelain --untracked-files=all)
[ -z "$untracked" ] || fail "git sees files after the run: $untracked"

# The summary on stderr tells the cost.
mentions_cost "$err" "$cost" || fail "ccrun's stderr does not mention the cost $cost"

# With the tracing beta on, the same flow also sends spans, and `ccrun show`
# presents the prompt's interaction: both requests and the Bash call.
start_fake_api "$SCRATCH/api.json"
rc=0
(cd "$REPO" && CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1 OTEL_TRACES_EXPORTER=otlp \
	timeout -k 5 45 "$CCRUN" claude -p "Say hello using bash" \
	--allowedTools Bash --output-format json) >"$out" 2>"$err" </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "ccrun claude -p with traces exited $rc"
show=$SCRATCH/show.json
DEBUG_FILES+=("$show")
(cd "$REPO" && timeout -k 5 20 "$CCRUN" show --json) >"$show" || fail "ccrun show --json failed"
python3 - "$show" "$(json_get "$out" 'd["session_id"]')" <<'PY' ||
import json, sys
events, session = json.load(open(sys.argv[1])), sys.argv[2]
opened = [e for e in events if "interaction" in e]
assert [(e["name"], e["session_id"]) for e in opened] == [("user_prompt", session)], opened
i = opened[0]["interaction"]
assert i["duration_ms"] > 0 and i["prompt_length"] == 20, i
usage = {"input": 1200, "output": 40, "cache_read": 5000, "cache_creation": 300}
llm = [r for r in i["llm_requests"] if r["context"] == "interaction"]
assert len(llm) == 2, i["llm_requests"]
assert all(r["tokens"] == usage and r["success"] is True for r in llm), llm
assert [r["stop_reason"] for r in llm] == ["tool_use", "end_turn"], llm
assert all(r["ttft_ms"] is not None and r["ttft_ms"] <= r["duration_ms"] for r in llm), llm
tools = i["tools"]
assert [(t["name"], t["success"]) for t in tools] == [("Bash", True)], tools
assert tools[0]["execution_ms"] is not None and tools[0]["blocked_on_user_ms"] is not None, tools
assert llm[0]["offset_ms"] <= tools[0]["offset_ms"] <= llm[1]["offset_ms"], i
PY
	fail "show --json has no interaction with two requests and a Bash call"
(cd "$REPO" && timeout -k 5 20 "$CCRUN" show) >"$SCRATCH/show.txt" || fail "ccrun show failed"
grep -q '^ *+[0-9.]*s  interaction  .* 2 LLM requests · 1 tool call' "$SCRATCH/show.txt" ||
	fail "show has no interaction line: $(cat "$SCRATCH/show.txt")"

# A failing child: the API refuses the request (400, not retried), Claude
# Code exits 1, and so must ccrun, recording the status and the error.
printf '%s\n' '{"steps": [{"error": {"status": 400, "type": "invalid_request_error",' \
	'"message": "scripted bad request"}}]}' >"$SCRATCH/api-error.json"
start_fake_api "$SCRATCH/api-error.json"
rc=0
(cd "$REPO" && timeout -k 5 45 "$CCRUN" claude -p "Say hello using bash" \
	--output-format json) >"$out" 2>"$err" </dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "with a failing API, ccrun exited $rc, expected Claude Code's 1"
json_check "$out" 'd["is_error"] is True and d["api_error_status"] == 400' \
	"Claude Code's result does not report the scripted API error"
ccrun_last "$last"
json_check "$last" 'd["exit_code"] == 1' "exit_code of the failed run is not 1"
json_check "$last" 'd["api_errors"] == 1 and d["api_requests"] == 0' \
	"the failed run is not recorded as 1 API error and 0 requests"

# The default policy hashes prompts and tool details: the real Claude Code's
# prompt and Bash command reach .ccrun/ only as hashes.
json_check "$last" "len(d['prompts'][0]['hash']) == 64 and d['prompts'][0]['text'] is None" \
	"the prompt is not stored as a hash"
python3 "$TESTS_DIR/scan-files.py" "$REPO/.ccrun" "Say hello using bash" "hello-from-tool" \
	|| fail "prompt or command text reached .ccrun/"

# `ccrun claude --version` is Claude Code printing its version, run in
# ccrun's place: the same output, and no run added to the history.
want=$("$CLAUDE_BIN" --version)
got=$(cd "$REPO" && "$CCRUN" "$CLAUDE_BIN" --version) || fail "ccrun claude --version failed"
[ "$got" = "$want" ] || fail "ccrun claude --version printed '$got', not '$want'"
ccrun_last "$SCRATCH/after-version.json"
json_check "$SCRATCH/after-version.json" "d['run_id'] == $(json_get "$last" 'd["run_id"]')" \
	"ccrun claude --version added a run"
