#!/usr/bin/env bash
# disco tune with BPF evidence: from a session file (--from) and from a fresh
# sampling window (-d). A child pinned to CPU 0 with two pinned hogs shows
# high run-queue latency; tune proposes moving it, quoting the p99. Dry runs
# only: nothing is changed.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
"$DISCO" check >/dev/null 2>&1 || skip "collectors cannot run here (see disco check)"

for i in 1 2; do
	taskset -c 0 bash -c 'while :; do :; done' &
	on_exit "kill $!"
done
taskset -c 0 bash -c 'while :; do :; done' &
PID=$!
on_exit "kill $PID"

# waits behind two hogs are a few scheduler slices (~6 ms): a 2 ms outlier
# threshold makes sure the neighbours are named
"$DISCO" record -e sched,tcp -d 3 --min-latency 2ms -q -o "$T/s.data" || fail "record failed"
"$DISCO" tune --from "$T/s.data" --only affinity --json > "$T/from-all.json" || fail "tune --from failed"
# the three keep each other waiting: only one of them is moved
assert_eq "one move among mutual neighbours" \
	"$(jqv "$T/from-all.json" "[.proposals[] | select(.current == \"0\")] | length")" 1
"$DISCO" tune --from "$T/s.data" -p $PID --only affinity --json > "$T/from.json" || fail "tune --from -p failed"
assert_eq "schema" "$(jqv "$T/from.json" .schema)" "disco.tune/1"
p=".proposals[] | select(.pid == $PID)"
# when the rule skips a -p target its note says why: show it
jq -e "$p" "$T/from.json" > /dev/null ||
	fail "no proposal for pid $PID from the session; notes: $(jq -c .notes "$T/from.json"); its outliers: $("$DISCO" report --format json "$T/s.data" |
		jq -c "[.collectors.sched.outliers[]? | select(.pid == $PID) | {cpu, kind, prev_pid, prev_comm}] | .[:8]")"
assert_eq "rule" "$(jqv "$T/from.json" "$p | .rule")" affinity-neighbour
assert_eq "current" "$(jqv "$T/from.json" "$p | .current")" 0
assert_ge "runq p99 quoted" "$(jqv "$T/from.json" "$p | .evidence.runq_p99_ns")" 2000000
assert_ge "neighbours from outliers" "$(jqv "$T/from.json" "$p | .evidence.neighbours")" 1
grep -q "^Cpus_allowed_list:.*0$" /proc/$PID/status || fail "dry run changed the mask"

# without snapshot deltas the counter rules say so instead of guessing
"$DISCO" tune --from "$T/s.data" --only sysctl --json > "$T/from-sysctl.json" || fail "tune --from sysctl failed"
jqv "$T/from-sysctl.json" '.notes | map(select(test("netdev-backlog: no delta available"))) | length == 1' >/dev/null

# a corrupt session is a clear error, exit 1
head -c 100 "$T/s.data" > "$T/cut.data"
printf 'garbage' >> "$T/cut.data"
"$DISCO" tune --from "$T/cut.data" > "$T/cut.out" 2>&1
rc=$?
assert_eq "corrupt --from exit" "$rc" 1

# fresh sampling: BPF + snapshots at both ends of the window
"$DISCO" tune -d 2 -p $PID --only affinity --json > "$T/fresh.json" || fail "tune -d failed"
p=".proposals[] | select(.pid == $PID)"
jq -e "$p" "$T/fresh.json" > /dev/null ||
	fail "no proposal for pid $PID from the window; notes: $(jq -c .notes "$T/fresh.json")"
assert_eq "fresh rule" "$(jqv "$T/fresh.json" "$p | .rule")" affinity-neighbour
assert_ge "fresh wait_pct" "$(jqv "$T/fresh.json" "$p | .evidence.wait_pct")" 20
assert_ge "fresh runq p99" "$(jqv "$T/fresh.json" "$p | .evidence.runq_p99_ns")" 2000000
