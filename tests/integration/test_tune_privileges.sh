#!/usr/bin/env bash
# Privileges: a child at 13 of 16 fds with soft = hard = 16. As root without
# CAP_SYS_RESOURCE (dropped from the bounding set for disco), the dry run
# proposes raising the hard limit and flags that this process could not
# apply it; --apply fails with one line naming CAP_SYS_RESOURCE and changes
# nothing. Only our own child is touched.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null && command -v setpriv >/dev/null || skip "no python3/setpriv"

prlimit --nofile=16:16 python3 -c '
import os, time
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(10)]
print("ready", flush=True)
time.sleep(120)' > "$T/child.out" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 100); do grep -q ready "$T/child.out" && break; sleep 0.05; done
assert_ge "child fds" "$(ls /proc/$PID/fd | wc -l)" 13
nocap() { setpriv --bounding-set=-sys_resource "$DISCO" "$@"; }

nocap tune --no-sample -d 0 -p "$PID" --only nofile --json > "$T/dry.json" || fail "dry run failed"
assert_eq "proposed" "$(jqv "$T/dry.json" .proposals[0].proposed)" "32:32"
jqv "$T/dry.json" .proposals[0].cannot_apply | grep -q "lacks CAP_SYS_RESOURCE" ||
	fail "dry run does not flag the missing capability: $(jq .proposals[0] "$T/dry.json")"
nocap tune --no-sample -d 0 -p "$PID" --only nofile > "$T/dry.txt"
grep -q "CANNOT APPLY: this process lacks CAP_SYS_RESOURCE" "$T/dry.txt" || fail "$(cat "$T/dry.txt")"

if nocap tune --no-sample -d 0 -p "$PID" --only nofile --apply --journal "$T/j.json" > "$T/apply.txt" 2>&1; then
	fail "apply without CAP_SYS_RESOURCE succeeded"
fi
assert_eq "EPERM lines naming the capability" \
	"$(grep -c "setting 32:32 failed: Operation not permitted: needs CAP_SYS_RESOURCE" "$T/apply.txt")" 1
grep -q "^Max open files *16 *16" /proc/$PID/limits || fail "limit changed: $(grep 'open files' /proc/$PID/limits)"
