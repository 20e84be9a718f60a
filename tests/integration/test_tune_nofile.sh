#!/usr/bin/env bash
# A child with a soft fd limit of 64 holding 60 fds: tune recommends a
# higher limit, --apply raises it with prlimit(2) (seen in /proc/PID/limits),
# --rollback restores it. Only our own child process is touched.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "no python3"

prlimit --nofile=64:4096 python3 -c '
import os, sys, time
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(57)]
print("ready", flush=True)
time.sleep(120)' > "$T/child.out" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 100); do grep -q ready "$T/child.out" && break; sleep 0.05; done
nfds=$(ls /proc/$PID/fd | wc -l)
assert_ge "child fds" "$nfds" 58

"$DISCO" tune --no-sample -d 0 -p $PID --only nofile --json > "$T/dry.json" || fail "dry run failed"
assert_eq "recommendations" "$(jqv "$T/dry.json" .recommendations)" 1
assert_eq "pid" "$(jqv "$T/dry.json" .proposals[0].pid)" "$PID"
assert_eq "current" "$(jqv "$T/dry.json" .proposals[0].current)" "64:4096"
assert_eq "proposed" "$(jqv "$T/dry.json" .proposals[0].proposed)" "128:4096"
assert_eq "evidence open_fds" "$(jqv "$T/dry.json" .proposals[0].evidence.open_fds)" "$nfds"
jqv "$T/dry.json" .proposals[0].persistent | grep -q "LimitNOFILE=128:4096" || fail "no persistent form"
grep -q "^Max open files *64 *4096" /proc/$PID/limits || fail "dry run changed the limit"

"$DISCO" tune --no-sample -d 0 -p $PID --only nofile --apply --journal "$T/j.json" > "$T/apply.txt" ||
	fail "apply failed: $(cat "$T/apply.txt")"
grep -q "^Max open files *128 *4096" /proc/$PID/limits || fail "limit not raised: $(grep 'open files' /proc/$PID/limits)"
assert_eq "journal start_time" "$(jqv "$T/j.json" .changes[0].start_time)" "$(awk '{print $22}' /proc/$PID/stat)"

"$DISCO" tune --rollback "$T/j.json" > "$T/rb.txt" || fail "rollback failed: $(cat "$T/rb.txt")"
grep -q "^Max open files *64 *4096" /proc/$PID/limits || fail "limit not restored: $(grep 'open files' /proc/$PID/limits)"

# a reused PID is never touched: forge the journal's start time
jq '.changes[0].start_time += 1' "$T/j.json" > "$T/j2.json"
"$DISCO" tune --rollback "$T/j2.json" > "$T/rb2.txt" && fail "rollback of a reused pid succeeded"
grep -q "PID reused" "$T/rb2.txt" || fail "no PID reuse message: $(cat "$T/rb2.txt")"
