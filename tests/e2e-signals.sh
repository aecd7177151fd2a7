#!/usr/bin/env bash
# ccrun with the terminal and job control, each case in a detached tmux pane
# on a private socket where it needs a terminal: Ctrl-Z and fg; SIGTSTP and
# SIGCONT sent to ccrun alone, also in an orphaned process group; SIGTERM
# for a command stopped on its own; window resizes; the terminal closing,
# under an interactive shell and with ccrun as the session leader, for a
# command that dies of SIGHUP and one that ignores it; signals that come
# while ccrun finishes its record; terminal modes; and the real Claude Code,
# stopped and continued, then ending after a prompt on C-c C-c, SIGTERM,
# SIGHUP and a closed terminal, and in print mode on C-c, with what it
# flushed on the way out recorded and timed.
#
#     CCRUN=build/ccrun tests/e2e-signals.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is required"
command -v sqlite3 >/dev/null || fail "sqlite3 is required"
: "${CCR_TEST_DATA:?set CCR_TEST_DATA to tests/data}"

e2e_setup
DB=$REPO/.ccrun/history.db
DEBUG_FILES+=("$REPO/.ccrun/ccrun.log")

# What every pane starts from: the test environment, written out (a tmux
# server may hand panes an environment of its own), ccrun's log at debug
# level (it times the exports' arrivals), a prompt to wait for, and the
# repository as the working directory.
{
	for v in HOME PATH LANG ANTHROPIC_API_KEY CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC \
		XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo 'export TERM=xterm-256color CCRUN_LOG=debug'
	echo "PS1='ready\$ '"
	printf 'cd %q || exit 1\n' "$REPO"
} >"$SCRATCH/rc.sh"

# tick.sh DIR N STATUS [nohup]: writes its pid to DIR/child.pid, then 1..N
# to DIR/count, one every 100 ms, and exits STATUS; with nohup it ignores
# SIGHUP (and so do the sleeps it starts).
cat >"$SCRATCH/tick.sh" <<'EOF'
if [ "${4:-}" = nohup ]; then
	trap '' HUP
fi
echo $$ >"$1/child.pid.tmp" && mv "$1/child.pid.tmp" "$1/child.pid"
i=0
while [ "$i" -lt "$2" ]; do
	i=$((i + 1))
	echo "$i" >"$1/count.tmp" && mv "$1/count.tmp" "$1/count"
	sleep 0.1
done
exit "$3"
EOF

tmux_() {
	tmux -S "$SCRATCH/tmux.sock" -f /dev/null "$@"
}
on_cleanup tmux -S "$SCRATCH/tmux.sock" kill-server

# screen_has PANE TEXT: the visible pane contains TEXT (also saved for debugging).
screen_has() {
	local screen=$SCRATCH/screen-$1.txt
	tmux_ capture-pane -p -t "$1" >"$screen.new" 2>/dev/null || return 1
	mv "$screen.new" "$screen"
	grep -qF -- "$2" "$screen"
}

# shell_pane NAME: a new session NAME running an interactive bash, with job
# control, waiting at its prompt.
shell_pane() {
	DEBUG_FILES+=("$SCRATCH/screen-$1.txt")
	tmux_ new-session -d -s "$1" -x 100 -y 30 \
		"exec bash --noprofile --rcfile $SCRATCH/rc.sh -i"
	wait_for -t 20 screen_has "$1" 'ready$' || fail "$1: the shell's prompt did not appear"
}

# type_line PANE TEXT: types TEXT and Enter into PANE.
type_line() {
	tmux_ send-keys -t "$1" -l "$2"
	tmux_ send-keys -t "$1" Enter
}

# state PID: the process's state letter (R, S, T, Z, ...); nothing once it is gone.
state() {
	sed -n 's/.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true
}

# ppid_of PID: the parent of process PID.
ppid_of() {
	sed -n 's/.*) [A-Za-z] \([0-9]*\) .*/\1/p' "/proc/$1/stat"
}

# children_of PID: the process's children, one line each.
children_of() {
	tr ' ' '\n' <"/proc/$1/task/$1/children" | sed '/^$/d'
}

# has_child PID: process PID has started a child.
has_child() {
	[ -n "$(children_of "$1")" ]
}

# stopped PID...: every process is stopped (by a signal).
stopped() {
	local pid
	for pid in "$@"; do
		held "$pid" || return 1
	done
}

# held PID: stopped (T), or in uninterruptible wait (D) for a child that is
# stopped: dash starts a command with vfork, and a stop that lands before the
# child's exec leaves the shell waiting on it.
held() {
	local c
	case $(state "$1") in
	T) return 0 ;;
	D)
		for c in $(pgrep -P "$1"); do
			[ "$(state "$c")" = T ] && return 0
		done
		;;
	esac
	return 1
}

# running PID...: no process is stopped, none has ended.
running() {
	local pid s
	for pid in "$@"; do
		s=$(state "$pid")
		case $s in
		'' | T | t | Z | X) return 1 ;;
		esac
	done
}

# gone PID: the process has ended (a zombie has ended too).
gone() {
	case $(state "$1") in
	'' | Z | X) return 0 ;;
	esac
	return 1
}

# now_ms: the clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# count DIR: the last tick the command wrote.
count() {
	cat "$1/count" 2>/dev/null || echo 0
}

# count_above DIR N: the command has ticked past N.
count_above() {
	[ "$(count "$1")" -gt "$2" ]
}

# stands_still DIR: the counter does not move in half a second. The wait is
# the point: it is long enough for five ticks.
stands_still() {
	local c
	c=$(count "$1")
	sleep 0.5
	[ "$(count "$1")" = "$c" ]
}

# kill_stray PID NAME: SIGKILL for process PID if it is still there and
# still named NAME; a failed case must not leave a stopped process behind,
# nor a ccrun waiting for one.
kill_stray() {
	if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; then
		kill -KILL "$1"
	fi
}

# start_ticking DIR: waits for the tick.sh writing to DIR to start; sets
# CHILD to its pid and WRAPPER to its parent's, which must be ccrun.
start_ticking() {
	wait_for -t 20 count_above "$1" 2 || fail "${1##*/}: the command did not start ticking"
	CHILD=$(cat "$1/child.pid")
	WRAPPER=$(ppid_of "$CHILD")
	on_cleanup kill_stray "$CHILD" sh
	on_cleanup kill_stray "$WRAPPER" ccrun
	[ "$(cat "/proc/$WRAPPER/comm")" = ccrun ] ||
		fail "${1##*/}: the command's parent is $(cat "/proc/$WRAPPER/comm"), not ccrun"
}

# Each case runs ccrun in a directory of its own with -C $REPO: the history
# is the repository's, and a run's cwd tells which case it belongs to. This
# is the command line typed into the panes' shells.
CCRUN_C="$(printf '%q -C %q' "$CCRUN" "$REPO")"

# last_run DIR: ccrun last --json into DIR/last.json, checked to be the run
# started in DIR.
last_run() {
	ccrun_last "$1/last.json"
	DEBUG_FILES+=("$1/last.json")
	json_check "$1/last.json" "d['cwd'] == '$1'" "${1##*/}: the last run is not this case's"
}

# integrity: the history passes SQLite's integrity check.
integrity() {
	local r
	r=$(sqlite3 "$DB" 'PRAGMA integrity_check') || fail "sqlite3 cannot read $DB"
	[ "$r" = ok ] || fail "the history fails its integrity check: $r"
}

# hangup_recorded SESSION DIR: closes the terminal of SESSION, whose command
# ticks in DIR; the command is gone within 1 s (gone_ms says when), ccrun
# within 10 s, and the run is recorded as ended by SIGHUP.
hangup_recorded() {
	start_ticking "$2"
	local t0
	t0=$(now_ms)
	tmux_ kill-session -t "$1"
	wait_for -t 1 gone "$CHILD" || fail "the command is still running 1 s after the terminal closed"
	gone_ms=$(($(now_ms) - t0))
	wait_for -t 10 gone "$WRAPPER" || fail "ccrun still runs 10 s after the terminal closed"
	last_run "$2"
	json_check "$2/last.json" 'd["exit_code"] == 129 and d["signal"] == 1' \
		"the run ended by the hangup is not recorded as exit 129, signal 1"
	integrity
}

#
# Job control.
#

note "Ctrl-Z stops ccrun and the command together, fg continues both"
d=$SCRATCH/ctrl-z
mkdir "$d"
shell_pane job
type_line job "cd $d"
type_line job "$CCRUN_C -- sh $SCRATCH/tick.sh $d 50 3 2>$d/err"
DEBUG_FILES+=("$d/err")
start_ticking "$d"
tmux_ send-keys -t job C-z
wait_for -t 10 stopped "$WRAPPER" "$CHILD" ||
	fail "after Ctrl-Z: ccrun is '$(state "$WRAPPER")', the command '$(state "$CHILD")', wanted T"
wait_for -t 10 screen_has job Stopped || fail "the shell does not show the job as stopped"
stands_still "$d" || fail "the command went on ticking while stopped"
at_stop=$(count "$d")
type_line job fg
wait_for -t 10 count_above "$d" "$at_stop" || fail "the command did not go on after fg"
running "$WRAPPER" || gone "$CHILD" || fail "after fg ccrun is '$(state "$WRAPPER")'"
wait_for -t 30 gone "$WRAPPER" || fail "ccrun did not exit after the command ended"
type_line job "echo \$? >$d/status"
wait_for -t 10 test -s "$d/status" || fail "the shell did not give ccrun's status"
[ "$(cat "$d/status")" = 3 ] || fail "ccrun exited $(cat "$d/status") after fg, not the command's 3"
grep -q 'exit 3 after' "$d/err" || fail "no summary on ccrun's stderr after fg"
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 3 and d["signal"] is None' \
	"the run stopped and continued is not recorded with exit 3"
note "stopped at tick $at_stop (both in state T, the job shown as Stopped), went on to" \
	"tick $(count "$d") after fg; ccrun exited 3 and recorded the run"

# A process group of its own in the test's session stands for a script
# started from an interactive shell: no job control inside, but not an
# orphaned group either, so SIGTSTP stops what it reaches.
note "SIGTSTP and SIGCONT to ccrun alone, outside a job-control shell, stop and continue both"
d=$SCRATCH/tstp
mkdir "$d"
(cd "$d" && exec python3 -c \
	'import os, sys; os.setpgid(0, 0); os.execvp(sys.argv[1], sys.argv[1:])' \
	"$CCRUN" -C "$REPO" -- sh "$SCRATCH/tick.sh" "$d" 50 4) 2>"$d/err" &
pid=$!
track_pid "$pid"
DEBUG_FILES+=("$d/err")
start_ticking "$d"
[ "$WRAPPER" = "$pid" ] || fail "the ticking command is not ccrun's child"
kill -TSTP "$WRAPPER"
wait_for -t 10 stopped "$WRAPPER" "$CHILD" ||
	fail "after SIGTSTP to ccrun: ccrun is '$(state "$WRAPPER")', the command" \
		"'$(state "$CHILD")', wanted both T"
stands_still "$d" || fail "the command went on ticking after SIGTSTP to ccrun"
at_stop=$(count "$d")
kill -CONT "$WRAPPER"
wait_for -t 10 count_above "$d" "$at_stop" ||
	fail "the command did not go on after SIGCONT to ccrun (it is '$(state "$CHILD")')"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 4 ] || fail "ccrun exited $rc after SIGTSTP and SIGCONT, not the command's 4"
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 4' "the run is not recorded with exit 4"
note "both stopped at tick $at_stop, both went on after SIGCONT; ccrun exited 4"

# Under setsid ccrun leads a new session: an orphaned process group, in
# which the kernel lets SIGTSTP stop nothing whose action is the default.
note "SIGTSTP to ccrun in an orphaned process group stops neither"
d=$SCRATCH/orphan
mkdir "$d"
(cd "$d" && exec setsid "$CCRUN" -C "$REPO" -- sh "$SCRATCH/tick.sh" "$d" 30 6) 2>"$d/err" &
pid=$!
track_pid "$pid"
DEBUG_FILES+=("$d/err")
start_ticking "$d"
kill -TSTP "$WRAPPER"
at_stop=$(count "$d")
wait_for -t 10 count_above "$d" $((at_stop + 3)) ||
	fail "after SIGTSTP in an orphaned group the command is '$(state "$CHILD")'"
running "$WRAPPER" || gone "$CHILD" || fail "after SIGTSTP in an orphaned group ccrun is" \
	"'$(state "$WRAPPER")'"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 6 ] || fail "ccrun exited $rc in an orphaned group, not the command's 6"
note "neither stopped; ccrun exited 6"

note "SIGTERM to ccrun reaches a command stopped on its own, and ccrun exits"
d=$SCRATCH/term-stopped
mkdir "$d"
(cd "$d" && exec "$CCRUN" -C "$REPO" -- sh "$SCRATCH/tick.sh" "$d" 600 0) 2>"$d/err" &
pid=$!
track_pid "$pid"
DEBUG_FILES+=("$d/err")
start_ticking "$d"
kill -STOP "$CHILD"
wait_for -t 10 stopped "$CHILD" || fail "SIGSTOP did not stop the command"
kill -TERM "$WRAPPER"
wait_for -t 10 gone "$WRAPPER" ||
	fail "ccrun still waits 10 s after SIGTERM (the command is '$(state "$CHILD")')"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 143 ] || fail "ccrun exited $rc after SIGTERM to the stopped command, not 143"
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 143 and d["signal"] == 15' \
	"the stopped command ended by SIGTERM is not recorded as exit 143, signal 15"
note "the stopped command got SIGTERM and SIGCONT and ended; ccrun exited 143"

#
# Window size.
#

note "a window resize reaches the command; ccrun says nothing and lives on"
d=$SCRATCH/winch
mkdir "$d"
cat >"$d/winch.sh" <<EOF
echo \$\$ >$d/child.pid
trap 'stty size >$d/size.tmp && mv $d/size.tmp $d/size' WINCH
stty size >$d/size.tmp && mv $d/size.tmp $d/size
while [ ! -e $d/stop ]; do
	sleep 0.1
done
EOF
# size_is ROWS COLS: the command's last record of the window size.
size_is() {
	[ "$(cat "$d/size" 2>/dev/null)" = "$1 $2" ]
}
shell_pane winch
type_line winch "cd $d"
type_line winch "$CCRUN_C -- sh $d/winch.sh 2>$d/err"
DEBUG_FILES+=("$d/err")
wait_for -t 20 size_is 30 100 || fail "the command did not see the 100x30 window: $(cat "$d/size")"
WRAPPER=$(ppid_of "$(cat "$d/child.pid")")
for size in 120x40 80x24 132x43; do
	tmux_ resize-window -t winch -x "${size%x*}" -y "${size#*x}"
	wait_for -t 10 size_is "${size#*x}" "${size%x*}" ||
		fail "the command did not see the window resized to $size: $(cat "$d/size")"
	running "$WRAPPER" || fail "ccrun is '$(state "$WRAPPER")' after the resize to $size"
done
touch "$d/stop"
wait_for -t 20 gone "$WRAPPER" || fail "ccrun did not exit after the resized command"
type_line winch "echo \$? >$d/status"
wait_for -t 10 test -s "$d/status" || fail "the shell did not give ccrun's status"
[ "$(cat "$d/status")" = 0 ] || fail "ccrun exited $(cat "$d/status") after resizes"
# All ccrun printed is its summary: the command, its exit, the telemetry line.
grep -q 'exit 0 after' "$d/err" || fail "no summary after the resizes"
[ "$(grep -cv '^  ' "$d/err")" = 1 ] || fail "ccrun printed more than its summary: $(cat "$d/err")"
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 0 and d["signal"] is None' \
	"the resized run is not recorded with exit 0"
note "the command saw 120x40, 80x24 and 132x43; ccrun printed only its summary and exited 0"

#
# The terminal closing.
#

note "closing the terminal ends ccrun and the command; the run is recorded with SIGHUP"
d=$SCRATCH/hup-shell
mkdir "$d"
shell_pane hup
type_line hup "cd $d"
type_line hup "$CCRUN_C -- sh $SCRATCH/tick.sh $d 600 0 2>$d/err"
DEBUG_FILES+=("$d/err")
hangup_recorded hup "$d"
note "from an interactive shell: the command gone after ${gone_ms} ms, recorded as exit 129," \
	"signal 1; history intact"

# ccrun itself as the terminal's process leads the session: the kernel
# sends SIGHUP to it alone, and only ccrun passes it on.
d=$SCRATCH/hup-leader
mkdir "$d"
tmux_ new-session -d -s leader -x 100 -y 30 \
	". $SCRATCH/rc.sh; cd $d; exec $CCRUN_C -- sh $SCRATCH/tick.sh $d 600 0 2>$d/err"
DEBUG_FILES+=("$d/err")
hangup_recorded leader "$d"
note "ccrun as the session leader: the command gone after ${gone_ms} ms, recorded as exit 129," \
	"signal 1; history intact"

note "a command that ignores SIGHUP outlives the terminal, and ccrun stays to record it"
d=$SCRATCH/nohup
mkdir "$d"
shell_pane nohup
type_line nohup "cd $d"
type_line nohup "$CCRUN_C -- sh $SCRATCH/tick.sh $d 60 5 nohup 2>$d/err"
DEBUG_FILES+=("$d/err")
start_ticking "$d"
tmux_ kill-session -t nohup
at_hup=$(count "$d")
wait_for -t 10 count_above "$d" $((at_hup + 3)) ||
	fail "the command that ignores SIGHUP stopped ticking (it is '$(state "$CHILD")')"
running "$WRAPPER" || fail "ccrun is '$(state "$WRAPPER")' while the command still runs"
wait_for -t 30 gone "$CHILD" || fail "the command did not finish"
t0=$(now_ms)
wait_for -t 10 gone "$WRAPPER" ||
	fail "ccrun did not exit after the command that outlived the terminal"
after_ms=$(($(now_ms) - t0))
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 5 and d["signal"] is None' \
	"the run that outlived the terminal is not recorded with the command's exit 5"
integrity
note "the terminal closed at tick $at_hup, the command ticked on to $(count "$d") and exited 5;" \
	"ccrun exited ${after_ms} ms after it and recorded exit 5"

# A request the locked history refused is tried again once the command has
# exited, waiting up to 5 s for the lock: signals that come meanwhile (a
# second SIGHUP, C-c pressed again, SIGTERM) must not end ccrun before it
# has recorded the run.
note "SIGHUP, SIGINT and SIGTERM while ccrun finishes its record do not cut it short"
d=$SCRATCH/finishing
mkdir "$d"
cat >"$d/post.py" <<'PY'
import http.client, os, sys, time, urllib.parse
d = sys.argv[1]
with open(d + "/child.pid.tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(d + "/child.pid.tmp", d + "/child.pid")
while not os.path.exists(d + "/go"):
    time.sleep(0.05)
url = urllib.parse.urlparse(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
auth = os.environ["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
conn.request("POST", "/v1/logs", body=open(sys.argv[2], "rb").read(),
             headers={"Authorization": auth, "Content-Type": "application/x-protobuf"})
reply = conn.getresponse()
reply.read()
with open(d + "/posted", "w") as f:
    f.write(str(reply.status))
sys.exit(7)
PY
cat >"$d/lock.py" <<'PY'
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
open(sys.argv[2] + "/locked", "w").close()
while not os.path.exists(sys.argv[2] + "/unlock"):
    time.sleep(0.05)
con.execute("COMMIT")
PY
(cd "$d" && exec "$CCRUN" -C "$REPO" -- python3 "$d/post.py" "$d" \
	"$CCR_TEST_DATA/a-text-only/01-logs.pb") 2>"$d/err" &
pid=$!
track_pid "$pid"
DEBUG_FILES+=("$d/err")
wait_for -t 20 test -s "$d/child.pid" || fail "the posting command did not start"
CHILD=$(cat "$d/child.pid")
on_cleanup kill_stray "$CHILD" python3
python3 "$d/lock.py" "$DB" "$d" &
track_pid $!
on_cleanup touch "$d/unlock"
wait_for -t 10 test -e "$d/locked" || fail "the history could not be locked"
touch "$d/go"
wait_for -t 20 gone "$CHILD" || fail "the posting command did not exit"
[ "$(cat "$d/posted")" = 500 ] || fail "the locked history answered $(cat "$d/posted"), not 500"
kill -HUP "$pid" && kill -INT "$pid" && kill -TERM "$pid" ||
	fail "ccrun died of the signals before it recorded the run"
# Whatever these signals were going to do to ccrun is done in this time.
sleep 0.3
running "$pid" || fail "ccrun is '$(state "$pid")' after the signals, before it recorded the run"
touch "$d/unlock"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 7 ] || fail "ccrun exited $rc, not the command's 7"
last_run "$d"
json_check "$d/last.json" 'd["exit_code"] == 7 and d["events"] >= 1' \
	"the run is not recorded with exit 7 and the request the locked history refused"
integrity
note "ccrun lived through the signals, stored the refused request once the lock went, and" \
	"exited 7"

#
# Terminal modes.
#

note "the terminal is left as the command left it; ccrun changes no mode"
d=$SCRATCH/modes
mkdir "$d"
cat >"$d/modes.sh" <<EOF
stty -g >$d/\$1.child-start
stty -echo -icanon min 1 time 0
sleep 0.2
if [ "\$1" = restore ]; then
	stty echo icanon
	exit 0
fi
stty -g >$d/\$1.child-left
kill -TERM \$\$
EOF
shell_pane modes
type_line modes "cd $d"
type_line modes "stty -g >$d/before; $CCRUN_C -- sh $d/modes.sh restore 2>$d/err1;\
 echo \$? >$d/st1; stty -g >$d/after1"
wait_for -t 20 test -s "$d/after1" || fail "the run that restores the modes did not finish"
[ "$(cat "$d/st1")" = 0 ] || fail "the run that restores the modes exited $(cat "$d/st1")"
cmp -s "$d/before" "$d/restore.child-start" || fail "the command started with other terminal modes"
cmp -s "$d/before" "$d/after1" ||
	fail "the modes changed over a run that restored them: $(cat "$d/before") -> $(cat "$d/after1")"
type_line modes "$CCRUN_C -- sh $d/modes.sh kill 2>$d/err2; echo \$? >$d/st2;\
 stty -g >$d/after2"
wait_for -t 20 test -s "$d/after2" || fail "the run killed with its modes changed did not finish"
[ "$(cat "$d/st2")" = 143 ] || fail "the killed run exited $(cat "$d/st2"), not 143"
cmp -s "$d/before" "$d/kill.child-start" || fail "the command started with other terminal modes"
cmp -s "$d/kill.child-left" "$d/after2" || fail "the terminal is not as the killed command" \
	"left it: $(cat "$d/kill.child-left") -> $(cat "$d/after2")"
! cmp -s "$d/before" "$d/after2" || fail "the killed command's mode change did not stay"
type_line modes "stty $(cat "$d/before")"
note "stty -g is the same before and after a run that restores its modes; after a command" \
	"killed with -echo -icanon the terminal stays so (ccrun exited 143)"

#
# Claude Code.
#

# Two fake APIs: one answers every prompt with text (and the session title),
# the other first asks for a Bash call that sleeps for 37 s.
python3 - "$SCRATCH" <<'PY'
import json, sys
usage = {"input": 1200, "output": 40, "cache_read": 5000, "cache_creation": 300}
text = {"text": "Done. The command printed hello.", "usage": usage}
title = {"text": "Short title", "usage": {"input": 150, "output": 6}}
sleep = {"tool_use": {"name": "Bash", "input": {"command": "sleep 37", "description": "Wait"}},
         "usage": usage}
json.dump({"steps": [], "default": text, "no_tools": title},
          open(sys.argv[1] + "/api-text.json", "w"))
json.dump({"steps": [sleep], "default": text, "no_tools": title},
          open(sys.argv[1] + "/api-sleep.json", "w"))
PY

# claude_case NAME API ARGS...: a new session NAME at an interactive shell
# in $SCRATCH/NAME (a directory Claude Code trusts), with a fake API of its
# own serving API, runs `ccrun claude ARGS...`; sets D, WRAPPER (ccrun) and
# CLAUDE (Claude Code) once both run.
claude_case() {
	local name=$1 api=$2 pane
	shift 2
	D=$SCRATCH/$name
	mkdir "$D"
	python3 - "$FAKE_HOME/.claude.json" "$D" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["projects"][sys.argv[2]] = {"hasTrustDialogAccepted": True}
json.dump(config, open(sys.argv[1], "w"), indent=2)
PY
	start_fake_api "$api"
	shell_pane "$name"
	type_line "$name" "cd $D"
	type_line "$name" "ANTHROPIC_BASE_URL=$ANTHROPIC_BASE_URL $CCRUN_C claude $* 2>$D/err"
	DEBUG_FILES+=("$D/err")
	pane=$(tmux_ display-message -p -t "$name" '#{pane_pid}')
	wait_for -t 20 has_child "$pane" || fail "$name: the shell started nothing"
	WRAPPER=$(children_of "$pane")
	on_cleanup kill_stray "$WRAPPER" ccrun
	[ "$(cat "/proc/$WRAPPER/comm")" = ccrun ] || fail "$name: the shell's child is not ccrun"
	wait_for -t 20 has_child "$WRAPPER" || fail "$name: ccrun started nothing"
	CLAUDE=$(children_of "$WRAPPER")
	on_cleanup kill_stray "$CLAUDE" claude
	[ "$(cat "/proc/$CLAUDE/comm")" = claude ] || fail "$name: ccrun's child is not claude"
}

# claude_answered NAME [suspend]: claude_case for the TUI, which answers
# one prompt and waits for the next; with suspend, Ctrl-Z and fg first.
claude_answered() {
	claude_case "$1" "$SCRATCH/api-text.json"
	wait_for -t 40 screen_has "$1" "ccrun \$" ||
		fail "$1: the TUI and ccrun's status line did not appear"
	if [ "${2:-}" = suspend ]; then
		suspend_and_resume "$1"
	fi
	tmux_ send-keys -t "$1" -l "Say hello"
	wait_for -t 10 screen_has "$1" "Say hello" || fail "$1: the typed prompt did not show"
	tmux_ send-keys -t "$1" Enter
	wait_for -t 45 turn_done "$1" || fail "$1: the answer did not appear, or the turn did not end"
}

# The TUI reads Ctrl-Z as a key: it gives the terminal back and stops its
# whole process group, ccrun included.
suspend_and_resume() {
	tmux_ send-keys -t "$1" C-z
	wait_for -t 10 stopped "$WRAPPER" "$CLAUDE" || fail "$1: after Ctrl-Z ccrun is" \
		"'$(state "$WRAPPER")', Claude Code '$(state "$CLAUDE")', wanted both T"
	wait_for -t 10 screen_has "$1" Stopped || fail "$1: the shell does not show the job as stopped"
	type_line "$1" fg
	wait_for -t 10 running "$WRAPPER" "$CLAUDE" || fail "$1: after fg ccrun is" \
		"'$(state "$WRAPPER")', Claude Code '$(state "$CLAUDE")'"
	wait_for -t 20 redrawn "$1" || fail "$1: the TUI did not come back after fg"
}

# redrawn PANE: the TUI, with ccrun's status line, is drawn again below the
# shell's fg.
redrawn() {
	screen_has "$1" "ready\$ fg" &&
		awk '/^ready\$ fg/ { fg = 1 } fg && /ccrun \$/ { drawn = 1 } END { exit !drawn }' \
			"$SCRATCH/screen-$1.txt"
}

# turn_done PANE: the answer shows and "esc to interrupt" has gone.
turn_done() {
	screen_has "$1" "Done. The command printed hello." &&
		! grep -qF "esc to interrupt" "$SCRATCH/screen-$1.txt"
}

# sleeping PID: a process below PID sleeps (the Bash tool's `sleep 37`);
# sets SLEEPER to its pid.
sleeping() {
	local pid
	for pid in $(children_of "$1"); do
		if [ "$(cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ')" = "sleep 37 " ]; then
			SLEEPER=$pid
			return 0
		fi
		if sleeping "$pid"; then
			return 0
		fi
	done
	return 1
}

# stored: the names of the events the history holds for the newest run.
stored() {
	sqlite3 "$DB" "SELECT group_concat(name, ' ') FROM (SELECT DISTINCT name FROM events
		WHERE run_id = (SELECT max(id) FROM runs) ORDER BY name)"
}

# arrivals SINCE_MS: what ccrun's log says reached its receiver from
# SINCE_MS on: the number of export requests and the last one's delay in ms.
arrivals() {
	python3 - "$REPO/.ccrun/ccrun.log" "$1" <<'PY'
import datetime, sys
since = int(sys.argv[2])
n, last = 0, -1
for line in open(sys.argv[1]):
    if " ingest: stored " not in line:
        continue
    t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    ms = round(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if ms >= since:
        n, last = n + 1, ms - since
print(n, last)
PY
}

# signal_claude CMD...: notes what the history holds, sets T0 and runs CMD,
# which sends the signal.
signal_claude() {
	BEFORE=$(stored)
	T0=$(now_ms)
	"$@"
}

# claude_ended NAME STATUSES EVENTS: after the signal sent at T0, Claude
# Code and ccrun must be gone; the recorded exit code must be one of
# STATUSES, and ccrun's status (when the shell lived to write it) the same;
# telemetry must have arrived after the signal, and the run must hold the
# 9-character prompt, the events EVENTS, and every API request and token
# the fake API served.
claude_ended() {
	local name=$1 gone_ms n last sent k status
	wait_for -t 20 gone "$CLAUDE" || fail "$name: Claude Code still runs 20 s after the signal"
	gone_ms=$(($(now_ms) - T0))
	wait_for -t 20 gone "$WRAPPER" || fail "$name: ccrun still runs 20 s after the signal"
	last_run "$D"
	status=$(json_get "$D/last.json" 'd["exit_code"]')
	[[ " $2 " == *" $status "* ]] || fail "$name: the run is recorded with exit $status, not $2"
	# The shell, unless it went with the terminal, tells ccrun's status (after
	# fg too, which a list typed with the command would not).
	if tmux_ has-session -t "$name" 2>/dev/null; then
		type_line "$name" "echo \$? >$D/status"
		wait_for -t 10 test -s "$D/status" || fail "$name: the shell did not give ccrun's status"
		[ "$(cat "$D/status")" = "$status" ] ||
			fail "$name: ccrun exited $(cat "$D/status"), Claude Code $status"
	fi
	read -r n last < <(arrivals "$T0")
	[ "$n" -ge 1 ] || fail "$name: no telemetry reached ccrun after the signal"
	# ccrun gives Claude Code 2000 ms to flush (CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS).
	[ "$last" -le 2000 ] || fail "$name: the last export arrived $last ms after the signal"
	json_check "$D/last.json" 'len(d["prompts"]) == 1 and d["prompts"][0]["length"] == 9' \
		"$name: the prompt is not recorded"
	for k in $3; do
		[ "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE name = '$k' AND
			run_id = (SELECT max(id) FROM runs)")" -ge 1 ] || fail "$name: no $k event recorded"
	done
	sent=$D/api-usage.json
	api_usage_total >"$sent"
	json_check "$D/last.json" "d['api_requests'] == $(json_get "$sent" 'd["requests"]')" \
		"$name: api_requests differs from what the fake API served"
	for k in input output cache_read cache_creation; do
		[ "$(json_get "$D/last.json" "d['tokens']['$k']")" = "$(json_get "$sent" "d['$k']")" ] ||
			fail "$name: tokens.$k is not the $(json_get "$sent" "d['$k']") the fake API sent"
	done
	integrity
	note "$name: exit $status; $n export requests arrived after the signal, the last after" \
		"${last} ms; Claude Code gone after ${gone_ms} ms; stored before the signal:" \
		"${BEFORE:-nothing}; after: $(stored)"
}

# The TUI reads C-c as a key: the first asks for another, the second exits.
note "Claude Code's TUI stopped with Ctrl-Z, continued with fg, then C-c C-c"
claude_answered tui-int suspend
tmux_ send-keys -t tui-int C-c
wait_for -t 10 screen_has tui-int "Press Ctrl-C again to exit" ||
	fail "tui-int: the TUI did not ask for a second C-c"
signal_claude tmux_ send-keys -t tui-int C-c
claude_ended tui-int 0 "user_prompt api_request"

note "Claude Code's TUI after SIGTERM to ccrun, which passes it on"
claude_answered tui-term
signal_claude kill -TERM "$WRAPPER"
claude_ended tui-term 143 "user_prompt api_request"

note "Claude Code's TUI after SIGHUP to Claude Code"
claude_answered tui-hup
signal_claude kill -HUP "$CLAUDE"
claude_ended tui-hup 129 "user_prompt api_request"

note "Claude Code's TUI when the terminal closes"
claude_answered tui-close
signal_claude tmux_ kill-session -t tui-close
claude_ended tui-close 129 "user_prompt api_request"

# In print mode the terminal is not raw: C-c sends SIGINT to the foreground
# process group, which ccrun ignores and Claude Code acts on.
note "Claude Code in print mode after C-c from the terminal, with a Bash call running"
claude_case print-int "$SCRATCH/api-sleep.json" -p "'Say hello'" --allowedTools Bash
wait_for -t 40 sleeping "$CLAUDE" || fail "print-int: the Bash call did not start"
on_cleanup kill_stray "$SLEEPER" sleep
signal_claude tmux_ send-keys -t print-int C-c
claude_ended print-int "0 1" "user_prompt api_request tool_decision"
wait_for -t 2 gone "$SLEEPER" || fail "print-int: the Bash call's sleep outlived Claude Code"
