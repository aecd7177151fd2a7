#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, made from the fixtures.

    fuzz-seeds.py DATA_DIR OUT_DIR

OUT_DIR/fuzz-otlp/ gets every protobuf body behind a byte naming its signal;
OUT_DIR/fuzz-http/ gets whole HTTP requests carrying those bodies (plain,
chunked, two on one connection, cut into small writes) and a few that must
be refused. "@TOKEN@" stands for the receiver's token.
"""
import glob
import os
import sys

SIGNALS = {"logs": 0, "metrics": 1, "traces": 2}


def signal_of(path):
    for name in SIGNALS:
        if "-%s." % name in os.path.basename(path):
            return name
    return None


def request(signal, body, chunked=False, token="@TOKEN@", extra=b""):
    head = ("POST /v1/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/x-protobuf\r\n" % (signal, token)).encode()
    if chunked:
        out = head + b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n"
        for i in range(0, len(body), 500):
            part = body[i:i + 500]
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        return out + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body


def main():
    data, out = sys.argv[1], sys.argv[2]
    otlp_dir = os.path.join(out, "fuzz-otlp")
    http_dir = os.path.join(out, "fuzz-http")
    os.makedirs(otlp_dir, exist_ok=True)
    os.makedirs(http_dir, exist_ok=True)
    seeds = {}
    for path in sorted(glob.glob(os.path.join(data, "*", "*.pb"))):
        signal = signal_of(path)
        if signal is None:
            continue
        body = open(path, "rb").read()
        name = "%s-%s" % (os.path.basename(os.path.dirname(path)), os.path.basename(path))
        seeds[name] = (signal, body)
        open(os.path.join(otlp_dir, name), "wb").write(bytes([SIGNALS[signal]]) + body)
    for i, (name, (signal, body)) in enumerate(sorted(seeds.items())):
        variants = {
            "plain": b"\0" + request(signal, body),
            "chunked": b"\0" + request(signal, body, chunked=True),
            "pieces": bytes([1 + i % 40]) + request(signal, body),
        }
        for kind, blob in variants.items():
            open(os.path.join(http_dir, "%s-%s" % (kind, name)), "wb").write(blob)
    some = seeds[sorted(seeds)[0]]
    two = request(some[0], some[1], extra=b"Connection: keep-alive\r\n") * 2
    refused = {
        "two-keepalive": b"\0" + two,
        "wrong-token": b"\0" + request(some[0], some[1], token="nope"),
        "get": b"\0GET /v1/logs HTTP/1.1\r\nHost: x\r\n\r\n",
        "unknown-path": b"\0POST /v2/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "too-large": b"\0POST /v1/logs HTTP/1.1\r\nAuthorization: Bearer @TOKEN@\r\n"
                     b"Content-Length: 99999999999\r\n\r\n",
        "gzip": b"\0" + request("logs", b"\x1f\x8b\x08\0", extra=b"Content-Encoding: gzip\r\n"),
        "json": b"\0" + request("logs", b"{}").replace(b"x-protobuf", b"json"),
        "garbage-body": b"\0" + request("metrics", b"\xff" * 64),
        "http10": b"\0POST /v1/logs HTTP/1.0\r\nAuthorization: Bearer @TOKEN@\r\n"
                  b"Content-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
    }
    for name, blob in refused.items():
        open(os.path.join(http_dir, name), "wb").write(blob)


if __name__ == "__main__":
    main()
