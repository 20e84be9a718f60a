#!/usr/bin/env bash
# Two `record -f -o same.data` at once: the second is refused with one
# line and exit 1 before it truncates anything; the first file stays whole.
. "$(dirname "$0")/lib.sh"
need_root

f=$T/same.data
"$DISCO" record -e sched -q -f -o "$f" -- sleep 3 2> "$T/err1" &
first=$!
on_exit "kill $first 2>/dev/null"
# the first holds the file once its header is written
for _ in $(seq 100); do
	[ -s "$f" ] && break
	sleep 0.05
done
[ -s "$f" ] || fail "first recorder wrote nothing"
"$DISCO" record -e sched -q -f -o "$f" -- true 2> "$T/err2"
assert_eq "second writer exit" "$?" 1
assert_eq "second writer error lines" "$(wc -l < "$T/err2")" 1
grep -q "being written by another disco record" "$T/err2" || fail "unclear message: $(cat "$T/err2")"
wait $first || fail "first recorder failed: $(cat "$T/err1")"
"$DISCO" report "$f" --format json > "$T/r.json" || fail "first file unreadable"
jqv "$T/r.json" '.session.complete == true' >/dev/null
# the lock goes with the first writer: the file can be recorded over again
"$DISCO" record -e sched -q -f -o "$f" -- true || fail "record over a finished file failed"
exit 0
