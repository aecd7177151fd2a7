#!/usr/bin/env bash
# Records one run of the real Claude Code (print mode, one Bash call, against
# the stand-in API) into the project DIR given as the argument, for tests
# that need a real run in a history of their own. Needs CCRUN; CLAUDE_BIN as
# for lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

project=$(cd "$1" && pwd -P)
e2e_setup
write_api_script "$SCRATCH/api.json"
start_fake_api "$SCRATCH/api.json"
(cd "$REPO" && timeout -k 5 45 "$CCRUN" -q --dir "$project" claude -p "Say hello using bash" \
	--allowedTools Bash --output-format json) >"$SCRATCH/out.json" 2>"$SCRATCH/err.txt" \
	|| fail "ccrun claude exited $?: $(cat "$SCRATCH/err.txt")"
json_get "$SCRATCH/out.json" 'd["total_cost_usd"]'
