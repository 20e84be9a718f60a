#!/usr/bin/env bash
# A recorder killed with SIGKILL leaves a file that still reports, marked
# incomplete; SIGINT finishes the file cleanly.
. "$(dirname "$0")/lib.sh"
need_root

"$DISCO" record -e sched -q -o "$T/k.data" &
pid=$!
sleep 4.5
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

"$DISCO" record -e sched -q -o "$T/i.data" &
pid=$!
sleep 2
kill -INT $pid
wait $pid || fail "SIGINT exit status $?"
"$DISCO" report "$T/i.data" --format json > "$T/i.json" || fail "report after SIGINT failed"
jqv "$T/i.json" '.session.complete == true' >/dev/null

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
