#!/usr/bin/env python3
"""A hostile child for ccrun: attacks the receiver ccrun injected, one way at
a time, and after each checks that an ordinary export still gets 200 within
a deadline, that ccrun (the parent) is alive, and that its memory stays
bounded. Prints one line per attack; exits 1 on the first failure.

    hostile-peer.py BODY.pb ATTACK...

ATTACK is one of: slowloris, no-read, idle, header-flood, garbage, big-body,
pipelined.
"""
import os
import resource
import socket
import sys
import time
import urllib.parse

DEADLINE = 10.0
# ccrun's memory bound; a sanitizer build needs more for its own bookkeeping.
MAX_RSS_KIB = int(os.environ.get("CCR_MAX_RSS_KIB", 24 * 1024))

u = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
AUTH = os.environ["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
ADDR = (u.hostname, u.port)
CCRUN = os.getppid()
BODY = open(sys.argv[1], "rb").read()


def request(body, path="/v1/logs", extra=b"", keep_alive=True):
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            "Content-Type: application/x-protobuf\r\nContent-Length: %d\r\n"
            % (path, AUTH, len(body))).encode()
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + extra + b"\r\n" + body


def status_of(sock):
    """Reads one answer's status line; None when the connection closed first."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return int(data.split(b" ", 2)[1])


def vm(field):
    with open("/proc/%d/status" % CCRUN) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit("hostile-peer: ccrun (pid %d) is gone" % CCRUN)


def fail(msg):
    print("hostile-peer: FAIL: %s" % msg, flush=True)
    sys.exit(1)


def ordinary_export_works(what):
    """A fresh connection posts a real body and must get 200 in time."""
    t0 = time.monotonic()
    s = socket.create_connection(ADDR, timeout=DEADLINE)
    s.sendall(request(BODY))
    st = status_of(s)
    s.close()
    took = time.monotonic() - t0
    if st != 200:
        fail("%s: an ordinary export got %s" % (what, st))
    rss = vm("VmRSS")
    if rss > MAX_RSS_KIB:
        fail("%s: ccrun's RSS is %d KiB" % (what, rss))
    print("hostile-peer: %s: ordinary export answered 200 in %.0f ms; ccrun RSS %d KiB, peak %d KiB"
          % (what, took * 1000, rss, vm("VmHWM")), flush=True)


def slowloris():
    """Connections that send a request one byte at a time and never finish it."""
    socks = [socket.create_connection(ADDR) for _ in range(50)]
    partial = request(BODY)[:-10]
    for i in range(200):
        for s in socks:
            s.send(partial[i:i + 1])
        if i % 50 == 0:
            ordinary_export_works("slowloris (byte %d)" % i)
    ordinary_export_works("slowloris")
    for s in socks:
        s.close()


def no_read():
    """A client that pipelines requests and never reads an answer."""
    s = socket.create_connection(ADDR)
    s.setblocking(False)
    block = request(b"", path="/v1/metrics") * 256
    sent = 0
    blocked_at = None
    t0 = time.monotonic()
    # Up to 64 MiB of requests: ccrun must stop reading rather than queue every answer.
    while sent < (64 << 20) and time.monotonic() - t0 < DEADLINE:
        try:
            sent += s.send(block[sent % len(block):])
        except BlockingIOError:
            if blocked_at is None:
                blocked_at = sent
            time.sleep(0.01)
            if time.monotonic() - t0 > 2:
                break
    print("hostile-peer: no-read: the socket took %d bytes, blocked first after %s"
          % (sent, blocked_at), flush=True)
    ordinary_export_works("no-read")
    s.close()


def ccrun_fd_limit():
    with open("/proc/%d/limits" % CCRUN) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 1024


def idle():
    """10,000 idle connections, or as many as ccrun's descriptor limit leaves room for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(10000, ccrun_fd_limit() - 64)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, want + 100), hard))
    socks = []
    for _ in range(want):
        try:
            socks.append(socket.create_connection(ADDR, timeout=DEADLINE))
        except OSError:
            break
    print("hostile-peer: idle: %d connections open" % len(socks), flush=True)
    ordinary_export_works("idle")
    # Every idle connection is still served.
    for s in (socks[0], socks[-1]):
        s.sendall(request(BODY))
        if status_of(s) != 200:
            fail("idle: an idle connection was not served")
    for s in socks:
        s.close()
    ordinary_export_works("idle closed")


def header_flood():
    """Headers without end: the parser's limit must answer 400 and close."""
    s = socket.create_connection(ADDR, timeout=DEADLINE)
    s.sendall(b"POST /v1/logs HTTP/1.1\r\nAuthorization: " + AUTH.encode() + b"\r\n")
    line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
    try:
        for _ in range(2000):
            s.sendall(line)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        st = status_of(s)
    except ConnectionResetError:
        st = None
    if st not in (400, 431, None):
        fail("header flood answered %s" % st)
    s.close()
    ordinary_export_works("header-flood")


def garbage():
    """Truncated and random protobuf, wrong types and empty bodies: 400s, and no harm."""
    bodies = [BODY[:len(BODY) // 2], BODY[:7], os.urandom(4096), b"\xff" * 100,
              b"\x0a\xff\xff\xff\xff\x0f" + BODY]
    for b in bodies:
        s = socket.create_connection(ADDR, timeout=DEADLINE)
        s.sendall(request(b))
        st = status_of(s)
        if st not in (200, 400):
            fail("garbage body answered %s" % st)
        s.close()
    ordinary_export_works("garbage")


def big_body():
    """A declared body over the cap gets 413 before it is sent."""
    s = socket.create_connection(ADDR, timeout=DEADLINE)
    s.sendall(request(b"")[:-2].replace(b"Content-Length: 0", b"Content-Length: 17000000") +
              b"\r\n")
    st = status_of(s)
    if st != 413:
        fail("an oversized body answered %s" % st)
    s.close()
    ordinary_export_works("big-body")


def pipelined():
    """Many requests in one write on one connection: every one answered, in order."""
    s = socket.create_connection(ADDR, timeout=DEADLINE)
    s.sendall(request(BODY) * 100)
    f = s.makefile("rb")
    for i in range(100):
        line = f.readline()
        if not line.startswith(b"HTTP/1.1 200"):
            fail("pipelined request %d answered %r" % (i, line))
        length = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        f.read(length)
    s.close()
    ordinary_export_works("pipelined")


ATTACKS = {"slowloris": slowloris, "no-read": no_read, "idle": idle,
           "header-flood": header_flood, "garbage": garbage, "big-body": big_body,
           "pipelined": pipelined}

for name in sys.argv[2:]:
    ATTACKS[name]()
print("hostile-peer: all attacks survived", flush=True)
