#!/usr/bin/env bash
# cpu --call-graph dwarf end to end: the 3:1 fixture is attributed 75% / 25%
# (+-5 points) with its names; built without frame pointers, dwarf unwinding
# still gives whole stacks (leaf -> main -> ... -> _start, through Debian's
# libc, which has none either) while the frame-pointer walk is marked cut
# short; the copies of the stack never reach the session file; bad
# --call-graph values are refused.
. "$(dirname "$0")/lib.sh"
need_root
F=$FIXTURES/stack_fixture
NOFP=$FIXTURES/stack_fixture_nofp
[ -x "$NOFP" ] || fail "no $NOFP (make builds it with the fixtures)"

# truncated JSON COMM: percent of COMM's samples whose stack is marked cut short
truncated() {
	jq -r --arg comm "$2" '[.collectors.cpu.stacks[] | select(.comm == $comm)] as $s
		| ([$s[].count] | add) as $all
		| ([$s[] | select(.truncated) | .count] | add // 0) * 100 / $all' "$1"
}
# user frames of the largest stack of COMM that has FUNC, outermost last
chain() {
	jq -c --arg f "$2" --arg comm "$3" '[.collectors.cpu.stacks[] | select(.comm == $comm)
		| select([.frames[].sym] | index($f))][0]
		| {truncated, user: [.frames[] | select(.kernel | not) | .sym]}' "$1"
}

"$DISCO" record -e cpu -F 499 --call-graph dwarf -q -o "$T/d.data" -- "$F" cpu 4 ||
	fail "record --call-graph dwarf failed"
"$DISCO" report "$T/d.data" --format json > "$T/d.json" || fail "report failed"
jqv "$T/d.json" '.collectors.cpu.call_graph == "dwarf" and .collectors.cpu.dwarf.stack_bytes == 8192' \
	>/dev/null
assert_split "$T/d.json" dwarf

# the stack copies (8 KiB a sample) are consumed while recording, not stored
copies=$(jq '.collectors.cpu.dwarf.samples' "$T/d.json")
size=$(stat -c %s "$T/d.data")
echo "dwarf: $copies stacks unwound, session file $size bytes"
assert_ge "stacks unwound" "$copies" 200
assert_le "session file bytes" "$size" $((copies * 8192 / 8))

# without frame pointers: whole stacks with dwarf ...
"$DISCO" record -e cpu -F 499 --call-graph dwarf -q -o "$T/nd.data" -- "$NOFP" cpu 5 ||
	fail "record of the no-frame-pointer fixture failed"
"$DISCO" report "$T/nd.data" --format json > "$T/nd.json" || fail "report failed"
assert_split "$T/nd.json" "no frame pointers, dwarf" stack_fixture_n
cut=$(truncated "$T/nd.json" stack_fixture_n)
c=$(chain "$T/nd.json" hot_three_quarters stack_fixture_n)
echo "no frame pointers, dwarf: ${cut}% cut short; $c"
assert_le "stacks cut short with dwarf" "$cut" 10
jq -e '.truncated == false and .user[0] == "hot_three_quarters" and .user[1] == "main"
	and .user[-1] == "_start" and (.user | length) >= 4' <<<"$c" >/dev/null ||
	fail "dwarf stack of the no-frame-pointer fixture is not leaf -> main -> ... -> _start: $c"

# ... and marked cut short with frame pointers, never shown as complete
"$DISCO" record -e cpu -F 499 --call-graph fp -q -o "$T/nf.data" -- "$NOFP" cpu 2 ||
	fail "record --call-graph fp failed"
"$DISCO" report "$T/nf.data" --format json > "$T/nf.json" || fail "report failed"
cut=$(truncated "$T/nf.json" stack_fixture_n)
c=$(chain "$T/nf.json" hot_three_quarters stack_fixture_n)
echo "no frame pointers, fp: ${cut}% cut short; $c"
assert_ge "stacks cut short with frame pointers" "$cut" 90
jqv "$T/nf.json" '.collectors.cpu.call_graph == "fp"' >/dev/null
jqv "$T/nf.json" '.collectors.cpu.truncated_samples > 0' >/dev/null
"$DISCO" report "$T/nf.data" | grep -q "stack cut short" || fail "text report does not mark cut stacks"

# bad values: one line, usage exit code, nothing recorded
for bad in lbr dwarf,4 dwarf,65536 dwarf,; do
	rc=0
	"$DISCO" record -e cpu --call-graph "$bad" -q -o "$T/bad.data" -- true 2> "$T/err" || rc=$?
	assert_eq "exit code of --call-graph $bad" "$rc" 2
	assert_eq "lines of error for --call-graph $bad" "$(wc -l < "$T/err")" 1
	[ ! -e "$T/bad.data" ] || fail "--call-graph $bad left a session file"
done
echo "ok"
