#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, made from the fixtures.

    fuzz-seeds.py DATA_DIR OUT_DIR [OTLP_TO_JSON]

OUT_DIR/fuzz-otlp/ gets every protobuf body behind a byte naming its signal;
OUT_DIR/fuzz-http/ gets whole HTTP requests carrying those bodies (plain,
chunked, two on one connection, cut into small writes) and a few that must
be refused. "@TOKEN@" stands for the receiver's token.
OUT_DIR/fuzz-json/ gets the JSON captures, the protobuf ones turned into
OTLP/JSON by the OTLP_TO_JSON program when it is given, and edge cases;
OUT_DIR/fuzz-gzip/ the captures compressed, and damaged or hostile gzip;
OUT_DIR/fuzz-config/ configuration files, environments, --settings and
flags. The first byte of each seed is the target's selector. Seeds too slow
to fuzz from (a gzip bomb past the 32 MiB cap) go to OUT_DIR/slow/TARGET/,
which is only replayed.
"""
import glob
import gzip
import os
import struct
import subprocess
import sys
import zlib

SIGNALS = {"logs": 0, "metrics": 1, "traces": 2}
HERE = os.path.dirname(os.path.abspath(__file__))


def signal_of(path):
    for name in SIGNALS:
        if "-%s." % name in os.path.basename(path):
            return name
    return None


def request(signal, body, chunked=False, token="@TOKEN@", extra=b"",
            content_type="application/x-protobuf"):
    head = ("POST /v1/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: %s\r\n" % (signal, token, content_type)).encode()
    if chunked:
        out = head + b"Transfer-Encoding: chunked\r\n" + extra + b"\r\n"
        for i in range(0, len(body), 500):
            part = body[i:i + 500]
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        return out + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body


def write(directory, name, blob):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(blob)


def captures(data):
    """Every request body of the fixtures: (name, signal, bytes, is_json, is_gzip)."""
    for path in sorted(glob.glob(os.path.join(data, "*", "*"))):
        base = os.path.basename(path)
        if base in ("expected.json", "result.json") or signal_of(path) is None:
            continue
        kind = base.split(".", 1)[1]
        if kind not in ("pb", "json", "pb.gz", "json.gz"):
            continue
        name = "%s-%s" % (os.path.basename(os.path.dirname(path)), base)
        yield name, signal_of(path), open(path, "rb").read(), "json" in kind, kind.endswith("gz")


def log_record(fields):
    return ('{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":'
            '{"stringValue":"claude-code"}}]},"scopeLogs":[{"logRecords":[{%s}]}]}]}' % fields)


def attribute(value):
    return log_record('"attributes":[{"key":"k","value":%s}]' % value)


def point(value):
    return ('{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"claude_code.token.usage",'
            '"sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{%s}]}}]}]}]}'
            % value)


def span(fields):
    return '{"resourceSpans":[{"scopeSpans":[{"spans":[{%s}]}]}]}' % fields


def nested(levels):
    value = '{"stringValue":"bottom"}'
    for _ in range(levels):
        value = '{"arrayValue":{"values":[%s]}}' % value
    return attribute(value)


JSON_EDGES = {
    # Logs (selector 0 and, for the privacy modes, 0 + 3 * prompts + 9 * details).
    "empty-object": (0, "{}"),
    "empty-body": (0, ""),
    "not-an-object": (0, "[]"),
    "null": (0, "null"),
    "truncated": (0, log_record('"body":{"stringValue":"x"}')[:-7]),
    "deep-anyvalue-20": (0, nested(20)),
    "deep-anyvalue-21": (0, nested(21)),
    "deep-anyvalue-40": (0, nested(40)),
    "deep-arrays": (0, "[" * 300 + "]" * 300),
    "deep-objects": (0, '{"a":' * 200 + "1" + "}" * 200),
    "many-values": (0, "[" + ",".join(["0"] * 5000) + "]"),
    "kvlist": (0, attribute('{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}},'
                            '{"key":"a","value":{"doubleValue":"NaN"}}]}}')),
    "int-max-string": (0, attribute('{"intValue":"9223372036854775807"}')),
    "int-min-string": (0, attribute('{"intValue":"-9223372036854775808"}')),
    "int-over-string": (0, attribute('{"intValue":"9223372036854775808"}')),
    "int-max-number": (0, attribute('{"intValue":9223372036854775807}')),
    "int-over-number": (0, attribute('{"intValue":9223372036854775808}')),
    "int-real": (0, attribute('{"intValue":1e3}')),
    "int-fraction": (0, attribute('{"intValue":1.5}')),
    "int-huge-real": (0, attribute('{"intValue":1e300}')),
    "int-spaces": (0, attribute('{"intValue":" 12"}')),
    "int-plus": (0, attribute('{"intValue":"+12"}')),
    "int-hex": (0, attribute('{"intValue":"0x10"}')),
    "double-nan": (0, attribute('{"doubleValue":"NaN"}')),
    "double-inf": (0, attribute('{"doubleValue":"Infinity"}')),
    "double-minus-inf": (0, attribute('{"doubleValue":"-Infinity"}')),
    "double-lower-nan": (0, attribute('{"doubleValue":"nan"}')),
    "double-inf-short": (0, attribute('{"doubleValue":"inf"}')),
    "double-overflow": (0, attribute('{"doubleValue":"1e999"}')),
    "double-big": (0, attribute('{"doubleValue":1.7976931348623157e308}')),
    "double-minus-zero": (0, attribute('{"doubleValue":-0.0}')),
    "double-string": (0, attribute('{"doubleValue":"0.25"}')),
    "bytes-base64": (0, attribute('{"bytesValue":"aGVsbG8="}')),
    "bytes-urlsafe": (0, attribute('{"bytesValue":"_-_-"}')),
    "bytes-twice": (0, attribute('{"bytesValue":"aGVsbG8=","bytes_value":1}')),
    "string-twice": (0, attribute('{"stringValue":"a","string_value":"b"}')),
    "oneof-two": (0, attribute('{"stringValue":"a","intValue":"1"}')),
    "utf8-escapes": (0, attribute('{"stringValue":"caf\\u00e9 \\ud83d\\ude00"}')),
    "utf8-lone-surrogate": (0, attribute('{"stringValue":"\\ud800"}')),
    "utf8-nul-escape": (0, attribute('{"stringValue":"a\\u0000b"}')),
    "utf8-invalid": (0, attribute('{"stringValue":"\xff\xfe"}')),
    "utf8-overlong": (0, attribute('{"stringValue":"\xc0\xaf"}')),
    "utf8-key-invalid": (0, attribute('{"stringValue":"x"}').replace('"k"', '"k\xed\xa0\x80"')),
    "severity-names": (0, log_record('"severityNumber":"SEVERITY_NUMBER_INFO2",'
                                     '"severityText":"INFO"')),
    "severity-fatal4": (0, log_record('"severity_number":"SEVERITY_NUMBER_FATAL4"')),
    "severity-bad": (0, log_record('"severityNumber":"SEVERITY_NUMBER_WARN5"')),
    "severity-range": (0, log_record('"severityNumber":2147483648')),
    "times": (0, log_record('"timeUnixNano":"18446744073709551615",'
                            '"observedTimeUnixNano":18446744073709551615')),
    "time-negative": (0, log_record('"timeUnixNano":"-1"')),
    "time-over": (0, log_record('"timeUnixNano":"18446744073709551616"')),
    "nulls": (0, '{"resourceLogs":[{"resource":null,"scopeLogs":null}]}'),
    "null-in-array": (0, '{"resourceLogs":[null]}'),
    "wrong-types": (0, '{"resourceLogs":{"scopeLogs":"x"}}'),
    "snake-case": (0, '{"resource_logs":[{"scope_logs":[{"log_records":[{"event_name":"x",'
                      '"body":{"string_value":"y"}}]}]}]}'),
    "repeated-twice": (0, '{"resourceLogs":[],"resource_logs":[]}'),
    "api-request-event": (4, log_record(
        '"attributes":[{"key":"event.name","value":{"stringValue":"api_request"}},'
        '{"key":"session.id","value":{"stringValue":"s1"}},'
        '{"key":"model","value":{"stringValue":"glm-4.7"}},'
        '{"key":"cost_usd","value":{"doubleValue":"Infinity"}},'
        '{"key":"input_tokens","value":{"stringValue":"18446744073709551615"}},'
        '{"key":"output_tokens","value":{"intValue":"-5"}},'
        '{"key":"duration_ms","value":{"stringValue":"1e400"}}]')),
    "user-prompt-hashed": (3, log_record(
        '"attributes":[{"key":"event.name","value":{"stringValue":"user_prompt"}},'
        '{"key":"prompt","value":{"stringValue":"my key is sk-ant-api03-0123456789abcdef'
        '0123456789abcdef fuzz-token-0123456789abcdef"}}]')),
    "tool-result-dropped": (26, log_record(
        '"attributes":[{"key":"event.name","value":{"stringValue":"tool_result"}},'
        '{"key":"tool_name","value":{"stringValue":"Bash"}},'
        '{"key":"tool_parameters","value":{"stringValue":"{\\"command\\":\\"ls\\"}"}}]')),
    # Metrics.
    "sum-as-int": (1, point('"asInt":"42","timeUnixNano":"1"')),
    "sum-both-values": (1, point('"asInt":"42","asDouble":1')),
    "sum-nan": (1, point('"asDouble":"NaN"')),
    "temporality-name": (1, point('"asDouble":1').replace(
        '"aggregationTemporality":1', '"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA"')),
    "temporality-unknown": (1, point('"asDouble":1').replace(
        '"aggregationTemporality":1', '"aggregationTemporality":"AGGREGATION_TEMPORALITY_X"')),
    "gauge-and-sum": (1, '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m",'
                         '"gauge":{"dataPoints":[]},"sum":{"dataPoints":[]}}]}]}]}'),
    "histogram": (1, '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h",'
                     '"histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"3",'
                     '"sum":1.5,"flags":4294967295}]}}]}]}]}'),
    "flags-over": (1, point('"asDouble":1,"flags":4294967296')),
    # Traces.
    "span-ids-hex": (2, span('"traceId":"5b8efff798038103d269b633813fc60c",'
                             '"spanId":"eee19b7ec3c1b174","parentSpanId":"",'
                             '"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR",'
                             '"message":"boom"},"name":"claude_code.interaction"')),
    "span-ids-base64": (2, span('"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="')),
    "span-id-odd-hex": (2, span('"traceId":"abc"')),
    "span-id-twice": (2, span('"traceId":"5b8efff798038103d269b633813fc60c","trace_id":5')),
    "span-kind-number": (2, span('"kind":6,"status":{"code":7}')),
    "span-kind-bad": (2, span('"kind":"SPAN_KIND_NOPE"')),
}


def json_seeds(data, out, converter):
    directory = os.path.join(out, "fuzz-json")
    for name, signal, body, is_json, is_gzip in captures(data):
        if is_gzip:
            body = gzip.decompress(body)
        if not is_json and converter is not None:
            body = subprocess.run([converter, signal, "-"], input=body, stdout=subprocess.PIPE,
                                  check=True).stdout
            is_json = True
        if is_json:
            write(directory, name, bytes([SIGNALS[signal]]) + body)
    for name, (selector, text) in JSON_EDGES.items():
        # Latin-1 keeps the invalid UTF-8 of some edge cases as the bytes written.
        write(directory, name, bytes([selector]) + text.encode("latin-1"))


def gzip_member(body, flags=0, extra=b"", fname=b"", comment=b"", header_crc=None,
                crc=None, size=None, level=6, method=8):
    """A gzip member built by hand, so that every header field can be set or spoiled."""
    head = struct.pack("<BBBBIBB", 0x1F, 0x8B, method, flags, 0, 0, 3)
    if flags & 4:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        head += fname + b"\0"
    if flags & 16:
        head += comment + b"\0"
    if flags & 2:
        head += struct.pack("<H", (zlib.crc32(head) & 0xFFFF) if header_crc is None
                            else header_crc)
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = deflate.compress(body) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(body) if crc is None else crc,
                          (len(body) if size is None else size) & 0xFFFFFFFF)
    return head + data + trailer


# The selector: cap index (the table in fuzz-gzip.c) | ingest mode << 4 | signal << 6.
CAP_MAX = 14
CAP_4095, CAP_4096, CAP_65536 = 5, 6, 8


def gzip_seeds(data, out):
    directory = os.path.join(out, "fuzz-gzip")
    for name, signal, body, is_json, is_gzip in captures(data):
        mode = 2 if is_json else 1
        selector = bytes([CAP_MAX | mode << 4 | SIGNALS[signal] << 6])
        packed = body if is_gzip else gzip.compress(body)
        write(directory, name, selector + packed)
        if not is_gzip:
            write(directory, "spelled-" + name, bytes([selector[0] | 3 << 4]) + packed)
    text = b"The quick brown fox jumps over the lazy dog. " * 100
    one = gzip_member(text)
    edges = {
        "two-members": (CAP_65536, one + gzip_member(b"second")),
        "empty-member": (CAP_65536, gzip_member(b"")),
        "empty-then-more": (CAP_65536, gzip_member(b"") + one),
        "trailing-garbage": (CAP_65536, one + b"garbage"),
        "trailing-zeros": (CAP_65536, one + b"\0" * 8),
        "trailing-magic": (CAP_65536, one + b"\x1f\x8b"),
        "truncated-header": (CAP_65536, one[:5]),
        "truncated-data": (CAP_65536, one[:len(one) // 2]),
        "truncated-trailer": (CAP_65536, one[:-3]),
        "bad-crc": (CAP_65536, gzip_member(text, crc=1)),
        "bad-size": (CAP_65536, gzip_member(text, size=1)),
        "size-mod-2-32": (CAP_65536, gzip_member(b"x", size=1 + (1 << 32))),
        "all-header-fields": (CAP_65536, gzip_member(text, flags=2 | 4 | 8 | 16, extra=b"ab\2\0xy",
                                                     fname=b"name", comment=b"comment")),
        "bad-header-crc": (CAP_65536, gzip_member(text, flags=2, header_crc=0)),
        "extra-too-long": (CAP_65536, gzip_member(b"", flags=4, extra=b"x")[:12] + b"\xff\xff"),
        "name-unterminated": (CAP_65536, gzip_member(b"", flags=8, fname=b"abc")[:13]),
        "reserved-flag": (CAP_65536, gzip_member(text, flags=0x20)),
        "not-deflate": (CAP_65536, gzip_member(text, method=7)),
        "zlib-not-gzip": (CAP_65536, zlib.compress(text)),
        "raw-deflate": (CAP_65536, one[10:-8]),
        "stored-blocks": (CAP_65536, gzip_member(bytes(i * 7919 % 251 for i in range(30000)),
                                                 level=0)),
        "exactly-cap": (CAP_4096, gzip_member(b"a" * 4096)),
        "one-over-cap": (CAP_4095, gzip_member(b"a" * 4096)),
        "over-cap-then-bad": (CAP_4095, gzip_member(b"a" * 4096, crc=0)),
        "cap-zero": (0, gzip_member(b"")),
        "cap-zero-one-byte": (0, gzip_member(b"a")),
        "bomb-small-cap": (CAP_65536, gzip_member(b"\0" * (1 << 20), level=9)),
        "bomb-many-members": (CAP_65536, gzip_member(b"\0" * 60000, level=9) * 3),
        "empty": (CAP_65536 | 1 << 4, b""),
    }
    for name, (selector, blob) in edges.items():
        write(directory, name, bytes([selector]) + blob)
    # Past CCR_MAX_INFLATED (32 MiB), through ingest too: refused with 413. At about
    # a second a run under ASan it would slow fuzzing a hundredfold, so it is only
    # replayed.
    bomb = gzip_member(b"\0" * (33 << 20), level=9)
    write(os.path.join(out, "slow", "fuzz-gzip"), "bomb-max", bytes([CAP_MAX | 1 << 4]) + bomb)


CONFIG_EDGES = {
    "readme-example": (0, b"[privacy]\nprompts = hash          ; keep | hash | drop\n"
                          b"tool_details = drop\n\n[budget]\nrun = 0.50\nday = $5\nhard = yes\n\n"
                          b"[status]\nline = yes\n\n[price glm-4.7]\ninput = 0.60\n"
                          b"output = 2.20\n\n[forward]\nendpoint = https://otel.example:4318\n"
                          b"headers = x-api-key=abc%20def,tenant=t1\ncompression = gzip\n"
                          b"timeout = 5000\ndeadline = 100\nqueue_mib = 4\n"),
    "price-all-keys": (0, b"[price glm-*]\ninput = 1\noutput = 2\ncache_read = 0.1\n"
                          b"cache_write = 0\nlong_threshold = 200000\nlong_input = 2\n"
                          b"long_output = 4\nlong_cache_read = 0.2\nlong_cache_write = 0\n"
                          b"source = somewhere\ntaken = today\n[price glm-*]\ninput = 3\n"),
    "price-bad": (0, b"[price a]\ninput = -1\noutput = 1\n[price b]\ninput = nan\n"
                     b"[price c]\ninput = 1e999\n[price d]\nlong_threshold = 1.5\n"
                     b"[price e]\nlong_threshold = 1e13\n[price f]\nnope = 1\n"),
    "price-interleaved": (0, b"[price a]\ninput = 1\n[price b]\ninput = 2\n[price a]\n"
                             b"output = 3\n[price ]\ninput = 1\n"),
    "syntax": (0, b"\xef\xbb\xbf[privacy\nprompts\n= x\n  continued\n[]\n# comment\n;c\n"
                  b"[status]\nline : no\n"),
    "long-line": (0, b"[forward]\nheaders = " + b"a=b," * 400 + b"\n"),
    "forward-per-signal": (0, b"[forward]\nlogs_endpoint = http://l:1/x\n"
                              b"metrics_endpoint = ftp://m\ntraces_protocol = grpc\n"
                              b"logs_headers = bad name=1,ok=v%0d%0aX: y\n"
                              b"metrics_timeout = -5\nunknown_key = 1\ndeadline = 99999999\n"
                              b"queue_mib = 17592186044416\n"),
    "budget-bad": (0, b"[budget]\nrun = -1\nday = inf\nhard = maybe\n"),
    "budget-huge": (0, b"[budget]\nrun = 1e300\nday = 1e-300\n"),
    "env-basic": (1, b"OTEL_EXPORTER_OTLP_ENDPOINT=https://user:pw@otel.example:4318/base/\n"
                     b"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20x,%41b=%zz%4,=v,k\n"
                     b"OTEL_EXPORTER_OTLP_PROTOCOL=http/json\n"
                     b"OTEL_EXPORTER_OTLP_COMPRESSION=GZIP\nOTEL_EXPORTER_OTLP_TIMEOUT=0\n"),
    "env-per-signal": (1, b"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://l/v1/logs\n"
                          b"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc\n"
                          b"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m\n"
                          b"OTEL_EXPORTER_OTLP_TRACES_HEADERS=a=%0a\nOTEL_TRACES_EXPORTER=none\n"
                          b"OTEL_SDK_DISABLED=false\n"),
    "env-disabled": (1, b"OTEL_SDK_DISABLED=TRUE\nOTEL_EXPORTER_OTLP_ENDPOINT=http://x\n"),
    "env-bad-url": (1, b"OTEL_EXPORTER_OTLP_ENDPOINT=file:///etc/passwd\n"),
    "flag-url": (1, b"--forward=http://127.0.0.1:4318///\n--forward-deadline=3600000\n"
                    b"OTEL_EXPORTER_OTLP_HEADERS=x=1\n"),
    "flag-deadline-bad": (1, b"--forward=http://x\n--forward-deadline=-1\n"),
    "pairs": (1, b"X=%%, %2C=%3D ,  spaced key  =  spaced value  ,,=,%00=%00,a=b=c\n"),
    "settings-inline": (2, b'{"env":{"A":"1","OTEL_EXPORTER_OTLP_ENDPOINT":"http://evil"},'
                           b'"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]},'
                           b'"statusLine":{"type":"command","command":"my-line"},"model":"m"}'),
    "settings-file": (2, b'  {"permissions":{"allow":["Bash"]},"statusLine":"not an object"}'),
    "settings-two": (2, b'{"env":{"A":"1"},"hooks":{"Stop":"x"}}\0{"env":{"B":"2"},'
                        b'"hooks":{"PostToolUse":[1,2]}}\0-p\0hello'),
    "settings-unreadable": (2, b'{"a":1}\0[1,2]'),
    "settings-after-dashes": (2, b"--\0" + b'{"a":1}'),
    "settings-flag-last": (2, b"-p\0--settings"),
    "settings-equals-file": (2, b'--settings={"hooks":[]}\0--settings=  {"env":5}\0'
                                b'--settings=not json'),
    "settings-deep": (2, b'{"x":' + b"[" * 3000 + b"]" * 3000 + b"}"),
    "settings-version": (2, b"--version"),
    "flag-price": (3, b"glm-4.7=0.60/2.20/0.11/0"),
    "flag-price-glob": (3, b"glm-*=1/2"),
    "flag-price-bad": (3, b"=1/2"),
    "flag-price-five": (3, b"m=1/2/3/4/5"),
    "flag-price-empty-figure": (3, b"m=1//2"),
    "flag-budget": (3, b"$0.50"),
    "flag-budget-hex": (3, b"0x1p-3"),
    "flag-mode": (3, b"hash"),
}


def config_seeds(out):
    directory = os.path.join(out, "fuzz-config")
    prices = os.path.join(HERE, "..", "data", "prices.ini")
    write(directory, "builtin-prices", b"\0" + open(prices, "rb").read())
    for name, (selector, blob) in CONFIG_EDGES.items():
        write(directory, name, bytes([selector]) + blob)


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
    # The JSON and gzip captures as they were sent.
    for name, signal, body, is_json, is_gzip in captures(data):
        if is_json or is_gzip:
            blob = request(signal, body, content_type="application/json" if is_json
                           else "application/x-protobuf",
                           extra=b"Content-Encoding: gzip\r\n" if is_gzip else b"")
            write(http_dir, "as-sent-" + name, b"\0" + blob)
    json_seeds(data, out, sys.argv[3] if len(sys.argv) > 3 else None)
    gzip_seeds(data, out)
    config_seeds(out)


if __name__ == "__main__":
    main()
