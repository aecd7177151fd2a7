#!/usr/bin/env bash
# The privacy policy end to end with a stand-in child posting real captures:
# what reaches .ccrun/ in each mode, hash stability, precedence of the
# settings, file modes under umask 000, and a .ccrun/ that must be refused.
# Needs CCRUN and CCR_TEST_DATA.
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"
here=$(cd "$(dirname "$0")" && pwd)
post="$here/otlp-post.py"
scan="$here/scan-files.py"
k2=("$CCR_TEST_DATA"/k2-prompt-logged-unicode/0*.pb)
work=$(mktemp -d /tmp/ccrun-e2e-privacy.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset OTEL_LOG_USER_PROMPTS CCRUN_PROMPTS CCRUN_TOOL_DETAILS CCRUN_DIR
mkdir -p "$work/a" "$work/b"
cd "$work/a"

fail() { echo "FAIL: $*" >&2; exit 1; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }
# The clear text that must never be stored in hash mode.
clear=("sk-live-EXAMPLE0000" "Deploy with key" "Grüße, 世界" "echo hello" "Say hello")

echo "# hash (the default): no prompt byte, no secret in any file, WAL included"
# The child scans .ccrun/ itself after posting, while ccrun holds the database open.
cat > post-and-scan.sh <<SH
python3 "$post" ${k2[*]} && python3 "$scan" .ccrun $(printf '"%s" ' "${clear[@]}")
SH
"$CCRUN" -q sh post-and-scan.sh || fail "clear text under .ccrun during the run"
python3 "$scan" .ccrun "${clear[@]}" || fail "clear text under .ccrun after the run"
"$CCRUN" last --json > last.json
hash_a=$(jget last.json 'd["prompts"][0]["hash"]')
[ ${#hash_a} = 64 ] || fail "no prompt hash: $hash_a"
[ "$(jget last.json 'd["prompts"][0]["text"], d["prompts"][0]["length"]')" = "(None, 57)" ] || fail "text or length"
"$CCRUN" last | grep -q "#${hash_a:0:8} (57 chars)" || fail "summary does not show #hash (57 chars)"
"$CCRUN" show | grep -q "57 chars #${hash_a:0:8}" || fail "show does not give the prompt's hash"

echo "# a prompt on the command line is hashed too; short words stay readable"
"$CCRUN" -q sh -c 'exit 0' "Deploy with key sk-live-EXAMPLE0000 now" json
"$CCRUN" last --json > cmd.json
jget cmd.json 'd["command"][3]' | grep -q '^#[0-9a-f]\{16\}$' || fail "prompt argument not hashed: $(jget cmd.json 'd["command"]')"
[ "$(jget cmd.json 'd["command"][4]')" = json ] || fail "short argument changed"
python3 "$scan" .ccrun "EXAMPLE0000" "Deploy with" || fail "command-line prompt reached .ccrun"

echo "# the same prompt hashes the same in a project, differently in another"
"$CCRUN" -q python3 "$post" "${k2[@]}"
[ "$("$CCRUN" last --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["prompts"][0]["hash"])')" = "$hash_a" ] \
    || fail "hash changed between two runs"
(cd "$work/b" && "$CCRUN" -q python3 "$post" "${k2[@]}" && "$CCRUN" last --json > last.json)
[ "$(jget "$work/b/last.json" 'd["prompts"][0]["hash"]')" != "$hash_a" ] || fail "same hash in another project"

echo "# keep: the text is stored with its secret scrubbed"
"$CCRUN" -q --prompts=keep --tool-details=keep python3 "$post" "${k2[@]}"
"$CCRUN" last --json > last.json
jget last.json 'd["prompts"][0]["text"]' | grep -q '^Deploy with key \[secret:[0-9a-f]\{8\}\] then say Grüße, 世界 👋$' \
    || fail "kept text: $(jget last.json 'd["prompts"][0]["text"]')"
python3 "$scan" .ccrun "sk-live-EXAMPLE0000" || fail "the secret reached .ccrun in keep mode"

echo "# precedence: flag over CCRUN_PROMPTS over .ccrun/config over the default"
printf '[privacy]\nprompts = drop\n' > .ccrun/config
"$CCRUN" -q python3 "$post" "${k2[@]}"
[ "$("$CCRUN" last --json | python3 -c 'import json,sys; p=json.load(sys.stdin)["prompts"][0]; print(p["text"], p["hash"])')" = "None None" ] \
    || fail "config drop ignored"
CCRUN_PROMPTS=keep "$CCRUN" -q python3 "$post" "${k2[@]}"
"$CCRUN" last --json | grep -q '"text": "Deploy' || fail "CCRUN_PROMPTS did not beat the config"
CCRUN_PROMPTS=keep "$CCRUN" -q --prompts=hash python3 "$post" "${k2[@]}"
"$CCRUN" last --json | grep -q '"hash": "[0-9a-f]' || fail "--prompts did not beat CCRUN_PROMPTS"
rm .ccrun/config
OTEL_LOG_USER_PROMPTS=1 "$CCRUN" -q python3 "$post" "${k2[@]}"
"$CCRUN" last --json | grep -q '"text": "Deploy' || fail "OTEL_LOG_USER_PROMPTS=1 should default to keep"

echo "# the child is told what to send"
"$CCRUN" -q --prompts=drop --tool-details=drop sh -c 'echo "$OTEL_LOG_USER_PROMPTS $OTEL_LOG_TOOL_DETAILS" > told.txt'
[ "$(cat told.txt)" = "0 0" ] || fail "drop: child told $(cat told.txt)"
OTEL_LOG_USER_PROMPTS=0 "$CCRUN" -q --prompts=hash sh -c 'echo "$OTEL_LOG_USER_PROMPTS $OTEL_LOG_TOOL_DETAILS" > told.txt'
[ "$(cat told.txt)" = "1 1" ] || fail "hash: child told $(cat told.txt)"
set +e
"$CCRUN" --prompts=maybe true 2> err.txt; st=$?
set -e
[ $st = 125 ] && grep -q 'keep, hash or drop' err.txt || fail "bad --prompts value not refused"

echo "# the token is nowhere on disk and never logged"
CCRUN_LOG=debug "$CCRUN" -q sh -c 'echo "$OTEL_EXPORTER_OTLP_HEADERS" | cut -d" " -f2 > "$0"' "$work/token.txt"
token=$(cat "$work/token.txt"); rm "$work/token.txt"
[ ${#token} -ge 64 ] || fail "no token seen by the child"
python3 "$scan" .ccrun "$token" || fail "token written under .ccrun"
python3 "$scan" /dev/shm "$token" || fail "token left in /dev/shm"

echo "# file modes under umask 000"
rm -rf "$work/m" && mkdir "$work/m"
(cd "$work/m" && umask 000 && "$CCRUN" -q sh -c 'python3 "$0" "$@" && stat -c "%n %a" .ccrun .ccrun/* > modes.txt' \
    "$post" "${k2[@]}")
(cd "$work/m" && CCRUN_LOG=debug "$CCRUN" -q true && stat -c "%n %a" .ccrun/ccrun.log >> modes.txt)
bad=$(grep -v -e '^.ccrun 700$' -e '^.ccrun/.gitignore 600$' -e ' 600$' "$work/m/modes.txt" || true)
[ -z "$bad" ] || fail "modes: $bad"
grep -q 'history.db-wal 600' "$work/m/modes.txt" || fail "no WAL seen during the run: $(cat "$work/m/modes.txt")"

echo "# a .ccrun that is a link, or another user's, is refused and the child still runs"
mkdir -p "$work/l/real" && ln -s "$work/l/real" "$work/l/.ccrun"
set +e
"$CCRUN" --dir "$work/l" sh -c 'exit 4' 2> err.txt; st=$?
set -e
[ $st = 4 ] && grep -q 'symbolic link' err.txt || fail "symlink .ccrun: status $st, $(cat err.txt)"
mkdir -p "$work/o/.ccrun" && chown nobody "$work/o/.ccrun"
set +e
"$CCRUN" --dir "$work/o" sh -c 'exit 6' 2> err.txt; st=$?
set -e
[ $st = 6 ] && grep -q 'another user' err.txt || fail "foreign .ccrun: status $st, $(cat err.txt)"
echo "all privacy checks passed"
