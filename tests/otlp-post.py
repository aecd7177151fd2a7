#!/usr/bin/env python3
"""A stand-in child for ccrun: posts OTLP bodies the way Claude Code does.

Reads the endpoint and headers ccrun injected, sends each file given on the
command line over one keep-alive HTTP/1.1 connection with chunked transfer
encoding (the signal comes from the file name: NN-logs.pb, NN-metrics.pb),
and checks every answer. Exits with --exit N, or 3 when an answer was wrong.
"""
import argparse
import http.client
import os
import sys
import urllib.parse


def headers_from_env(var):
    out = {}
    for item in os.environ.get(var, "").split(","):
        if "=" in item:
            k, v = item.split("=", 1)
            out[urllib.parse.unquote(k.strip())] = urllib.parse.unquote(v.strip())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--expect", type=int, default=200, help="status every post must get")
    ap.add_argument("--token", help="send this bearer token instead of the injected one"
                    " (an empty one: no Authorization header)")
    ap.add_argument("--chunk", type=int, default=0, help="chunk size (0: one chunk)")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()

    base = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    bad = 0
    for path in a.files:
        name = os.path.basename(path)
        signal = "logs" if "-logs" in name else "traces" if "-traces" in name else "metrics"
        hdrs = headers_from_env("OTEL_EXPORTER_OTLP_%s_HEADERS" % signal.upper()) or \
            headers_from_env("OTEL_EXPORTER_OTLP_HEADERS")
        if a.token == "":
            hdrs.pop("Authorization", None)
        elif a.token is not None:
            hdrs["Authorization"] = "Bearer " + a.token
        if name.endswith(".gz"):
            hdrs["Content-Encoding"] = "gzip"
        plain = name[:-3] if name.endswith(".gz") else name
        hdrs["Content-Type"] = "application/json" if plain.endswith(".json") else "application/x-protobuf"
        with open(path, "rb") as f:
            body = f.read()
        if a.chunk > 0:
            chunks = [body[i:i + a.chunk] for i in range(0, len(body), a.chunk)]
        else:
            chunks = [body]
        conn.request("POST", "/v1/" + signal, body=iter(chunks), headers=hdrs,
                     encode_chunked=True)
        resp = conn.getresponse()
        resp.read()
        if resp.status != a.expect:
            print("otlp-post: %s got %d, wanted %d" % (name, resp.status, a.expect),
                  file=sys.stderr)
            bad += 1
    conn.close()
    sys.exit(3 if bad else a.exit)


if __name__ == "__main__":
    main()
