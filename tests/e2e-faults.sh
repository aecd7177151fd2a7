#!/usr/bin/env bash
# ccrun under faults: eight ccruns writing one history at once, ccrun killed
# with SIGKILL mid-run, hostile peers on the receiver, and storage that is
# full, read-only, locked or from a newer ccrun. Needs CCRUN, CCR_TEST_DATA
# and OTLP_LOAD (the tests' load generator).
. "$(dirname "$0")/lib.sh"
: "${CCRUN:?set CCRUN to the ccrun binary}"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"
: "${OTLP_LOAD:?set OTLP_LOAD to the otlp-load program}"

SCRATCH=$(mktemp -d /tmp/ccrun-e2e-faults.XXXXXX)
chmod 755 "$SCRATCH"
cd "$SCRATCH"

# rows RUN_ID: the events and metric points stored for a run.
rows() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM events WHERE run_id = $2) +
		(SELECT count(*) FROM metric_points WHERE run_id = $2)"
}

# A child that posts every fixture ROUNDS times whatever the answers, reports
# the statuses it got on stdout and exits 7 (also when ccrun is not recording).
cat > post-all.py <<'PY'
import glob, http.client, os, sys, urllib.parse
if "OTEL_EXPORTER_OTLP_ENDPOINT" not in os.environ:
    print("child ran: without telemetry")
    sys.exit(7)
u = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
auth = os.environ["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
statuses = {}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
for _ in range(int(sys.argv[2])):
    for path in sorted(glob.glob(sys.argv[1] + "/*/*.pb")):
        name = os.path.basename(path)
        sig = "logs" if "-logs" in name else "traces" if "-traces" in name else "metrics"
        conn.request("POST", "/v1/" + sig, body=open(path, "rb").read(),
                     headers={"Authorization": auth, "Content-Type": "application/x-protobuf"})
        r = conn.getresponse()
        r.read()
        statuses[r.status] = statuses.get(r.status, 0) + 1
print("child ran:", " ".join("%d=%d" % kv for kv in sorted(statuses.items())))
sys.exit(7)
PY

# storage_case NAME DIR [RUNNER...]: ccrun runs the posting child against the
# history in DIR; the child must run and exit 7, and ccrun must say why it
# could not record everything.
storage_case() {
	local name=$1 dir=$2 st
	shift 2
	set +e
	"$@" "$CCRUN" -C "$dir" -- python3 "$SCRATCH/post-all.py" "$CCR_TEST_DATA" 10 \
		> "$name.out" 2> "$name.err"
	st=$?
	set -e
	DEBUG_FILES+=("$SCRATCH/$name.err")
	[ "$st" = 7 ] || fail "$name: exit status $st, wanted the child's 7"
	grep -q '^child ran:' "$name.out" || fail "$name: the child did not run"
	grep -q '^ccrun: .*\(not recording\|cannot\|could not be stored\)' "$name.err" || fail "$name: no warning"
	if grep -q 'database is locked' "$name.err"; then
		fail "$name: SQLite's message reached the user"
	fi
	note "$name: child ran ($(cut -d: -f2 "$name.out")), ccrun warned: $(grep -m1 '^ccrun: ' "$name.err")"
}

note "8 ccruns in one repository at once, each posting thousands of records"
mkdir conc && git -C conc init -q
pids=()
for i in 1 2 3 4 5 6 7 8; do
	(cd conc && exec "$CCRUN" -- "$OTLP_LOAD" "$CCR_TEST_DATA" "../load$i.out" 40 0 "../ack$i" \
		> "../conc$i.out" 2> "../conc$i.err") &
	pids+=($!)
done
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || fail "ccrun $i with the load generator failed: $(tail -3 conc$i.err)"
done
db=conc/.ccrun/history.db
[ "$(sqlite3 $db 'PRAGMA integrity_check')" = ok ] || fail "integrity check after concurrent runs"
for i in 1 2 3 4 5 6 7 8; do
	grep -q 'database is locked\|cannot' "conc$i.err" && fail "ccrun $i: $(grep -m1 'locked\|cannot' conc$i.err)"
	run=$(sed -n 's/.* · run \([0-9]*\).*/\1/p' "conc$i.err")
	acked=$(awk '{s += $1} END {print s}' "ack$i")
	[ "$acked" -ge 7000 ] || fail "ccrun $i: only $acked records acknowledged"
	[ "$(rows $db "$run")" = "$acked" ] || fail "run $run: $(rows $db "$run") rows for $acked acknowledged"
	grep -m1 '^  cost' "conc$i.err" > "cost$i"
	cmp -s cost1 "cost$i" || fail "summary $i counts other runs: $(cat cost$i) vs $(cat cost1)"
done
note "every acknowledged record stored, each summary its own: $(cat cost1)"

note "SIGKILL to ccrun in the middle of a run"
mkdir killed && git -C killed init -q
(cd killed && exec "$CCRUN" -q -- "$OTLP_LOAD" "$CCR_TEST_DATA" ../kill.out 400 0 ../kill.ack) \
	2> kill.err &
pid=$!
track_pid $pid
wait_for -t 120 sh -c '[ "$(wc -l < kill.ack 2> /dev/null || echo 0)" -ge 300 ]' ||
	fail "the load generator never got 300 answers"
kill -9 $pid
wait $pid 2> /dev/null || true
db=killed/.ccrun/history.db
[ "$(sqlite3 $db 'PRAGMA integrity_check')" = ok ] || fail "integrity check after SIGKILL"
acked=$(awk '{s += $1} END {print s}' kill.ack)
stored=$(rows $db 1)
[ "$stored" -ge "$acked" ] || fail "after SIGKILL: $stored rows stored, $acked acknowledged"
"$CCRUN" last --dir killed --json > killed.json || fail "ccrun last after SIGKILL"
[ "$(json_get killed.json 'd["run_id"]')" = 1 ] || fail "ccrun last does not show the killed run"
(cd killed && "$CCRUN" -q -- sh -c 'exit 3') && fail "next run's status lost"
"$CCRUN" last --dir killed --json > next.json
[ "$(json_get next.json 'd["run_id"], d["exit_code"]')" = "[2, 3]" ] || fail "the run after SIGKILL: $(cat next.json)"
note "killed with $acked records acknowledged, $stored stored; history intact, next run recorded"

note "a command killed by a signal is recorded with ccrun's status, 128+N"
"$CCRUN" -q -C killed -- sh -c 'kill -TERM $$' && fail "SIGTERM'd command exited 0"
"$CCRUN" last --dir killed --json > term.json
[ "$(json_get term.json 'd["exit_code"], d["signal"]')" = "[143, 15]" ] ||
	fail "killed command recorded as $(json_get term.json 'd["exit_code"], d["signal"]')"

note "every exit status 0-255 and the common signals pass through"
for code in $(seq 0 255); do
	set +e
	"$CCRUN" -q -C killed -- sh -c "exit $code"
	st=$?
	set -e
	[ "$st" = "$code" ] || fail "exit $code came back as $st"
done
for sig in HUP INT QUIT ABRT KILL USR1 SEGV USR2 PIPE ALRM TERM; do
	num=$(kill -l "$sig")
	set +e
	"$CCRUN" -q -C killed -- sh -c "kill -$sig \$\$"
	st=$?
	set -e
	[ "$st" = $((128 + num)) ] || fail "SIG$sig came back as $st"
done
"$CCRUN" last --dir killed --json > sig.json
[ "$(json_get sig.json 'd["exit_code"], d["signal"]')" = "[143, 15]" ] || fail "the last signal run: $(cat sig.json)"

note "hostile peers on the receiver"
mkdir hostile
# Memory stays under 24 MiB; under AddressSanitizer (whose quarantine is cut
# down here) the same bound, relaxed for the sanitizer's own memory. grep reads
# all of ldd's output: with -q it could stop early, and ldd's SIGPIPE would then
# fail the pipeline under pipefail, now and then.
if ldd "$CCRUN" | grep libasan > /dev/null; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
	export CCR_MAX_RSS_KIB=$((64 * 1024))
fi
# Room for 10,000 idle connections where the hard limit allows it.
ulimit -n "$(ulimit -Hn | sed 's/unlimited/20000/' | awk '{print ($1 > 20000) ? 20000 : $1}')"
for attack in garbage big-body header-flood pipelined slowloris no-read idle; do
	"$CCRUN" -q -C hostile -- python3 "$TESTS_DIR/hostile-peer.py" \
		"$CCR_TEST_DATA/c-multi-tool/01-logs.pb" "$attack" > "hostile-$attack.out" 2>&1 ||
		{ cat "hostile-$attack.out" >&2; fail "hostile peer: $attack"; }
	note "$(grep -m1 'ordinary export' "hostile-$attack.out")"
done

note "storage faults"
# The disk full: a small tmpfs where mounting works, and a file size limit always.
mkdir -p full
if mount -t tmpfs -o size=300k tmpfs full 2> /dev/null; then
	on_cleanup umount "$SCRATCH/full"
	storage_case disk-full full
else
	note "no tmpfs here (mount refused); the file size limit stands in for a full disk"
fi
limit_files() { (ulimit -f 200 && exec "$@"); }
mkdir -p fsize
storage_case file-size-limit fsize limit_files

# Read-only: as root permissions do not apply, so ccrun runs as nobody there.
mkdir -p ro
"$CCRUN" -q -C ro -- true
chmod 0444 ro/.ccrun/history.db*
if [ "$(id -u)" = 0 ]; then
	chown -R nobody ro/.ccrun
	chown root ro/.ccrun/history.db*
	storage_case read-only ro setpriv --reuid=nobody --regid=nogroup --clear-groups
else
	storage_case read-only ro
fi

# Locked by another process for three seconds, from before ccrun starts.
mkdir -p locked
"$CCRUN" -q -C locked -- true
python3 - locked/.ccrun/history.db <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".held", "w").close()
time.sleep(3)
db.execute("COMMIT")
PY
track_pid $!
wait_for -t 10 test -f locked/.ccrun/history.db.held || fail "the lock holder did not start"
storage_case locked locked

# A history written by a newer ccrun.
mkdir -p newer
"$CCRUN" -q -C newer -- true
sqlite3 newer/.ccrun/history.db 'PRAGMA user_version = 999'
storage_case newer-schema newer
grep -q 'newer ccrun' newer-schema.err || fail "no word of the newer schema: $(cat newer-schema.err)"
[ "$(sqlite3 newer/.ccrun/history.db 'PRAGMA user_version')" = 999 ] || fail "the newer history was changed"
