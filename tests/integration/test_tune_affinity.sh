#!/usr/bin/env bash
# A multi-threaded child sharing CPU 0 with two pinned busy hogs: tune
# recommends moving it to the other CPU(s) (wait time from schedstat, hogs
# from CPU time, spare capacity from /proc/stat); --apply moves every thread;
# --rollback restores the old mask. Only processes we start are touched.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "no python3"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

for i in 1 2; do
	taskset -c 0 bash -c 'while :; do :; done' &
	on_exit "kill $!"
done
taskset -c 0 python3 -c '
import threading, time
def spin():
    while True:
        pass
threading.Thread(target=spin, daemon=True).start()
print("ready", flush=True)
while True:
    pass' > "$T/child.out" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 100); do grep -q ready "$T/child.out" && break; sleep 0.05; done
[ "$(ls /proc/$PID/task | wc -l)" -ge 2 ] || fail "child has no second thread"

"$DISCO" tune --no-sample -d 2 -p $PID --only affinity --json > "$T/dry.json" || fail "dry run failed"
jq . "$T/dry.json" >&2
assert_eq "recommendations" "$(jqv "$T/dry.json" .recommendations)" 1
assert_eq "rule" "$(jqv "$T/dry.json" .proposals[0].rule)" affinity-neighbour
assert_eq "current" "$(jqv "$T/dry.json" .proposals[0].current)" 0
want=$(jqv "$T/dry.json" .proposals[0].proposed)
[[ ",$want," != *",0,"* && "$want" != 0-* ]] || fail "proposed set $want still contains CPU 0"
assert_ge "wait_pct" "$(jqv "$T/dry.json" .proposals[0].evidence.wait_pct)" 20
assert_ge "neighbours" "$(jqv "$T/dry.json" .proposals[0].evidence.neighbours)" 2

"$DISCO" tune --no-sample -d 2 -p $PID --only affinity --apply --journal "$T/j.json" > "$T/apply.txt" ||
	fail "apply failed: $(cat "$T/apply.txt")"
applied=$(jqv "$T/j.json" .changes[0].new)
for t in /proc/$PID/task/*; do
	got=$(awk '/Cpus_allowed_list/ {print $2}' "$t/status")
	assert_eq "thread $(basename "$t") mask" "$got" "$applied"
done

"$DISCO" tune --rollback "$T/j.json" > "$T/rb.txt" || fail "rollback failed: $(cat "$T/rb.txt")"
for t in /proc/$PID/task/*; do
	assert_eq "thread $(basename "$t") restored" "$(awk '/Cpus_allowed_list/ {print $2}' "$t/status")" 0
done
