#!/usr/bin/env bash
# A recorder killed with SIGKILL leaves a file that still reports, marked
# incomplete; SIGINT finishes the file cleanly, also one that comes while
# the recorder is still loading and attaching, and also when the recorder
# was started with SIGINT ignored (as a non-interactive shell starts its
# background jobs): perf record stops on Ctrl-C so too. The COMMAND gets
# SIGINT back as the recorder got it. No step waits a fixed time: each
# waits for what it needs, and none waits forever.
. "$(dirname "$0")/lib.sh"
need_root

# the recorder $1 said "recording to" in $2 (a recorder that ended fails)
started() {
	grep -q "recording to" "$2" && return 0
	kill -0 "$1" 2>/dev/null || fail "the recorder ended before recording: $(cat "$2")"
	return 1
}
# the session file $1 holds at least one sched run-queue sample already
has_samples() {
	local n
	n=$("$DISCO" report "$1" --format json 2>/dev/null | jq -r '.collectors.sched.runq_latency.count' 2>/dev/null)
	[ "${n:-0}" -ge 1 ] 2>/dev/null
}

"$DISCO" record -e sched -q -o "$T/k.data" &
pid=$!
on_exit "kill -9 $pid"
wait_for 60 "samples in the file of a running recorder" has_samples "$T/k.data"
kill -9 $pid
wait $pid 2>/dev/null
[ -s "$T/k.data" ] || fail "no file left after SIGKILL"
[ "$(stat -c %a "$T/k.data")" = 600 ] || fail "session file mode is not 0600"
"$DISCO" report "$T/k.data" > "$T/k.txt" || fail "report of a killed session failed"
grep -q "incomplete session" "$T/k.txt" || fail "killed session not reported as incomplete"
"$DISCO" report "$T/k.data" --format json > "$T/k.json" || fail "json report failed"
jqv "$T/k.json" '.session.complete == false' >/dev/null
cnt=$(jqv "$T/k.json" '.collectors.sched.runq_latency.count')
assert_ge "samples in killed session" "$cnt" 1

"$DISCO" record -e sched -o "$T/i.data" > /dev/null 2> "$T/i.err" &
pid=$!
on_exit "kill -9 $pid"
wait_for 60 "recorder started" started $pid "$T/i.err"
kill -INT $pid
wait_exit $pid 30 "recorder sent SIGINT" || fail "SIGINT exit status $?"
grep -q "interrupted; session written" "$T/i.err" || fail "no clean end after SIGINT: $(cat "$T/i.err")"
"$DISCO" report "$T/i.data" --format json > "$T/i.json" || fail "report after SIGINT failed"
jqv "$T/i.json" '.session.complete == true' >/dev/null

# SIGINT while the recorder sets up, SIGINT ignored when it started: until
# the collectors are attached, the COMMAND is a child not yet exec'd, with
# the recorder's name
bash -c 'trap "" INT; exec "$@"' - "$DISCO" record -e sched -o "$T/s.data" -- sleep 60 > /dev/null 2> "$T/s.err" &
pid=$!
on_exit "kill -9 $pid"
when=""
for _ in $(seq 6000); do
	comm=$(cat /proc/$pid/comm 2>/dev/null) && ps -o comm= --ppid $pid | grep -qxF "$comm" &&
		when="while setting up" && break
	started $pid "$T/s.err" && when="after setting up (the set-up was too quick to catch)" && break
	sleep 0.01
done
[ -n "$when" ] || fail "the recorder neither set up nor started within 60 s"
kill -INT $pid
echo "SIGINT sent $when"
wait_exit $pid 30 "recorder sent SIGINT $when" || fail "exit status $? after SIGINT $when"
grep -q "interrupted; session written" "$T/s.err" || fail "no clean end after SIGINT $when: $(cat "$T/s.err")"
"$DISCO" report "$T/s.data" --format json > "$T/s.json" || fail "report after SIGINT $when failed"
jqv "$T/s.json" '.session.complete == true' >/dev/null

# the COMMAND gets SIGINT ignored (bit 2 of SigIgn) as the recorder got it,
# and SIGTERM (bit 15) not, as it was not
bash -c 'trap "" INT; exec "$@"' - "$DISCO" record -e sched -q -o "$T/g.data" -- grep '^SigIgn' /proc/self/status > "$T/g.out" &
pid=$!
on_exit "kill -9 $pid"
wait_exit $pid 60 "recorder of a short command" || fail "record of grep failed"
ign=$(awk '{ print $2 }' "$T/g.out")
[ -n "$ign" ] || fail "the command printed no SigIgn line"
(( (16#$ign >> 1) & 1 )) || fail "the command's SIGINT is not ignored as the recorder's was: SigIgn $ign"
(( !((16#$ign >> 14) & 1) )) || fail "the command's SIGTERM is ignored: SigIgn $ign"

# never overwrites without -f (the old file becomes .old: rotation is
# tested in test_record_files_and_status.sh), never writes through a symlink
ln -s "$T/target" "$T/link"
"$DISCO" record -e sched -q -d 1 -o "$T/link" 2> "$T/err" && fail "wrote through a symlink"
grep -q "exists" "$T/err" || fail "no clear message for a symlink at FILE: $(cat "$T/err")"
"$DISCO" record -e sched -q -d 1 -f -o "$T/link" 2> "$T/err" && fail "wrote through a symlink with -f"
[ -e "$T/target" ] && fail "symlink target was created"
[ -L "$T/link" ] || fail "the symlink was moved or removed"
# a corrupted file is a clear error naming the offset
cp "$T/i.data" "$T/c.data"
printf '\xff\xff\xff\xff' | dd of="$T/c.data" bs=1 seek=40 conv=notrunc 2>/dev/null
"$DISCO" report "$T/c.data" > /dev/null 2> "$T/err" && fail "corrupt file accepted"
grep -q "offset" "$T/err" || fail "corruption error does not name an offset: $(cat "$T/err")"
exit 0
