#!/usr/bin/env python3
"""Checks ccrun's history views for one replayed fixture against its expected.json.

Usage: views-check.py CCRUN PROJECT_DIR FIXTURE_DIR. The project holds exactly
one run: the fixture posted through ccrun. Every --json view is parsed and
compared field by field; the exports are parsed back. Exits 1 on the first
mismatch with a message naming the view and the field.
"""
import csv
import io
import json
import re
import subprocess
import sys

ccrun, project, fixture = sys.argv[1:4]
exp = json.load(open(fixture + "/expected.json"))
name = fixture.rstrip("/").split("/")[-1]



# ccrun scrubs the one secret in the captures; put it back to compare with them.
def unscrub(text):
    if text is None:
        return None
    return re.sub(r"\[secret:[0-9a-f]{8}\]", "sk-live-EXAMPLE0000", text)

def fail(msg):
    print("views-check %s: FAIL: %s" % (name, msg), file=sys.stderr)
    sys.exit(1)


def run(*args, ok=True):
    p = subprocess.run([ccrun] + list(args) + ["--dir", project],
                       capture_output=True, text=True, timeout=60)
    if ok and p.returncode != 0:
        fail("ccrun %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def js(*args):
    out = run(*args).stdout
    try:
        return json.loads(out)
    except ValueError:
        fail("ccrun %s printed no JSON: %r" % (" ".join(args), out[:300]))


def near(a, b, what, eps=1e-9):
    if a is None or abs(a - b) > eps:
        fail("%s: %r != %r" % (what, a, b))


def eq(a, b, what):
    if a != b:
        fail("%s: %r != %r" % (what, a, b))


counts = exp["event_counts"]
tot = exp["api_request_totals"]
tools = exp["tools"]
n_events = sum(counts.values())
tool_calls = sum(t["results"] for t in tools.values())
tool_failures = sum(t["failure"] for t in tools.values())

# sessions --json: one run with the fixture's totals.
runs = js("sessions", "--json")
eq(len(runs), 1, "sessions: number of runs")
r = runs[0]
for key in ("run_id", "command", "started_at", "ended_at", "duration_ms", "exit_code",
            "signal", "sessions", "cost_usd", "api_requests", "api_errors", "tool_calls",
            "tool_failures"):
    if key not in r:
        fail("sessions: no key %s" % key)
near(r["cost_usd"], tot["cost_usd"], "sessions: cost_usd")
eq(r["api_requests"], counts.get("api_request", 0), "sessions: api_requests")
eq(r["api_errors"], counts.get("api_error", 0), "sessions: api_errors")
eq(r["tool_calls"], tool_calls, "sessions: tool_calls")
eq(r["tool_failures"], tool_failures, "sessions: tool_failures")
eq(r["sessions"], exp["session_ids"], "sessions: sessions")
eq(r["exit_code"], 0, "sessions: exit_code")
eq(r["signal"], None, "sessions: signal")
run_id = r["run_id"]


def check_timeline(events, what):
    eq(len(events), n_events, what + ": number of events")
    by_name = {}
    for e in events:
        by_name[e["name"]] = by_name.get(e["name"], 0) + 1
    eq(by_name, counts, what + ": events by name")
    api = [e for e in events if e["name"] == "api_request"]
    near(sum(e["cost_usd"] for e in api), tot["cost_usd"], what + ": cost")
    for k in ("input", "output", "cache_read", "cache_creation"):
        eq(sum(e["tokens"][k] for e in api), tot[k], what + ": tokens " + k)
    for e in api:
        kind = "main" if e["query_source"] in ("sdk", "repl_main_thread", "main") else "auxiliary"
        eq(e["request_kind"], kind, what + ": request_kind of " + str(e["query_source"]))
        eq(e["subagent"], False, what + ": subagent")
    decisions = {}
    for e in events:
        if e["name"] == "tool_decision":
            key = (e["tool_name"], "%s/%s" % (e["decision"], e["source"]))
            decisions[key] = decisions.get(key, 0) + 1
    want = {(t, d): n for t, v in tools.items() for d, n in v["decisions"].items()}
    eq(decisions, want, what + ": tool decisions")
    results = {}
    for e in events:
        if e["name"] == "tool_result":
            ok, bad = results.get(e["tool_name"], (0, 0))
            results[e["tool_name"]] = (ok + (e["success"] is True), bad + (e["success"] is False))
    eq(results, {t: (v["success"], v["failure"]) for t, v in tools.items() if v["results"]},
       what + ": tool results")
    prompts = [e for e in events if e["name"] == "user_prompt"]
    eq([(unscrub(p["prompt"]), str(p["prompt_length"])) for p in prompts],
       [(p.get("prompt"), p["prompt_length"]) for p in exp["prompts"]], what + ": prompts")
    for p in prompts:
        slash = p["prompt"].startswith("/") if p["prompt"] else False
        eq(p["slash_command"] is not None, slash, what + ": slash_command of " + str(p["prompt"]))
    errors = [e for e in events if e["name"] == "api_error"]
    eq([(e["error"], str(e["status_code"])) for e in errors],
       [(x["error"], x["status_code"]) for x in exp["api_errors"]], what + ": api errors")
    # Grouped by prompt: once a prompt's events end, that prompt id never comes back.
    seen, last = set(), object()
    for e in events:
        if e["prompt_id"] != last:
            if e["prompt_id"] in seen:
                fail(what + ": prompt %s is not one group" % e["prompt_id"])
            seen.add(e["prompt_id"])
            last = e["prompt_id"]
    # An interaction (from spans) may begin before its first event.
    offsets = [e["offset_ms"] for e in events]
    offsets += [e["interaction"]["offset_ms"] for e in events if "interaction" in e]
    if min(offsets) != 0:
        fail(what + ": offsets do not start at 0: %r" % offsets[:5])


check_timeline(js("show", "--json"), "show")
check_timeline(js("show", str(run_id), "--json"), "show RUN")
check_timeline(js("show", exp["session_ids"][0][:8], "--json"), "show SESSION")

# stats: the total, by model and by tool.
st = js("stats", "--json")
eq(st["by"], "total", "stats: by")
eq(st["rows"], [], "stats: rows")
t = st["total"]
near(t["cost_usd"], tot["cost_usd"], "stats: cost_usd")
for k in ("input", "output", "cache_read", "cache_creation"):
    eq(t["tokens"][k], tot[k], "stats: tokens " + k)
eq(t["api_requests"], counts.get("api_request", 0), "stats: api_requests")
eq(t["api_errors"], counts.get("api_error", 0), "stats: api_errors")
eq(t["tool_calls"], tool_calls, "stats: tool_calls")
eq(t["tool_failed"], tool_failures, "stats: tool_failed")
all_in = tot["input"] + tot["cache_read"] + tot["cache_creation"]
if all_in:
    near(t["cache_hit_ratio"], tot["cache_read"] / all_in, "stats: cache_hit_ratio")
else:
    eq(t["cache_hit_ratio"], None, "stats: cache_hit_ratio")
reqs = counts.get("api_request", 0) + counts.get("api_error", 0)
if reqs:
    near(t["error_rate"], counts.get("api_error", 0) / reqs, "stats: error_rate")
if tool_calls:
    near(t["tool_success_rate"], (tool_calls - tool_failures) / tool_calls,
         "stats: tool_success_rate")

models = {row["key"]: row for row in js("stats", "--by", "model", "--json")["rows"]
          if row["api_requests"] > 0}
eq(sorted(models), sorted(exp["per_model_events"]), "stats --by model: models")
for m, want in exp["per_model_events"].items():
    eq(models[m]["api_requests"], want["requests"], "stats --by model: requests of " + m)
    near(models[m]["cost_usd"], want["cost_usd"], "stats --by model: cost of " + m)
    for k in ("input", "output", "cache_read", "cache_creation"):
        eq(models[m]["tokens"][k], want[k], "stats --by model: %s of %s" % (k, m))

by_tool = {row["key"]: row for row in js("stats", "--by", "tool", "--json")["rows"]}
eq({k: (v["tool_calls"], v["tool_succeeded"], v["tool_failed"]) for k, v in by_tool.items()},
   {k: (v["results"], v["success"], v["failure"]) for k, v in tools.items() if v["results"]},
   "stats --by tool")

sess = js("stats", "--by", "session", "--json")["rows"]
eq([row["key"] for row in sess], exp["session_ids"], "stats --by session: keys")

# export: JSON lines and CSV parse back to the same events.
lines = run("export").stdout.splitlines()
eq(len(lines), n_events, "export jsonl: lines")
rows = [json.loads(line) for line in lines]
near(sum(x["cost_usd"] for x in rows if x["name"] == "api_request"), tot["cost_usd"],
     "export jsonl: cost")
if any("attrs" not in x or "event.name" not in x["attrs"] for x in rows):
    fail("export jsonl: attrs missing")
table = list(csv.DictReader(io.StringIO(run("export", "--format", "csv", str(run_id)).stdout)))
eq(len(table), n_events, "export csv: rows")
near(sum(float(x["cost_usd"]) for x in table if x["name"] == "api_request"), tot["cost_usd"],
     "export csv: cost")
eq([unscrub(x["prompt"]) for x in table if x["name"] == "user_prompt"],
   [p.get("prompt") for p in exp["prompts"]], "export csv: prompts")

# last --json carries what the cost metric says; here it agrees with the events.
last = js("last", "--json")
metric = sum(p["value"] for p in exp["metrics"].get("claude_code.cost.usage", []))
if metric:
    near(last["metrics_cost_usd"], metric, "last: metrics_cost_usd", 1e-6)
else:
    eq(last["metrics_cost_usd"], None, "last: metrics_cost_usd")
if "some events were not received" in run("show").stdout:
    fail("show: metrics disagreement reported for a complete run")
print("views-check %s: ok" % name)
