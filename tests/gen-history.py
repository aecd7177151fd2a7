#!/usr/bin/env python3
"""Fills a ccrun history with a large synthetic workload for timing the views.

Usage: gen-history.py DB RUNS EVENTS_PER_RUN. DB must already carry ccrun's
schema (run any command under ccrun once). Each run gets one session, prompts
of ten events (a prompt, four API requests, decisions and results of two
tools), a cost metric point per request, and spans the last 120 days.
"""
import json
import random
import sqlite3
import sys
import time

db_path, n_runs, per_run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
db = sqlite3.connect(db_path)
db.execute("PRAGMA synchronous=OFF")
now_ms = int(time.time() * 1000)
span_ms = 120 * 86400000
models = ["claude-opus-4-8", "claude-sonnet-4-6", "claude-haiku-4-5-20251001"]
tools = ["Bash", "Read", "Edit", "Write", "Grep"]
res = db.execute("INSERT OR IGNORE INTO resources (attrs) VALUES ('{}')")
resource = db.execute("SELECT id FROM resources WHERE attrs = '{}'").fetchone()[0]
base_id = db.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]
# Run ids grow with start time; the runs already there become the oldest.
db.execute("UPDATE runs SET started_ms = ?, ended_ms = ? WHERE id <= ?",
           (now_ms - span_ms - 1000, now_ms - span_ms, base_id))

for r in range(n_runs):
    run_id = base_id + r + 1
    start = now_ms - span_ms + r * span_ms // n_runs
    session = "%08x-%04x-4000-8000-%012x" % (rnd.getrandbits(32), r % 65536, run_id)
    events, points, t = [], [], start * 1000000
    prompt = None
    for i in range(per_run):
        t += rnd.randint(5, 900) * 1000000
        kind = i % 10
        if kind == 0:
            prompt = "p-%d-%d" % (run_id, i)
            events.append(("user_prompt", None, None, None, None, None, None, None, None,
                           None, None, 40, "do the thing"))
        elif kind in (1, 4, 7, 9):
            m = models[rnd.randrange(3)]
            cost = rnd.random() / 50
            events.append(("api_request", m, "sdk", cost, rnd.randint(100, 5000),
                           rnd.randint(10, 400), rnd.randint(0, 20000), rnd.randint(0, 900),
                           rnd.randint(50, 4000), None, None, None, None))
            points.append((run_id, resource, session, "claude_code.cost.usage", "USD", "sum", 1,
                           1, t, t, cost, json.dumps({"model": m})))
        elif kind in (2, 5):
            events.append(("tool_decision", None, None, None, None, None, None, None, None,
                           tools[rnd.randrange(5)], None, None, None))
        else:
            events.append(("tool_result", None, None, None, None, None, None, None,
                           rnd.randint(1, 3000), tools[rnd.randrange(5)],
                           int(rnd.random() > 0.1), None, None))
        e = events[-1]
        events[-1] = (run_id, resource, e[0], t, session, i, prompt, e[1], e[2], e[3], e[4],
                      e[5], e[6], e[7], e[8], e[9], e[10], e[11], e[12],
                      '{"event.name":"%s"}' % e[0])
    db.execute("INSERT INTO runs (id, command, cwd, started_ms, ended_ms, exit_code, signal,"
               " program, program_version) VALUES (?, ?, '/', ?, ?, 0, NULL, 'claude-code',"
               " '2.1.197')", (run_id, json.dumps(["claude", "-p", "task %d" % run_id]), start,
                               t // 1000000 + 50))
    db.execute("INSERT INTO sessions (run_id, session_id, first_ns) VALUES (?, ?, ?)",
               (run_id, session, start * 1000000))
    db.executemany("INSERT INTO events (run_id, resource_id, name, time_ns, session_id, seq,"
                   " prompt_id, model, query_source, cost_usd, input_tokens, output_tokens,"
                   " cache_read_tokens, cache_creation_tokens, duration_ms, tool_name, success,"
                   " prompt_length, prompt, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                   " ?, ?, ?, ?, ?, ?, ?, ?)", events)
    db.executemany("INSERT INTO metric_points (run_id, resource_id, session_id, name, unit,"
                   " kind, temporality, monotonic, start_ns, time_ns, value, attrs)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", points)
db.commit()
db.execute("ANALYZE")
db.commit()
print("%d runs, %d events" % (db.execute("SELECT count(*) FROM runs").fetchone()[0],
                              db.execute("SELECT count(*) FROM events").fetchone()[0]))
