#!/usr/bin/env bash
# disco top: plain snapshots when stdout is not a terminal (-n stops it),
# and on a terminal (a pty from script(1)) q quits and the screen and
# terminal modes are restored, also on SIGTERM.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

# a CPU hog and a victim on one CPU: run-queue latency every second
taskset -c 1 "$FIXTURES/sched_load" hog 8 &
on_exit "kill $! 2>/dev/null"
taskset -c 1 "$FIXTURES/sched_load" victim 8 "$T/victim.txt" &
on_exit "kill $! 2>/dev/null"

start=$(date +%s)
timeout 20 "$DISCO" top -e sched -n 2 > "$T/top.txt" 2> "$T/top.err" || { cat "$T/top.err"; fail "disco top -n 2 failed"; }
secs=$(( $(date +%s) - start ))
assert_le "seconds for two snapshots" "$secs" 8
assert_eq "snapshots printed" "$(grep -c '^--- snapshot' "$T/top.txt")" 2
grep -q '^--- snapshot 2$' "$T/top.txt" || fail "no second snapshot"
assert_eq "frames with a sched section" "$(grep -c '^== sched: ' "$T/top.txt")" 2
# the last interval's run-queue rate is a positive number
rate=$(awk '$1 == "runq_latency" {r = $2} END {print r}' "$T/top.txt")
assert_ge "runq_latency rate/s" "${rate:-0}" 1
grep -q 'processes by runq_latency, last interval' "$T/top.txt" || fail "no worst-process table"
grep -q 'disco-hog\|sched_load' "$T/top.txt" || { cat "$T/top.txt"; fail "the hog is not among the worst processes"; }
if grep -q $'\033' "$T/top.txt"; then fail "escape sequences in non-terminal output"; fi

# bad usage: exit 2
"$DISCO" top -n 0 2>/dev/null
assert_eq "exit status of -n 0" "$?" 2

# on a terminal: q quits, alternate screen left and cursor shown again
( sleep 2.5; printf q; sleep 5 ) | timeout 20 script -qfec "$DISCO top -e sched" "$T/tty.txt" > /dev/null
grep -q 'q quits' "$T/tty.txt" || fail "no interactive frame on the pty"
grep -q $'\033\[?1049h' "$T/tty.txt" || fail "alternate screen not entered"
tail -c 300 "$T/tty.txt" | grep -q $'\033\[?25h\033\[?1049l' || fail "screen not restored after q"

# SIGTERM while on a terminal: same clean restore
timeout 20 script -qfec "$DISCO top -e sched" "$T/tty2.txt" < /dev/null > /dev/null &
spid=$!
on_exit "kill $spid 2>/dev/null"
descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
tpid=
for _ in $(seq 60); do
	for p in $(descendants $spid); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = disco ] && tpid=$p
	done
	[ -n "$tpid" ] && grep -q 'q quits' "$T/tty2.txt" 2>/dev/null && break
	sleep 0.2
done
[ -n "$tpid" ] || fail "disco top did not start on the pty"
kill -TERM "$tpid"
wait $spid
tail -c 300 "$T/tty2.txt" | grep -q $'\033\[?25h\033\[?1049l' || fail "screen not restored after SIGTERM"
exit 0
