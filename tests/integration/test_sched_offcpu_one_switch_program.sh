#!/usr/bin/env bash
# -e sched,offcpu: one sched_switch program does both collectors' part
# (sched's, sharing task storage and offcpu's maps), and both still report
# real figures for a fixture reading a pipe 6 x 50 ms in wait_on_pipe()
# that a thread feeds after a 50 ms nanosleep: offcpu's blocked time in
# wait_on_pipe within 10% of what the fixture measured, every such block's
# waker named; sched's run-queue samples and voluntary switches of the
# fixture, at least one per long block offcpu saw (every block is a
# voluntary switch and ends in a wakeup). On a busy machine a read may
# find its data already there and not block: the fixture's own figure
# and offcpu's block count are the references, not 6 x 50 ms. Then the
# same with sched forced to raw_tp: no task storage on sched's side, so
# offcpu keeps its own program.
. "$(dirname "$0")/lib.sh"
need_root
F=$FIXTURES/stack_fixture

check_both() {	# SESSION.json FIXTURE.out LABEL
	local j=$1 own got reads woken blocks samples vol
	own=$(awk '/^blocked_ns/ { print $2 }' "$2")
	got=$(jq -r '[.collectors.offcpu.stacks[] | select(.comm == "stack_fixture")
		| select([.frames[].sym] | index("wait_on_pipe")) | .blocked_ns] | add // 0' "$j")
	reads=$(jq -r '[.collectors.offcpu.stacks[] | select(.comm == "stack_fixture")
		| select([.frames[].sym] | index("wait_on_pipe")) | .count] | add // 0' "$j")
	woken=$(jq -r '[.collectors.offcpu.wakers[] | select([.frames[].sym] | index("wait_on_pipe"))
		| select([.waker_frames[].sym] | index("wake_the_reader")) | .count] | add // 0' "$j")
	blocks=$(jqv "$j" '[.collectors.offcpu.processes[] | select(.comm == "stack_fixture") | .blocks] | add')
	samples=$(jqv "$j" '[.collectors.sched.processes[] | select(.comm == "stack_fixture") | .runq_latency.count] | add')
	vol=$(jqv "$j" '[.collectors.sched.processes[] | select(.comm == "stack_fixture") | .voluntary_switches] | add')
	echo "$3: fixture blocked ${own} ns, offcpu ${got} ns in $reads blocks in wait_on_pipe (${woken} woken by wake_the_reader), $blocks long blocks; sched: $samples run-queue samples, $vol voluntary switches"
	assert_ge "fixture's own blocked time" "$own" 100000000
	assert_ge "$3: blocked in wait_on_pipe" "$got" "$(( own * 90 / 100 ))"
	assert_le "$3: blocked in wait_on_pipe" "$got" "$(( own * 110 / 100 ))"
	assert_ge "$3: blocks in wait_on_pipe" "$reads" 1
	assert_ge "$3: pipe blocks woken by wake_the_reader" "$woken" "$reads"
	# at least the writer's 6 naps, and the reads that blocked
	assert_ge "$3: offcpu long blocks of the fixture" "$blocks" "$(( 6 + reads ))"
	assert_ge "$3: sched run-queue samples of the fixture" "$samples" "$blocks"
	assert_ge "$3: sched voluntary switches of the fixture" "$vol" "$blocks"
}

"$DISCO" record -e sched,offcpu --bpf-stats on -q -o "$T/p.data" -- "$F" pipe 50 6 > "$T/p.out" || fail "record failed"
"$DISCO" report "$T/p.data" --format json > "$T/p.json" || fail "report failed"
check_both "$T/p.json" "$T/p.out" shared
jqv "$T/p.json" '[.collectors.sched.programs[].name] | index("sched_offcpu_switch_btf") != null' >/dev/null
jqv "$T/p.json" '[.collectors.sched.programs[].name] | index("sched_switch_btf") == null' >/dev/null
jqv "$T/p.json" '[.collectors.offcpu.programs[].name] | index("offcpu_switch_btf") == null' >/dev/null
jqv "$T/p.json" '.collectors.offcpu.hooks[] | select(.hook == "sched:sched_switch") | .method == null and (.reason | test("sched"))' >/dev/null
# the program ran on every switch: its count is sched's switch count
runs=$(jqv "$T/p.json" '.collectors.sched.programs[] | select(.name == "sched_offcpu_switch_btf") | .measured_runs')
sw=$(jqv "$T/p.json" '.collectors.sched.switches.voluntary + .collectors.sched.switches.involuntary')
assert_ge "runs of the shared program" "$runs" "$sw"

DISCO_FORCE_METHOD=raw_tp "$DISCO" record -e sched,offcpu --bpf-stats on -q -o "$T/r.data" -- "$F" pipe 50 6 > "$T/r.out" ||
	fail "record (raw_tp) failed"
"$DISCO" report "$T/r.data" --format json > "$T/r.json" || fail "report (raw_tp) failed"
check_both "$T/r.json" "$T/r.out" raw_tp
jqv "$T/r.json" '.collectors.sched.hooks[] | select(.hook == "sched:sched_switch") | .method == "raw_tp"' >/dev/null
jqv "$T/r.json" '[.collectors.offcpu.programs[].name] | index("offcpu_switch_btf") != null' >/dev/null
echo ok
