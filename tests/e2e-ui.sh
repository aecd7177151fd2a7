#!/usr/bin/env bash
# `ccrun ui` over runs recorded from the real captures: the access checks
# from plain HTTP, then Debian's chromium driven by playwright-core through
# every view, checked against `ccrun last --json`. Screenshots go to
# CCR_UI_SHOTS (meson sets it under the build directory). Needs CCRUN and
# CCR_TEST_DATA; installs playwright-core into the test cache when missing.
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"
here=$(cd "$(dirname "$0")" && pwd)
shots=${CCR_UI_SHOTS:-$PWD/ui-screenshots}
work=$(mktemp -d /tmp/ccrun-e2e-ui.XXXXXX)
ui_pid=
cleanup() {
    [ -z "$ui_pid" ] || kill "$ui_pid" 2> /dev/null || true
    [ -z "$ui_pid" ] || wait "$ui_pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset CCRUN_DIR

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (shell/deps.sh --test installs it)"
command -v node > /dev/null || fail "node is missing (shell/deps.sh --test installs it)"
pw=$("$here/../shell/setup-playwright.sh") || fail "cannot install playwright-core"

echo "# runs recorded from the captures, one with markup in its prompt"
hostile='<img id=pwned src=x onerror="document.body.dataset.pwned=1"><b>bold</b>'
mkdir -p p hostile
python3 - "$CCR_TEST_DATA/h-http-json/01-logs.json" "$hostile" > hostile/01-logs.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def walk(o):
    if isinstance(o, dict):
        if o.get("key") == "prompt":
            o["value"] = {"stringValue": sys.argv[2]}
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
json.dump(d, sys.stdout)
PY
"$CCRUN" -q --prompts=keep --dir p python3 "$here/otlp-post.py" hostile/01-logs.json \
    || fail "replaying the hostile prompt"
python3 "$here/ui-subagent.py" > hostile/02-logs.json
"$CCRUN" -q --prompts=keep --dir p python3 "$here/otlp-post.py" hostile/02-logs.json \
    || fail "replaying the subagent session"
for f in d-tool-failures f2-api-always-fails e2-interactive-accept-reject; do
    "$CCRUN" -q --prompts=keep --dir p python3 "$here/otlp-post.py" "$CCR_TEST_DATA/$f"/*.pb \
        || fail "replaying $f"
done

echo "# ccrun ui prints a URL with a token"
"$CCRUN" ui --port 0 --dir p > url.txt 2> ui.err &
ui_pid=$!
deadline=$((SECONDS + 10))
until grep -q '^http://127.0.0.1:[0-9]*/?token=[0-9a-f]\{64\}$' url.txt; do
    [ $SECONDS -lt $deadline ] || fail "no URL printed: $(cat url.txt ui.err)"
    kill -0 "$ui_pid" 2> /dev/null || fail "ccrun ui exited: $(cat ui.err)"
    sleep 0.05
done
url=$(cat url.txt)
base=${url%%/\?token=*}
port=${base##*:}
token=${url##*token=}

echo "# access checks from plain HTTP"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/")" = 401 ] || fail "no token was not refused"
[ "$(code "$base/api/v1/runs")" = 401 ] || fail "API without a token was not refused"
[ "$(code "$base/api/v1/runs?token=$(printf '%064d' 0)")" = 401 ] || fail "a wrong token was accepted"
auth=(-H "Authorization: Bearer $token")
[ "$(code "${auth[@]}" "$base/api/v1/runs")" = 200 ] || fail "the token was refused"
[ "$(code "${auth[@]}" -H "Host: evil.example:$port" "$base/api/v1/runs")" = 403 ] \
    || fail "a wrong Host was served (DNS rebinding)"
[ "$(code "${auth[@]}" -H "Host: 127.0.0.1:1" "$base/api/v1/runs")" = 403 ] \
    || fail "a Host with another port was served"
[ "$(code "${auth[@]}" -H "Origin: http://evil.example" "$base/api/v1/runs")" = 403 ] \
    || fail "a cross-site Origin was served"
[ "$(code "${auth[@]}" -H "Origin: null" "$base/api/v1/runs")" = 403 ] \
    || fail "Origin null was served"
[ "$(code "${auth[@]}" -H "Sec-Fetch-Site: cross-site" "$base/api/v1/runs")" = 403 ] \
    || fail "a cross-site fetch was served"
[ "$(code "${auth[@]}" -X POST "$base/api/v1/runs")" = 405 ] || fail "POST was not refused"
curl -s -D head.txt -o /dev/null "$url"
grep -q '^HTTP/1.1 303' head.txt || fail "the token URL did not redirect: $(cat head.txt)"
grep -qi '^Set-Cookie: ccrun_ui_[0-9]*=[0-9a-f]*; HttpOnly; SameSite=Strict' head.txt \
    || fail "no HttpOnly SameSite=Strict cookie: $(cat head.txt)"
curl -s -D head.txt -o /dev/null "${auth[@]}" -H 'Accept-Encoding: gzip' "$base/"
grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" head.txt \
    || fail "no strict Content-Security-Policy: $(cat head.txt)"
grep -qi '^Content-Encoding: gzip' head.txt || fail "the page was not compressed"
grep -qi '^Access-Control-' head.txt && fail "CORS headers were sent"
etag=$(sed -n 's/^ETag: \(.*\)\r$/\1/Ip' head.txt)
[ "$(code "${auth[@]}" -H "If-None-Match: $etag" "$base/")" = 304 ] || fail "ETag not honoured"
grep -q "<script" <(curl -s "${auth[@]}" "$base/") || fail "no page"
curl -s "${auth[@]}" "$base/" | grep -v '<script src=\|<script type="module" src=' | grep -q '<script' \
    && fail "the page has inline script"

echo "# the API agrees with ccrun last --json"
"$CCRUN" last --json --dir p > last.json
curl -s "${auth[@]}" "$base/api/v1/runs/5" > run.json
python3 - last.json run.json <<'PY' || fail "API summary differs from last --json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else "%r\n%r" % (a, b))
PY

echo "# new runs appear while the UI runs"
curl -s "${auth[@]}" "$base/api/v1/runs" > before.json
"$CCRUN" -q --prompts=keep --dir p python3 "$here/otlp-post.py" "$CCR_TEST_DATA/b-bash-ok"/*.pb
curl -s "${auth[@]}" "$base/api/v1/runs" > after.json
python3 -c 'import json,sys; a,b=(len(json.load(open(p))["rows"]) for p in sys.argv[1:]); sys.exit(b!=a+1)' \
    before.json after.json || fail "a new run did not show up"

echo "# a run of the real Claude Code, served as ccrun last --json has it"
cost=$("$here/record-claude-run.sh" p) || fail "recording a real Claude Code run"
"$CCRUN" last --json --dir p > last-claude.json
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' last-claude.json)
curl -s "${auth[@]}" "$base/api/v1/runs/$run_id" > run-claude.json
python3 - last-claude.json run-claude.json "$cost" <<'PY' || fail "the real run differs in the API"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, "%r\n%r" % (a, b)
assert a["program"] == "claude-code" and abs(a["reported_cost_usd"] - float(sys.argv[3])) < 1e-9, a
PY

echo "# the dashboard in chromium"
python3 - last.json > expect.json <<PY
import json
print(json.dumps({"runs": 7, "last": json.load(open("last.json")), "hostile_run": 1,
                  "subagent_run": 2,
                  "hostile_text": '''$hostile'''}))
PY
node "$here/ui-check.mjs" "$pw" "$url" expect.json "$shots" || fail "browser checks"
echo "screenshots in $shots"

echo "# SIGTERM stops it cleanly (and, in a sanitizer build, without leaks)"
kill -TERM "$ui_pid"
st=0
wait "$ui_pid" || st=$?
ui_pid=
[ $st = 0 ] || fail "ccrun ui exited $st after SIGTERM: $(cat ui.err)"
