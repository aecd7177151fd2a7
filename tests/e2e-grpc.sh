#!/usr/bin/env bash
# End to end, gRPC over h2c with prior knowledge on the receiver's one
# port: the j2 capture's gRPC messages, sent by curl as a stand-in child,
# must give the figures of j2's expected.json, also when each message is
# gzip-compressed; and a wrong token, an unknown method, a malformed frame,
# an unknown message encoding, a gzip bomb and a message over 16 MiB each
# get their gRPC status.
#
#     CCRUN=build/ccrun tests/e2e-grpc.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is needed (shell/deps.sh --test installs it)"
curl --version | grep -qi nghttp2 || fail "this curl has no HTTP/2 support"
: "${CCRUN:?set CCRUN to the ccrun binary under test}"
CCRUN=$(cd "$(dirname "$CCRUN")" && pwd -P)/$(basename "$CCRUN")
DATA=${CCR_TEST_DATA:-$TESTS_DIR/data}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ccrun-$TEST_NAME.XXXXXX")
PROJ=$SCRATCH/proj
mkdir -p "$PROJ"

# Hand-made messages: gzip-compressed copies, an unknown compression and a bomb.
python3 - "$DATA/j2-grpc-h2c" "$SCRATCH" <<'PY'
import gzip, struct, sys, zlib
src, out = sys.argv[1], sys.argv[2]
def frame(flag, payload):
    return struct.pack(">BI", flag, len(payload)) + payload
for name in ("01-logs", "02-metrics"):
    pb = open("%s/%s.pb" % (src, name), "rb").read()
    open("%s/%s.gz.grpc" % (out, name), "wb").write(frame(1, gzip.compress(pb)))
open(out + "/truncated.grpc", "wb").write(open(src + "/01-logs.grpc", "rb").read()[:-7])
co = zlib.compressobj(9, zlib.DEFLATED, 31)
bomb = b"".join(co.compress(bytes(1 << 20)) for _ in range(64)) + co.flush()
open(out + "/bomb.grpc", "wb").write(frame(1, bomb))
open(out + "/huge.grpc", "wb").write(frame(0, bytes(17 << 20)))
PY

cat >"$SCRATCH/child.sh" <<'SH'
#!/bin/sh
# call FILE SERVICE [CURL_ARGS...]: one unary call; prints its grpc-status.
call() {
	f=$1 svc=$2
	shift 2
	curl -sS --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' \
		-H 'te: trailers' -H "authorization: Bearer $TOKEN" "$@" --data-binary "@$f" \
		"$OTEL_EXPORTER_OTLP_ENDPOINT/opentelemetry.proto.collector.$svc/Export" |
		tr -d '\r' | sed -n 's/^grpc-status: //p'
}
TOKEN=${OTEL_EXPORTER_OTLP_HEADERS#Authorization=Bearer }
L=logs.v1.LogsService M=metrics.v1.MetricsService
{
	echo "plain-logs $(call "$J2/01-logs.grpc" $L)"
	echo "plain-metrics $(call "$J2/02-metrics.grpc" $M)"
	echo "gzip-logs $(call "$S/01-logs.gz.grpc" $L -H 'grpc-encoding: gzip')"
	echo "gzip-metrics $(call "$S/02-metrics.gz.grpc" $M -H 'grpc-encoding: gzip')"
	echo "no-token $(TOKEN=wrong call "$J2/01-logs.grpc" $L)"
	echo "unknown-method $(call "$J2/01-logs.grpc" logs.v1.LogsService/Nope)"
	echo "truncated $(call "$S/truncated.grpc" $L)"
	echo "unknown-encoding $(call "$S/01-logs.gz.grpc" $L -H 'grpc-encoding: snappy')"
	echo "bomb $(call "$S/bomb.grpc" $L -H 'grpc-encoding: gzip')"
	echo "huge $(call "$S/huge.grpc" $L)"
	echo "raw $(python3 "$S/raw.py")"
} >"$S/statuses.txt"
SH
# Byte-level cases curl cannot make: the preface split across writes and
# followed by garbage (the server must answer with a GOAWAY and close), and
# an HTTP/1.1 request whose first byte arrives alone.
cat >"$SCRATCH/raw.py" <<'PY'
import os, socket, time, urllib.parse
u = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
def talk(pieces):
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    for p in pieces:
        s.sendall(p)
        time.sleep(0.05)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    return got
pre = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
h2 = talk([pre[:3], pre[3:], b"\x00\x00\x04\x99garbage-garbage"])
types, i = [], 0
while i + 9 <= len(h2):
    types.append(h2[i + 3])
    i += 9 + int.from_bytes(h2[i:i + 3], "big")
goaway = types[:1] == [4] and 7 in types
h1 = talk([b"P", b"OST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
           b"Connection: close\r\n\r\n"])
print("%s %s" % ("goaway" if goaway else "no-goaway", h1.split(b"\r\n")[0].decode()))
PY
chmod +x "$SCRATCH/child.sh"

err=$SCRATCH/stderr.txt
DEBUG_FILES+=("$err" "$SCRATCH/statuses.txt" "$PROJ/.ccrun/ccrun.log")
rc=0
J2=$DATA/j2-grpc-h2c S=$SCRATCH timeout -k 5 60 "$CCRUN" -C "$PROJ" -- "$SCRATCH/child.sh" \
	2>"$err" </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "ccrun -- child.sh exited $rc"

# Each call's status: 0 for the exports, then 16, 12, 3, 12 and 8.
expect() {
	local got
	got=$(sed -n "s/^$1 //p" "$SCRATCH/statuses.txt")
	[ "$got" = "$2" ] || fail "$1: grpc-status '$got', expected $2"
}
expect plain-logs 0
expect plain-metrics 0
expect gzip-logs 0
expect gzip-metrics 0
expect no-token 16
expect unknown-method 12
expect truncated 3
expect unknown-encoding 12
expect bomb 8
expect huge 8
expect raw "goaway HTTP/1.1 401 Unauthorized"

# The same export twice (plain and gzip) is stored once: j2's figures exactly.
last=$SCRATCH/last.json
DEBUG_FILES+=("$last")
"$CCRUN" last --json --dir "$PROJ" >"$last" || fail "ccrun last --json failed"
python3 - "$last" "$DATA/j2-grpc-h2c/expected.json" <<'PY' || fail "the record differs from j2's expected.json"
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t = want["api_request_totals"]
assert abs(got["cost_usd"] - t["cost_usd"]) < 1e-9, (got["cost_usd"], t["cost_usd"])
for k in ("input", "output", "cache_read", "cache_creation"):
    assert got["tokens"][k] == t[k], (k, got["tokens"][k], t[k])
assert got["events"] == sum(want["event_counts"].values()), got["events"]
assert got["metric_points"] == sum(s["npoints"] for m in want["metrics"].values() for s in m)
assert got["sessions"] == want["session_ids"], got["sessions"]
assert got["api_requests"] == want["event_counts"]["api_request"]
PY
