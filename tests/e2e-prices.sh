#!/usr/bin/env bash
# Re-pricing other providers' models: the real Claude Code told to use
# glm-4.7 against the stand-in API reports Claude Opus prices; ccrun records
# both and re-prices exactly. Then the long-context tier, the precedence of
# the price sources, and a malformed price file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_setup
write_api_script "$SCRATCH/api.json"
post=$TESTS_DIR/otlp-post.py
out=$SCRATCH/out.json
err=$SCRATCH/stderr.txt
last=$SCRATCH/last.json
DEBUG_FILES+=("$err" "$out" "$last")
export XDG_CONFIG_HOME=$SCRATCH/xdg

# Each run gets a fresh stand-in API, so each makes the same two requests.
run_claude() {
	start_fake_api "$SCRATCH/api.json"
	(cd "$REPO" && ANTHROPIC_MODEL=glm-4.7 timeout -k 5 45 "$CCRUN" "$@" claude \
		-p "Say hello using bash" --allowedTools Bash --output-format json) >"$out" 2>"$err" \
		|| fail "ccrun $* claude exited $?"
	ccrun_last "$last"
}

# Two requests of 1200 in, 40 out, 5000 cache read, 300 cache write each.
# Built-in glm-4.7: (1200*0.60 + 40*2.20 + 5000*0.11 + 300*0) / 1e6 = 0.001358 each.
run_claude
json_check "$last" "d['models'][0]['model'] == 'glm-4.7'" "the model is not glm-4.7"
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0.002716 || fail "re-priced cost $(json_get "$last" 'd["cost_usd"]')"
reported=$(json_get "$out" 'd["total_cost_usd"]')
approx_eq "$(json_get "$last" 'd["reported_cost_usd"]')" "$reported" || fail "reported cost differs from Claude Code's"
approx_eq "$reported" 0.02275 || fail "Claude Code no longer prices glm-4.7 as Opus ($reported)"
json_check "$last" "d['models'][0]['priced_by_ccrun'] is True" "model not marked as priced by ccrun"
grep -q 'priced by ccrun: glm-4.7 at \$0.60/\$2.20 per MTok; Claude Code reported \$0.0228' "$err" \
	|| fail "summary does not say how the cost was priced: $(cat "$err")"

# A long-context tier from the project's configuration: each request's prompt
# is 1200 + 5000 + 300 = 6500 tokens.
mkdir -p "$REPO/.ccrun"
cat >"$REPO/.ccrun/config" <<'INI'
[price glm-4.7]
input = 1
output = 2
cache_read = 0.5
cache_write = 1
long_threshold = 6000
long_input = 2
long_output = 4
long_cache_read = 1
long_cache_write = 2
INI
run_claude
# (1200*2 + 40*4 + 5000*1 + 300*2) / 1e6 = 0.00816 each
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0.01632 || fail "long tier: $(json_get "$last" 'd["cost_usd"]')"
sed -i 's/long_threshold = 6000/long_threshold = 7000/' "$REPO/.ccrun/config"
run_claude
# (1200*1 + 40*2 + 5000*0.5 + 300*1) / 1e6 = 0.00408 each
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0.00816 || fail "under the tier: $(json_get "$last" 'd["cost_usd"]')"

# Precedence: built-in < user file < project file < --price.
rm "$REPO/.ccrun/config"
mkdir -p "$XDG_CONFIG_HOME/ccrun"
printf '[price glm-4.7]\ninput = 0\noutput = 0\ncache_read = 0\ncache_write = 0\n' >"$XDG_CONFIG_HOME/ccrun/config"
run_claude
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0 || fail "the user file did not beat the built-in table"
printf '[price glm-4.*]\ninput = 10\noutput = 0\n' >"$REPO/.ccrun/config"
run_claude
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0 || fail "an exact name should beat a glob"
printf '[price glm-4.7]\ninput = 10\noutput = 0\n' >"$REPO/.ccrun/config"
run_claude
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0.024 || fail "the project file did not beat the user file"
run_claude --price glm-4.7=1/1
approx_eq "$(json_get "$last" 'd["cost_usd"]')" 0.00248 || fail "--price did not beat the project file"
(cd "$REPO" && "$CCRUN" prices) | grep -q "^glm-4.7 .*$REPO/.ccrun/config" || fail "ccrun prices does not name the project file"

# A malformed price file is named with its line, and the child still runs.
printf '[price glm-4.7]\ninput = 0.6\noutput = cheap\n' >"$REPO/.ccrun/config"
run_claude
grep -q "config: line 3:" "$err" || fail "no error naming line 3: $(cat "$err")"
json_check "$out" "d['type'] == 'result'" "the child did not run"

# A model with no price, reached through another provider: a warning.
rm "$REPO/.ccrun/config" "$XDG_CONFIG_HOME/ccrun/config"
start_fake_api "$SCRATCH/api.json"
(cd "$REPO" && ANTHROPIC_MODEL=some-new-model timeout -k 5 45 "$CCRUN" claude \
	-p "Say hello using bash" --allowedTools Bash --output-format json) >"$out" 2>"$err" || fail "exit $?"
grep -q "warning: some-new-model ran on $ANTHROPIC_BASE_URL with no price" "$err" \
	|| fail "no warning for an unpriced model: $(cat "$err")"
# stats --reprice applies today's table to what was recorded, changing nothing stored.
printf '[price glm-4.7]\ninput = 1\noutput = 0\n' >"$REPO/.ccrun/config"
(cd "$REPO" && "$CCRUN" stats --by model --json) >"$SCRATCH/stats.json"
(cd "$REPO" && "$CCRUN" stats --by model --json --reprice) >"$SCRATCH/repriced.json"
(cd "$REPO" && "$CCRUN" stats --by model --json) >"$SCRATCH/stats2.json"
cmp -s "$SCRATCH/stats.json" "$SCRATCH/stats2.json" || fail "stats changed after --reprice"
python3 - "$SCRATCH/stats.json" "$SCRATCH/repriced.json" <<'PY' || fail "stats --reprice"
import json, sys
before = {r["key"]: r for r in json.load(open(sys.argv[1]))["rows"]}
after = {r["key"]: r for r in json.load(open(sys.argv[2]))["rows"]}
glm = after["glm-4.7"]
# Every glm-4.7 request had 1200 input tokens: at $1 per MTok, $0.0012 each.
assert abs(glm["cost_usd"] - glm["api_requests"] * 0.0012) < 1e-9, glm
# A model with no price keeps the cost Claude Code reported.
assert abs(after["some-new-model"]["cost_usd"] - before["some-new-model"]["cost_usd"]) < 1e-9
PY
note "PASS"
