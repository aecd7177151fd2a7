#!/usr/bin/env python3
"""A scripted stand-in for the Anthropic Messages API, for end-to-end tests.

Claude Code is pointed at it with ANTHROPIC_BASE_URL. The server listens on
127.0.0.1 on a port the kernel picks, and writes that port to --port-file
(atomically: write a temporary file, then rename) once it accepts connections.

The --script file is JSON:

    {
      "steps": [STEP, ...],   consumed in order, one per Messages request
                              that offers tools to the model
      "default": STEP,        for tool-carrying requests once steps run out
      "no_tools": STEP        for requests without tools (session titles)
    }

A STEP is one of

    {"tool_use": {"name": "Bash", "input": {...}}, "usage": USAGE}
    {"text": "...", "usage": USAGE}
    {"error": {"status": 500, "type": "api_error", "message": "...",
               "no_retry": true}}

and USAGE is {"input": N, "output": N, "cache_read": N, "cache_creation": N}
(a missing field counts as 0; a step without "usage" gets 1200/40/5000/300).
A step may also carry "text" together with "tool_use": the text block then
comes first, as the real API does; and "delay_ms": N to answer only after N
milliseconds. An error step answers with that HTTP status and an API error
body ("no_retry" adds x-should-retry: false); Claude Code retries 5xx
errors, and every retry consumes the next step like any request.

Replies are streamed as server-sent events in the order the real API uses
(message_start, content blocks with their deltas, message_delta with the
stop reason and the final usage, message_stop), or sent as one JSON message
when the request does not ask for a stream.

Every request is logged as one JSON line to --log (path, model, number of
messages and tools, what the last message carries, the step used, the usage
sent back, the text of any tool_result in the last message, a few headers).
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_USAGE = {"input": 1200, "output": 40, "cache_read": 5000,
                 "cache_creation": 300}


class Script:
    """The scripted replies and the log, shared by all handler threads."""

    def __init__(self, data, log_path):
        if isinstance(data, list):
            data = {"steps": data}
        self.steps = list(data.get("steps", []))
        self.default = data.get("default",
                                {"text": "Done.", "usage": DEFAULT_USAGE})
        self.no_tools = data.get("no_tools",
                                 {"text": "Short title", "usage": DEFAULT_USAGE})
        self.next_step = 0
        self.count = 0
        self.lock = threading.Lock()
        self.log_path = log_path

    def pick(self, has_tools):
        """Return (request number, step label, step) for one Messages request."""
        with self.lock:
            self.count += 1
            if not has_tools:
                return self.count, "no_tools", self.no_tools
            if self.next_step < len(self.steps):
                self.next_step += 1
                return self.count, self.next_step, self.steps[self.next_step - 1]
            return self.count, "default", self.default

    def log(self, record):
        if not self.log_path:
            return
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)


def usage_fields(step):
    u = step.get("usage", DEFAULT_USAGE)
    return {
        "input_tokens": int(u.get("input", 0)),
        "cache_creation_input_tokens": int(u.get("cache_creation", 0)),
        "cache_read_input_tokens": int(u.get("cache_read", 0)),
        "output_tokens": int(u.get("output", 0)),
    }


def content_blocks(step):
    """The assistant content of a step, as complete blocks."""
    blocks = []
    if "text" in step:
        blocks.append({"type": "text", "text": str(step["text"])})
    if "tool_use" in step:
        tu = step["tool_use"]
        blocks.append({
            "type": "tool_use",
            "id": "toolu_" + uuid.uuid4().hex[:24],
            "name": tu["name"],
            "input": tu.get("input", {}),
        })
    if not blocks:
        blocks.append({"type": "text", "text": ""})
    return blocks


def chunks(s, size):
    return [s[i:i + size] for i in range(0, len(s), size)] or [""]


def last_message_summary(body):
    """What the last message of a request carries: kinds and tool results."""
    msgs = body.get("messages") or []
    if not msgs:
        return None, []
    content = msgs[-1].get("content")
    if isinstance(content, str):
        return "text", []
    kinds, results = [], []
    for block in content or []:
        kind = block.get("type")
        kinds.append(kind)
        if kind == "tool_result":
            c = block.get("content")
            if isinstance(c, list):
                c = "".join(x.get("text", "") for x in c if isinstance(x, dict))
            results.append({"content": c, "is_error": bool(block.get("is_error"))})
    last = "tool_result" if "tool_result" in kinds else (kinds[-1] if kinds else None)
    return last, results


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    # -- helpers ---------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def base_record(self):
        return {
            "method": self.command,
            "path": self.path,
            "ua": self.headers.get("User-Agent"),
            "beta": self.headers.get("anthropic-beta"),
        }

    # -- routes ------------------------------------------------------------

    def do_HEAD(self):
        self.server.script.log(self.base_record())
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.server.script.log(self.base_record())
        route = self.path.split("?")[0]
        if route.startswith("/v1/models"):
            self.send_json(200, {"data": [], "has_more": False,
                                 "first_id": None, "last_id": None})
        else:
            self.send_json(200, {})

    def do_POST(self):
        raw = self.read_body()
        route = self.path.split("?")[0]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        record = self.base_record()
        if route == "/v1/messages/count_tokens":
            self.server.script.log(record)
            self.send_json(200, {"input_tokens": 100})
        elif route == "/v1/messages":
            self.messages(body, record)
        else:
            self.server.script.log(record)
            self.send_json(404, {"type": "error", "error": {
                "type": "not_found_error", "message": "no route " + route}})

    def messages(self, body, record):
        script = self.server.script
        tools = body.get("tools") or []
        n, label, step = script.pick(bool(tools))
        last, results = last_message_summary(body)
        record.update({
            "n": n,
            "model": body.get("model"),
            "stream": bool(body.get("stream")),
            "nmsg": len(body.get("messages") or []),
            "ntools": len(tools),
            "last": last,
            "tool_results": results,
            "max_tokens": body.get("max_tokens"),
            "step": label,
        })
        if "error" in step:
            record["error_status"] = int(step["error"].get("status", 500))
        else:
            record["usage"] = usage_fields(step)
        script.log(record)

        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)

        if "error" in step:
            err = step["error"]
            status = int(err.get("status", 500))
            self.send_json(status, {"type": "error", "error": {
                "type": err.get("type", "api_error"),
                "message": err.get("message", "scripted failure")}},
                extra={"x-should-retry": "false"} if err.get("no_retry") else None)
            return

        model = body.get("model") or "claude-opus-4-8"
        blocks = content_blocks(step)
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        usage = usage_fields(step)
        msg_id = "msg_" + uuid.uuid4().hex[:24]

        if not body.get("stream"):
            self.send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant",
                "model": model, "content": blocks, "stop_reason": stop,
                "stop_sequence": None, "usage": usage})
            return
        self.stream(msg_id, model, blocks, stop, usage)

    def stream(self, msg_id, model, blocks, stop, usage):
        events = []
        start_usage = dict(usage, output_tokens=1)
        events.append(("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": start_usage}}))
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                events.append(("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "text", "text": ""}}))
                if i == 0:
                    events.append(("ping", {"type": "ping"}))
                for piece in chunks(block["text"], 16):
                    events.append(("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "text_delta", "text": piece}}))
            else:
                events.append(("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "tool_use", "id": block["id"],
                                      "name": block["name"], "input": {}}}))
                if i == 0:
                    events.append(("ping", {"type": "ping"}))
                for piece in chunks(json.dumps(block["input"]), 24):
                    events.append(("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "input_json_delta",
                                  "partial_json": piece}}))
            events.append(("content_block_stop",
                           {"type": "content_block_stop", "index": i}))
        events.append(("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for name, data in events:
            payload = ("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", required=True, help="JSON reply script")
    ap.add_argument("--port-file", required=True, help="where to write the port")
    ap.add_argument("--log", help="append one JSON line per request here")
    args = ap.parse_args()

    with open(args.script, encoding="utf-8") as f:
        script = Script(json.load(f), args.log)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.script = script
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
