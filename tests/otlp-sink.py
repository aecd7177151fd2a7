#!/usr/bin/env python3
"""A loopback OTLP/HTTP upstream that misbehaves on purpose, for forwarding tests.

Writes its port to --port-file and one JSON line per request to --log (time,
path, content type and encoding, body length, the status it answered).
--mode ok answers 200; --mode status answers --status (with Retry-After
--retry-after when given) to the first --fail-first requests, then 200;
--mode stall reads the request and never answers.
"""
import argparse
import http.server
import json
import threading
import time

state = {"seen": 0}
lock = threading.Lock()


def make_handler(a):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                state["seen"] += 1
                seen = state["seen"]
            status = 200
            if a.mode == "stall":
                status = 0
            elif a.mode == "status" and seen <= a.fail_first:
                status = a.status
            with lock, open(a.log, "a") as f:
                f.write(json.dumps({
                    "t": time.time(), "path": self.path, "len": len(body),
                    "type": self.headers.get("Content-Type"),
                    "encoding": self.headers.get("Content-Encoding"),
                    "auth": self.headers.get("Authorization"),
                    "status": status}) + "\n")
            if status == 0:
                threading.Event().wait()
            self.send_response(status)
            if status != 200 and a.retry_after is not None:
                self.send_header("Retry-After", str(a.retry_after))
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode", choices=["ok", "status", "stall"], default="ok")
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--retry-after", type=int)
    ap.add_argument("--fail-first", type=int, default=1 << 30)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(a))
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
