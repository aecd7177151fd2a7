#!/usr/bin/env bash
# The main job in one command: install what is missing, build ccrun, and run
# Claude Code (installed from npm when it is not on PATH) under it:
#   shell/run.sh claude -p "fix the failing test"
# With no arguments it runs `claude` interactively.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/shell/deps.sh" --claude
"$top/shell/build.sh"
if ! command -v claude > /dev/null 2>&1; then
    claude_bin=$("$top/shell/setup-claude.sh")
    PATH="$(dirname "$claude_bin"):$PATH"
    export PATH
fi
[ $# -gt 0 ] || set -- claude
exec "$top/build/ccrun" "$@"
