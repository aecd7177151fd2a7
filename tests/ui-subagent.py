#!/usr/bin/env python3
"""Writes an OTLP/JSON logs body of a made-up Claude Code session with a
subagent, for the dashboard tests: an Agent tool call spanning a subagent's
requests and tool calls, a failed tool, an API error, a rejected tool and a
long idle stretch between two prompts. Usage: ui-subagent.py > 01-logs.json
"""
import json
import sys
import time

SESSION = "5e55a9e0-0000-4000-8000-00000000a9e7"
base_ms = int(time.time() * 1000) - 120000
seq = 0


def attr(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"stringValue": "true" if v else "false"}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": v}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def event(at_ms, name, prompt_id, **kv):
    global seq
    ns = str((base_ms + at_ms) * 1000000)
    attrs = [attr("session.id", SESSION), attr("event.name", name),
             attr("event.sequence", seq), attr("prompt.id", prompt_id)]
    attrs += [attr(k, v) for k, v in kv.items()]
    seq += 1
    return {"timeUnixNano": ns, "observedTimeUnixNano": ns,
            "body": {"stringValue": "claude_code." + name}, "attributes": attrs}


def request(at_ms, prompt, dur, source="repl_main_thread", model="claude-opus-4-8", cost=0.004):
    return event(at_ms, "api_request", prompt, model=model, query_source=source, duration_ms=dur,
                 input_tokens=1200, output_tokens=80, cache_read_tokens=4000,
                 cache_creation_tokens=100, cost_usd=cost)


def tool(at_ms, prompt, name, dur, ok=True, error=None):
    kv = {"tool_name": name, "success": ok, "duration_ms": dur}
    if error:
        kv["error"] = error
    return event(at_ms, "tool_result", prompt, **kv)


p1, p2 = "11111111-aaaa-4000-8000-000000000001", "22222222-bbbb-4000-8000-000000000002"
sub = "agent:general-purpose"
records = [
    event(0, "user_prompt", p1, prompt="Find why the build is slow and fix it", prompt_length=37),
    request(1400, p1, 1350),
    event(1420, "tool_decision", p1, tool_name="Agent", decision="accept", source="config"),
    request(3300, p1, 1800, source=sub, model="claude-sonnet-4-6", cost=0.002),
    event(3310, "tool_decision", p1, tool_name="Bash", decision="accept", source="config"),
    tool(4300, p1, "Bash", 980),
    request(5600, p1, 1250, source=sub, model="claude-sonnet-4-6", cost=0.002),
    tool(5900, p1, "Read", 120, ok=False, error="File does not exist."),
    request(7200, p1, 1200, source=sub, model="claude-sonnet-4-6", cost=0.002),
    tool(7300, p1, "Agent", 5850),
    event(8100, "api_error", p1, model="claude-opus-4-8", error="Overloaded", status_code=529,
          duration_ms=700, query_source="repl_main_thread"),
    request(9900, p1, 1700),
    event(52000, "user_prompt", p2, prompt="Now write the notes to NOTES.md", prompt_length=31),
    request(53500, p2, 1450),
    event(53520, "tool_decision", p2, tool_name="Write", decision="reject", source="user_reject"),
    request(54800, p2, 1200),
]
body = {"resourceLogs": [{
    "resource": {"attributes": [attr("service.name", "claude-code"),
                                attr("service.version", "2.1.197")]},
    "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events", "version": "2.1.197"},
                   "logRecords": records}]}]}
json.dump(body, sys.stdout)
