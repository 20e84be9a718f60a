#!/usr/bin/env bash
# --netns PID: tune reads the counters and net.* sysctls of another network
# namespace (a listener that never accepts, started by us in a new netns),
# applies net.core.somaxconn there only, and --rollback (netns from the
# journal) restores it. The host's value is never touched.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"
[ -x "$FIXTURES/tune_listen" ] || fail "missing fixture tune_listen"

host=$(cat /proc/sys/net/core/somaxconn)
unshare -n bash -c "ip link set lo up && echo 16 > /proc/sys/net/core/somaxconn &&
	exec '$FIXTURES/tune_listen' 5557 1000 600 5" > "$T/listen.out" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 100); do grep -q ready "$T/listen.out" && break; sleep 0.05; done
inside() { nsenter -t "$PID" -n cat /proc/sys/net/core/somaxconn; }
assert_eq "namespace somaxconn" "$(inside)" 16

"$DISCO" tune --netns "$PID" --no-sample -d 2 --rule somaxconn --apply --journal "$T/j.json" > "$T/apply.txt" ||
	fail "apply failed: $(cat "$T/apply.txt")"
grep -q "net.core.somaxconn: 16 -> 128" "$T/apply.txt" || fail "unexpected apply output: $(cat "$T/apply.txt")"
assert_eq "journal netns" "$(jqv "$T/j.json" .netns)" "$PID"
assert_eq "namespace somaxconn applied" "$(inside)" 128
assert_eq "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"

"$DISCO" tune --rollback "$T/j.json" > "$T/rb.txt" || fail "rollback failed: $(cat "$T/rb.txt")"
assert_eq "namespace somaxconn restored" "$(inside)" 16
assert_eq "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"
