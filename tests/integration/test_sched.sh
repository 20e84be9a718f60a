#!/usr/bin/env bash
# sched collector end to end: a victim pinned behind CPU hogs must show
# multi-millisecond run-queue latency, outliers naming a hog, and context
# switch counts that agree with the kernel's own.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

# check names a method for every sched hook
"$DISCO" check --json > "$T/check.json" || true
for h in sched_switch sched_wakeup sched_wakeup_new sched_migrate_task; do
	m=$(jq -r ".collectors.sched.hooks[] | select(.hook == \"sched:$h\") | .method" "$T/check.json")
	[ -n "$m" ] && [ "$m" != null ] || fail "check gives no method for sched:$h"
done

cpu=1
for i in 1 2; do
	taskset -c $cpu "$FIXTURES/sched_load" hog 6 &
	on_exit "kill $! 2>/dev/null"
done
"$DISCO" record -e sched --min-latency 2ms -q -o "$T/s.data" -- \
	taskset -c $cpu "$FIXTURES/sched_load" victim 4 "$T/victim.txt" || fail "record failed"
"$DISCO" report "$T/s.data" --format json > "$T/r.json" || fail "report failed"
read -r vpid vol invol < "$T/victim.txt"

p99=$(jq -r ".collectors.sched.processes[] | select(.pid == $vpid) | .runq_latency.p99_ns" "$T/r.json")
[ -n "$p99" ] || fail "victim $vpid not in the process table"
assert_ge "victim run-queue p99 (ns)" "$p99" 3000000

n=$(jq "[.collectors.sched.outliers[] | select(.pid == $vpid and .prev_comm == \"disco-hog\")] | length" "$T/r.json")
assert_ge "outliers of the victim naming disco-hog" "$n" 1

dvol=$(jq ".collectors.sched.processes[] | select(.pid == $vpid) | .voluntary_switches" "$T/r.json")
dinv=$(jq ".collectors.sched.processes[] | select(.pid == $vpid) | .involuntary_switches" "$T/r.json")
echo "victim $vpid: kernel vol=$vol invol=$invol, disco vol=$dvol invol=$dinv, p99=${p99}ns, outliers=$n"
tot=$((vol + invol)); dtot=$((dvol + dinv))
assert_ge "voluntary switches seen" "$dvol" "$(( vol * 90 / 100 ))"
assert_le "voluntary switches seen" "$dvol" "$(( vol * 110 / 100 + 2 ))"
assert_ge "all switches seen" "$dtot" "$(( tot * 90 / 100 ))"
assert_le "all switches seen" "$dtot" "$(( tot * 110 / 100 + 2 ))"
jqv "$T/r.json" '.session.complete == true' >/dev/null

# -- COMMAND follows the processes it starts (as perf does), and only them
"$DISCO" record -e sched -q -o "$T/f.data" -- \
	sh -c "\"$FIXTURES/sched_load\" hog 0.5 & wait" || fail "record of a shell failed"
"$DISCO" report "$T/f.data" --format json > "$T/f.json" || fail "report failed"
# (named at exec; its later prctl rename to disco-hog is not followed)
n=$(jq '[.collectors.sched.processes[] | select(.comm == "sched_load")] | length' "$T/f.json")
assert_eq "grandchild of COMMAND recorded" "$n" 1
others=$(jq '[.collectors.sched.processes[] | select(.comm != "sched_load" and .comm != "sh")] | length' "$T/f.json")
assert_eq "processes outside COMMAND's tree" "$others" 0
exit 0
