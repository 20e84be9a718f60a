#!/usr/bin/env bash
# Advice from the real cause. In a private network namespace:
#  - a server listening with backlog 2 under a connection flood, somaxconn
#    4096: no somaxconn proposal; the output names the process, the port and
#    backlog 2 (the application's backlog is the limit);
#  - a server asking for 4096 with somaxconn 16: somaxconn is proposed.
# And disco's own pid is never an affinity or fd-limit target, even when
# named with -p while it waits behind CPU hogs we start.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "no unshare"
[ -x "$FIXTURES/tune_listen" ] || fail "missing fixture tune_listen"

host=$(cat /proc/sys/net/core/somaxconn)
port=$((20000 + RANDOM % 20000))

run_in_ns() { # SOMAXCONN BACKLOG OUT
	unshare -n bash -c "ip link set lo up && echo $1 > /proc/sys/net/core/somaxconn &&
		exec '$FIXTURES/tune_listen' $port $2 400 5" > "$T/$3.out" &
	LPID=$!
	on_exit "kill $LPID"
	for _ in $(seq 100); do grep -q ready "$T/$3.out" && break; sleep 0.05; done
	"$DISCO" tune --netns "$LPID" --no-sample -d 2 --only sysctl --json > "$T/$3.json" ||
		fail "tune failed"
	"$DISCO" tune --netns "$LPID" --no-sample -d 1 --only sysctl > "$T/$3.txt" || fail "tune text failed"
	kill "$LPID"
}

run_in_ns 4096 2 app
assert_eq "no somaxconn proposal" "$(jqv "$T/app.json" '[.proposals[] | select(.knob == "net.core.somaxconn")] | length')" 0
assert_eq "advice" "$(jqv "$T/app.json" '.advice | length')" 1
assert_eq "advice pid" "$(jqv "$T/app.json" '.advice[0].pid')" "$LPID"
assert_eq "advice comm" "$(jqv "$T/app.json" '.advice[0].comm')" tune_listen
assert_eq "advice port" "$(jqv "$T/app.json" '.advice[0].evidence.port')" "$port"
assert_eq "advice backlog" "$(jqv "$T/app.json" '.advice[0].evidence.backlog')" 2
assert_ge "overflows quoted" "$(jqv "$T/app.json" '.advice[0].evidence.listen_overflows')" 1
grep -q "pid $LPID (tune_listen) port $port listens with a backlog of 2" "$T/app.txt" ||
	fail "text does not name process, port and backlog: $(cat "$T/app.txt")"
! grep -q "net.core.somaxconn:" "$T/app.txt" || fail "somaxconn proposed in text"

run_in_ns 16 4096 capped
assert_eq "somaxconn proposed" "$(jqv "$T/capped.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .proposed')" 128
assert_eq "capped listener named" "$(jqv "$T/capped.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .evidence.backlog')" 16
assert_eq "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"

# disco waiting behind two hogs on CPU 0, naming itself: never its own target
[ "$(nproc)" -ge 2 ] || exit 0
for i in 1 2; do
	taskset -c 0 bash -c 'while :; do :; done' &
	on_exit "kill $!"
done
taskset -c 0 bash -c "echo \$\$ > '$T/self.pid'; ulimit -Sn 8;
	exec '$DISCO' tune --no-sample -d 2 -p \$\$ --only affinity,nofile --json" > "$T/self.json" ||
	fail "self run failed"
SELF=$(cat "$T/self.pid")
assert_eq "no proposal for disco itself" "$(jqv "$T/self.json" "[.proposals[] | select(.pid == $SELF)] | length")" 0
jqv "$T/self.json" ".notes | map(select(test(\"pid $SELF is disco itself\"))) | length == 1" > /dev/null ||
	fail "nofile note missing: $(jq .notes "$T/self.json")"
jqv "$T/self.json" ".notes | map(select(test(\"affinity: pid $SELF not found, disco itself\"))) | length == 1" > /dev/null ||
	fail "affinity note missing: $(jq .notes "$T/self.json")"
