#!/usr/bin/env bash
# Blocks of a real recording deleted, duplicated, reordered, or damaged (a
# flipped high bit in a block's length, a flipped bit in the SUMMARY): each
# is detected and named on stderr, exit 1, and the report of everything
# else is still printed, marked incomplete; the file is never taken for
# one cut off by a crash. Old format versions still read (v2 fixture).
. "$(dirname "$0")/lib.sh"
need_root
EDIT="$(dirname "$0")/session_edit.py"
command -v python3 >/dev/null || skip "needs python3"

# --min-latency 0: every run-queue sample an event, so a quiet machine
# still writes several events blocks in 4 s
"$DISCO" record -e sched -q -d 4 --min-latency 0 -o "$T/real.data" || fail "record failed"
python3 "$EDIT" "$T/real.data" - list > "$T/blocks"
# two events blocks (type 7) to delete, repeat and swap; the SUMMARY (4)
read -r e1 e2 _ < <(awk '$2 == 7 { printf "%s ", $1 }' "$T/blocks")
last=$(awk '$2 == 4 { print $1 }' "$T/blocks")
[ -n "$e2" ] && [ -n "$last" ] || fail "recording has too few blocks: $(cat "$T/blocks")"
off() { awk -v i="$1" '$1 == i { print $4 }' "$T/blocks"; }

"$DISCO" report --format json "$T/real.data" > "$T/real.json" || fail "the real recording does not read"
jqv "$T/real.json" '.session.complete == true and (.session | has("damage") | not)' >/dev/null
total=$(jqv "$T/real.json" '.session.events_recorded')

# check NAME EDIT ARGS...: the report of the edited file
check() {
	local name=$1
	shift
	python3 "$EDIT" "$T/real.data" "$T/$name.data" "$@" || fail "$name: edit failed"
	"$DISCO" report "$T/$name.data" > "$T/$name.out" 2> "$T/$name.err"
	local rc=$?
	echo "$name: exit $rc: $(tr '\n' '|' < "$T/$name.err")"
	[ "$rc" = 1 ] || fail "$name: exit $rc, expected 1"
	grep -q "^disco session:" "$T/$name.out" || fail "$name: no report"
	grep -q "^== sched ==" "$T/$name.out" || fail "$name: no sched section"
	grep -q "^WARNING: damaged session file" "$T/$name.out" || fail "$name: report not marked damaged"
	grep -q "cut off" "$T/$name.out" && fail "$name: taken for a crash's cut"
	"$DISCO" report --format json "$T/$name.data" > "$T/$name.json" 2>/dev/null
	jqv "$T/$name.json" '.session.complete == false and (.session.damage | length) >= 1' >/dev/null
	cnt=$(jqv "$T/$name.json" '.collectors.sched.runq_latency.count')
	assert_ge "$name: sched samples still reported" "$cnt" 1
}
expect() { grep -qF "$2" "$T/$1.err" || fail "$1: stderr lacks '$2': $(cat "$T/$1.err")"; }

check delete delete "$e2"
expect delete "block number $e2 is missing (deleted or damaged)"
expect delete "event counts differ from the SUMMARY's: sched:"
expect delete "the SUMMARY counts $last blocks before it, $((last - 1)) were read"

check dup dup "$e1"
expect dup "EVENTS_SPLIT block number $e1 at offset"
expect dup "repeats one already read: skipped"
# the repeat is not counted twice
assert_eq "dup: events" "$(jqv "$T/dup.json" '.session.events_recorded')" "$total"

check swap swap "$e1" "$e2"
expect swap "EVENTS_SPLIT block number $e1 at offset"
expect swap "is out of order (after number $e2)"
assert_eq "swap: events" "$(jqv "$T/swap.json" '.session.events_recorded')" "$total"

check flip_len flip-len "$e1"
expect flip_len "damaged block header at offset $(off "$e1"): skipped"
expect flip_len "block number $e1 is missing"
# the blocks after the damaged one are read: the SUMMARY's end time too
assert_eq "flip_len: duration" "$(jqv "$T/flip_len.json" '.session.duration_ns')" \
	"$(jqv "$T/real.json" '.session.duration_ns')"

check flip_summary flip-data "$last"
expect flip_summary "SUMMARY block number $last at offset $(off "$last") damaged (CRC mismatch): skipped"
grep -q "incomplete session" "$T/flip_summary.out" || fail "flip_summary: not marked incomplete"

# version 2 (before block numbers) still reads, complete
"$DISCO" report --format json "$(dirname "$0")/../data/session/v2-cmd.session" > "$T/v2.json" ||
	fail "the version 2 fixture does not read"
jqv "$T/v2.json" '.session.complete == true' >/dev/null
exit 0
