#!/usr/bin/env bash
# The history views (sessions, show, stats, export, prune) over real Claude
# Code captures replayed through ccrun by a stand-in child. Needs CCRUN and
# CCR_TEST_DATA.
set -euo pipefail

: "${CCRUN:?set CCRUN to the ccrun binary}"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"
here=$(cd "$(dirname "$0")" && pwd)
post="$here/otlp-post.py"
work=$(mktemp -d /tmp/ccrun-e2e-views.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
unset CCRUN_DIR NO_COLOR

fail() { echo "FAIL: $*" >&2; exit 1; }
py() { python3 -c "$@"; }
# The check compares prompt text with the captures, so prompts are kept.
# replay DIR FIXTURE...: one run per fixture, recorded in project DIR.
replay() {
    local dir=$1 f
    shift
    mkdir -p "$dir"
    for f in "$@"; do
        "$CCRUN" -q --prompts=keep --dir "$dir" python3 "$post" "$CCR_TEST_DATA/$f"/*.pb || fail "replaying $f"
    done
}

echo "# every view matches each fixture's expected.json, field by field"
for f in a-text-only b-bash-ok c-multi-tool d-tool-failures e2-interactive-accept-reject \
         f2-api-always-fails k1-prompt-redacted-unicode k2-prompt-logged-unicode \
         l-interactive o-traces-beta; do
    replay "$work/$f" "$f"
    python3 "$here/views-check.py" "$CCRUN" "$work/$f" "$CCR_TEST_DATA/$f"
done

echo "# subagent requests and slash commands are marked in the timeline"
"$CCRUN" show --dir "$work/e2-interactive-accept-reject" > show.txt
grep -q '"/exit" \[slash command /exit\]' show.txt || fail "slash command not marked: $(cat show.txt)"
grep -q '\[generate_session_title\]' show.txt || fail "auxiliary request not marked"
grep -c '^prompt [0-9]' show.txt | grep -qx 3 || fail "not three prompt groups: $(cat show.txt)"

echo "# spans give each prompt its interaction: requests and tools with their timing"
# The figures are those of o-traces-beta/01-traces.pb, span by span.
"$CCRUN" show --json --dir "$work/o-traces-beta" > spans.json
py 'import json,sys
events = json.load(open("spans.json"))
opened = [e for e in events if "interaction" in e]
assert [e["name"] for e in opened] == ["user_prompt"], [e["name"] for e in opened]
i = opened[0]["interaction"]
top = {k: i[k] for k in ("trace_id", "span_id", "sequence", "time_ns", "offset_ms",
                         "duration_ms", "prompt_length", "prompt", "prompt_hash")}
assert top == {"trace_id": "716da7e51e405cbcbb2303b2fcc22d7e", "span_id": "83480a92c161c55b",
               "sequence": 1, "time_ns": 1796301583712000000, "offset_ms": 0,
               "duration_ms": 204, "prompt_length": 20, "prompt": "Say hello using bash",
               "prompt_hash": None}, top
assert i["time"] == "2026-12-03T12:39:43.712Z", i["time"]
assert opened[0]["offset_ms"] == 78, opened[0]["offset_ms"]
tokens = {"input": 1200, "output": 40, "cache_read": 5000, "cache_creation": 300}
want = [
    {"span_id": "a5e5ff397b40128d", "parent_span_id": "83480a92c161c55b", "depth": 1,
     "time_ns": 1796301583819000000, "offset_ms": 107, "duration_ms": 42,
     "model": "claude-opus-4-8[1m]", "context": "interaction", "attempt": 1, "success": True,
     "ttft_ms": 15, "stop_reason": "tool_use", "tokens": tokens},
    {"span_id": "bdc1c9a4583490b1", "parent_span_id": "83480a92c161c55b", "depth": 1,
     "time_ns": 1796301583901000000, "offset_ms": 189, "duration_ms": 12,
     "model": "claude-opus-4-8[1m]", "context": "interaction", "attempt": 1, "success": True,
     "ttft_ms": 7, "stop_reason": "end_turn", "tokens": tokens},
]
assert i["llm_requests"] == want, i["llm_requests"]
want = [{"span_id": "3c408c9044909cfe", "parent_span_id": "83480a92c161c55b", "depth": 1,
         "time_ns": 1796301583847000000, "offset_ms": 135, "duration_ms": 48, "name": "Bash",
         "tool_use_id": "toolu_01_0", "success": True, "blocked_on_user_ms": 8,
         "decision": "unknown", "source": "unknown", "execution_ms": 40}]
assert i["tools"] == want, i["tools"]' || fail "show --json interaction of o-traces-beta"
"$CCRUN" show --dir "$work/o-traces-beta" > spans.txt
cat > spans-want.txt <<'TXT'
     +0.000s  interaction          204 ms · 2 LLM requests · 1 tool call · 8 ms on the user
     +0.078s  user_prompt          20 chars "Say hello using bash"
     +0.107s    llm_request        claude-opus-4-8[1m] · 42 ms · ttft 15 ms · 1.2k in · 40 out
     +0.135s    tool               Bash ok · 48 ms · 8 ms on the user · ran 40 ms
     +0.189s    llm_request        claude-opus-4-8[1m] · 12 ms · ttft 7 ms · 1.2k in · 40 out
TXT
while IFS= read -r want; do
    grep -qxF -- "$want" spans.txt || fail "show lacks the line '$want': $(cat spans.txt)"
done < spans-want.txt
# In time order: the interaction, then each span at its start among the events.
[ "$(grep -c '^ *+' spans.txt)" = 10 ] || fail "not 10 timeline lines: $(cat spans.txt)"
awk '/^ *\+/ { t = substr($1, 2, length($1) - 2) + 0; if (t < last) exit 1; last = t }' \
    spans.txt || fail "timeline lines out of order: $(cat spans.txt)"
for f in a-text-only b-bash-ok l-interactive; do
    "$CCRUN" show --json --dir "$work/$f" > nospans.json
    grep -q '"interaction"' nospans.json && fail "$f has an interaction"
done

echo "# traces without logs: the interaction is shown on its own"
mkdir -p "$work/spans-only"
"$CCRUN" -q --prompts=keep --dir "$work/spans-only" python3 "$post" \
    "$CCR_TEST_DATA/o-traces-beta/01-traces.pb" || fail "replaying the traces alone"
"$CCRUN" show --dir "$work/spans-only" > spans.txt
grep -q '^prompt 1 (an interaction without events)$' spans.txt &&
    grep -qF '    tool               Bash ok · 48 ms' spans.txt ||
    fail "interaction without events: $(cat spans.txt)"
[ "$("$CCRUN" show --json --dir "$work/spans-only")" = "[]" ] || fail "events from spans alone"

echo "# telemetry text never puts control bytes on the terminal"
mkdir -p "$work/hostile"
python3 - "$work/hostile" <<'PY'
import json, sys
out = sys.argv[1]
bad = "\x1b[2J\x1b]0;pwned\x07\x9b"
ns = lambda ms: str(1796301583000000000 + ms * 1000000)
def attrs(**kv):
    return [{"key": k.replace("_DOT_", "."),
             "value": {"intValue": v} if isinstance(v, int) else {"stringValue": v}}
            for k, v in kv.items()]
session = "s" + bad
def log(ms, name, **kv):
    return {"timeUnixNano": ns(ms), "body": {"stringValue": "claude_code." + name},
            "attributes": attrs(event_DOT_name=name, session_DOT_id=session,
                                prompt_DOT_id="p", **kv)}
logs = [log(10, "user_prompt", prompt_length="5", prompt_hash=bad + "0123456789"),
        log(20, "api_request", model=bad, query_source=bad, cost_usd="0.1"),
        log(30, "tool_decision", tool_name=bad, decision=bad, source=bad),
        log(40, "unknown" + bad, model=bad)]
json.dump({"resourceLogs": [{"scopeLogs": [{"logRecords": logs}]}]},
          open(out + "/01-logs.json", "w"))
def span(sid, parent, name, ms, **kv):
    return {"traceId": "ab" * 16, "spanId": sid, "parentSpanId": parent,
            "name": "claude_code." + name, "startTimeUnixNano": ns(ms),
            "endTimeUnixNano": ns(ms + 5), "attributes": attrs(session_DOT_id=session, **kv)}
spans = [span("01" * 8, "", "interaction", 5),
         span("02" * 8, "01" * 8, "llm_request", 12, model=bad, stop_reason=bad),
         span("03" * 8, "01" * 8, "tool", 25, tool_name=bad),
         span("04" * 8, "03" * 8, "tool.blocked_on_user", 25, decision=bad, source=bad)]
json.dump({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]},
          open(out + "/02-traces.json", "w"))
PY
"$CCRUN" -q --prompts=keep --dir "$work/hostile" python3 "$post" "$work/hostile"/0*.json ||
    fail "replaying the hostile bodies"
"$CCRUN" show --dir "$work/hostile" > hostile.txt
"$CCRUN" show s --dir "$work/hostile" >> hostile.txt
grep -q 'llm_request' hostile.txt && grep -q 'tool_decision' hostile.txt ||
    fail "the hostile run is not shown: $(cat hostile.txt)"
py 'import sys
text = open("hostile.txt", "rb").read()
bad = sorted({b for b in text if b < 0x20 and b != 0x0a} | ({0x9b} & set(text)))
sys.exit("control bytes %r in show" % bad if bad else 0)' || fail "show let control bytes through"

echo "# days are cut at local midnight, TZ respected"
# In UTC-11:14:20 local midnight falls at 12:45:40 UTC, between the first and
# the second prompt of this interactive capture (12:45:35 to 12:45:47 UTC).
d="$work/e2-interactive-accept-reject"
TZ=UTC-11:14:20 "$CCRUN" stats --by day --json --dir "$d" > tz.json
py 'import json,sys
d = json.load(open("tz.json"))
rows = [(r["key"], r["api_requests"], round(r["cost_usd"], 9)) for r in d["rows"]]
want = [("2026-12-03", 3, 0.013905), ("2026-12-04", 2, 0.007155)]
sys.exit(0 if rows == want else "rows %r, wanted %r" % (rows, want))' || fail "midnight cut"
TZ=UTC "$CCRUN" stats --by day --json --dir "$d" > utc.json
py 'import json,sys
d = json.load(open("utc.json"))
rows = [(r["key"], r["api_requests"]) for r in d["rows"]]
sys.exit(0 if rows == [("2026-12-03", 5)] else "rows %r" % rows)' || fail "UTC day"

echo "# sessions: newest first, --limit and --since"
replay "$work/many" a-text-only b-bash-ok c-multi-tool
"$CCRUN" sessions --json --dir "$work/many" > s.json
py 'import json,sys; d=json.load(open("s.json")); sys.exit([r["run_id"] for r in d] != [3, 2, 1])' \
    || fail "sessions order: $(cat s.json)"
"$CCRUN" sessions --json --limit 2 --dir "$work/many" > s.json
py 'import json,sys; sys.exit(len(json.load(open("s.json"))) != 2)' || fail "--limit"
"$CCRUN" sessions --json --since 2099-01-01 --dir "$work/many" > s.json
[ "$(cat s.json)" = "[]" ] || fail "--since in the future: $(cat s.json)"
"$CCRUN" sessions --json --since 1d --dir "$work/many" > s.json
py 'import json,sys; sys.exit(len(json.load(open("s.json"))) != 3)' || fail "--since 1d"
"$CCRUN" sessions --dir "$work/many" > s.txt
[ "$(wc -l < s.txt)" = 4 ] || fail "sessions text: $(cat s.txt)"

echo "# unknown runs and sessions say so and exit non-zero"
set +e
"$CCRUN" show 999 --dir "$work/many" > /dev/null 2> err.txt; st=$?
set -e
[ $st != 0 ] || fail "show of an unknown run exited 0"
grep -q 'no run or session 999' err.txt || fail "unknown run message: $(cat err.txt)"
set +e
"$CCRUN" show zzzz --dir "$work/many" > /dev/null 2> err.txt; st=$?
"$CCRUN" export 77 --dir "$work/many" > /dev/null 2> err2.txt; st2=$?
"$CCRUN" stats --by week --dir "$work/many" > /dev/null 2> /dev/null; st3=$?
set -e
[ $st != 0 ] && grep -q 'no run or session zzzz' err.txt || fail "unknown session: $(cat err.txt)"
[ $st2 != 0 ] && grep -q 'no run 77' err2.txt || fail "export of an unknown run: $(cat err2.txt)"
[ $st3 != 0 ] || fail "stats --by week accepted"

echo "# a metrics/events disagreement is reported by show and the run summary"
mkdir -p "$work/lost"
"$CCRUN" --dir "$work/lost" python3 "$post" "$CCR_TEST_DATA/b-bash-ok/02-metrics.pb" 2> sum.txt
grep -q 'metrics report \$0.0228, events \$0.00: some events were not received' sum.txt \
    || fail "no disagreement line in the summary: $(cat sum.txt)"
"$CCRUN" show --dir "$work/lost" > show.txt
grep -q 'metrics report \$0.0228, events \$0.00: some events were not received' show.txt \
    || fail "no disagreement line in show: $(cat show.txt)"
"$CCRUN" show --dir "$work/b-bash-ok" | grep -q 'metrics report' && fail "line for a complete run"

echo "# colour only on a terminal, never with NO_COLOR"
cat > on-terminal.py <<'PY'
import os, pty, subprocess, sys
def on_tty(env):
    master, slave = pty.openpty()
    p = subprocess.Popen(sys.argv[1:], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait()
    return out
env = dict(os.environ)
coloured = b"\033[" in on_tty(env)
env["NO_COLOR"] = "1"
plain = b"\033[" not in on_tty(env)
sys.exit(0 if coloured and plain else "coloured=%s plain=%s" % (coloured, plain))
PY
python3 on-terminal.py "$CCRUN" show --dir "$work/d-tool-failures" || fail "colour on a tty / NO_COLOR"
"$CCRUN" show --dir "$work/d-tool-failures" | grep -q $'\033' && fail "colour in a pipe"

echo "# prune removes runs, says so, and leaves a consistent database"
replay "$work/prune" a-text-only b-bash-ok c-multi-tool d-tool-failures
"$CCRUN" prune --keep 2 --dir "$work/prune" > prune.txt
grep -q '^removed 2 runs (2 sessions, 9 events' prune.txt || fail "prune --keep: $(cat prune.txt)"
py 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
q = lambda s: db.execute(s).fetchall()
assert q("PRAGMA integrity_check") == [("ok",)], q("PRAGMA integrity_check")
assert q("PRAGMA foreign_key_check") == []
assert [r[0] for r in q("SELECT id FROM runs ORDER BY id")] == [3, 4]
for t in ("events", "metric_points", "sessions"):
    assert q("SELECT count(*) FROM %s WHERE run_id NOT IN (SELECT id FROM runs)" % t) == [(0,)], t
assert q("SELECT count(*) FROM resources WHERE id NOT IN (SELECT resource_id FROM events"
         " UNION SELECT resource_id FROM metric_points)") == [(0,)]
db.execute("UPDATE runs SET started_ms = started_ms - 100 * 86400000 WHERE id = 3")
db.commit()' "$work/prune/.ccrun/history.db" || fail "database after prune --keep"
"$CCRUN" prune --older-than 90d --dir "$work/prune" > prune.txt
grep -q '^removed 1 run ' prune.txt || fail "prune --older-than: $(cat prune.txt)"
"$CCRUN" prune --older-than 90d --dir "$work/prune" > prune.txt
grep -q '^nothing to remove' prune.txt || fail "second prune: $(cat prune.txt)"
py 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
assert db.execute("SELECT id FROM runs").fetchall() == [(4,)]' "$work/prune/.ccrun/history.db" \
    || fail "database after prune --older-than"
"$CCRUN" last --json --dir "$work/prune" > last.json
py 'import json,sys; sys.exit(json.load(open("last.json"))["run_id"] != 4)' || fail "last after prune"
set +e
"$CCRUN" prune --dir "$work/prune" > /dev/null 2>&1; st=$?
set -e
[ $st = 2 ] || fail "prune without a limit exited $st"

echo "# prune takes a run's spans with it"
replay "$work/prune-spans" o-traces-beta a-text-only
"$CCRUN" prune --keep 1 --dir "$work/prune-spans" > prune.txt
py 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
q = lambda s: db.execute(s).fetchall()
assert q("SELECT count(*) FROM spans") == [(0,)], q("SELECT run_id, name FROM spans")
assert q("SELECT count(*) FROM resources WHERE id NOT IN (SELECT resource_id FROM events"
         " UNION SELECT resource_id FROM metric_points)") == [(0,)]' \
    "$work/prune-spans/.ccrun/history.db" || fail "spans after prune"

echo "# help"
"$CCRUN" help stats | grep -q '^usage: ccrun stats' || fail "ccrun help stats"
"$CCRUN" --help > help.txt && grep -q 'ccrun sessions' help.txt || fail "--help lacks sessions"
set +e
"$CCRUN" help nosuch > /dev/null 2>&1; st=$?
set -e
[ $st != 0 ] || fail "help for an unknown command exited 0"
echo "all view checks passed"
