#!/usr/bin/env bash
# offcpu collector end to end: a fixture sleeping 15 x 20 ms in
# nap_in_nanosleep(), then one reading a pipe 6 x 50 ms in wait_on_pipe()
# that a thread feeds from wake_the_reader(): the blocked time on a stack
# with the function matches what the fixture measured itself (+-10%), and
# the pipe's long blocks name the waker's function. The true blocked time
# lies between what was asked (15 x 20 ms, 6 x 50 ms: a sleep lasts at
# least that) and what the fixture measured around its calls (which also
# counts any wait for a CPU after returning to user space): disco's figure
# must be within 10% of that range.
. "$(dirname "$0")/lib.sh"
need_root
F=$FIXTURES/stack_fixture

# blocked_ns (JSON $1) on stacks of stack_fixture containing function $2
blocked_in() {
	jq -r --arg f "$2" '[.collectors.offcpu.stacks[] | select(.comm == "stack_fixture")
		| select([.frames[].sym] | index($f)) | .blocked_ns] | add // 0' "$1"
}

"$DISCO" record -e offcpu -q -o "$T/s.data" -- "$F" sleep 20 15 > "$T/s.out" || fail "record failed"
"$DISCO" report "$T/s.data" --format json > "$T/s.json" || fail "report failed"
own=$(awk '/^blocked_ns/ { print $2 }' "$T/s.out")
got=$(blocked_in "$T/s.json" nap_in_nanosleep)
echo "nanosleep: fixture measured ${own} ns, disco ${got} ns"
assert_ge "fixture's own blocked time" "$own" 300000000
assert_ge "blocked in nap_in_nanosleep" "$got" 270000000
assert_le "blocked in nap_in_nanosleep" "$got" "$(( own * 110 / 100 ))"
jqv "$T/s.json" '[.collectors.offcpu.stacks[] | select([.frames[].sym] | index("nap_in_nanosleep"))
	| select([.frames[].sym] | index("main")) | select(.truncated == false)] | length > 0' >/dev/null

"$DISCO" record -e offcpu -q -o "$T/p.data" -- "$F" pipe 50 6 > "$T/p.out" || fail "record failed"
"$DISCO" report "$T/p.data" --format json > "$T/p.json" || fail "report failed"
own=$(awk '/^blocked_ns/ { print $2 }' "$T/p.out")
got=$(blocked_in "$T/p.json" wait_on_pipe)
echo "pipe read: fixture measured ${own} ns, disco ${got} ns"
assert_ge "blocked in wait_on_pipe" "$got" 270000000
assert_le "blocked in wait_on_pipe" "$got" "$(( own * 110 / 100 ))"
woken=$(jq -r '[.collectors.offcpu.wakers[] | select([.frames[].sym] | index("wait_on_pipe"))
	| select([.waker_frames[].sym] | index("wake_the_reader")) | .blocked_ns] | add // 0' "$T/p.json")
echo "of which woken by wake_the_reader: ${woken} ns"
# every block: each one's waker is the writer thread in wake_the_reader
# (with sched_wakeup, a wakeup queued to an idle CPU was seen from that
# CPU's interrupt and one block in six lost its waker now and then)
nwoken=$(jq -r '[.collectors.offcpu.wakers[] | select([.frames[].sym] | index("wait_on_pipe"))
	| select([.waker_frames[].sym] | index("wake_the_reader")) | .count] | add // 0' "$T/p.json")
assert_ge "pipe blocks whose waker is wake_the_reader" "$nwoken" 6
assert_ge "blocked time whose waker is wake_the_reader" "$woken" "$(( got * 99 / 100 ))"
"$DISCO" report "$T/p.data" | grep -q "wait_on_pipe (pid [0-9]* stack_fixture) <- woken by wake_the_reader" ||
	fail "text report does not name the waker"
# --min-block 100ms: the 50 ms blocks are left out (counted as short); any
# block counted (one delayed past 100 ms by a busy machine) is that long
"$DISCO" record -e offcpu --min-block 100ms -q -o "$T/m.data" -- "$F" pipe 50 3 > /dev/null || fail "record failed"
"$DISCO" report "$T/m.data" --format json > "$T/m.json" || fail "report failed"
jqv "$T/m.json" '.collectors.offcpu.min_block_ns == 100000000' >/dev/null
assert_ge "short blocks with --min-block 100ms" "$(jq '.collectors.offcpu.short_blocks' "$T/m.json")" 2
jqv "$T/m.json" '[.collectors.offcpu.stacks[] | select(.blocked_ns < 100000000 * .count)] | length == 0' >/dev/null
echo ok
