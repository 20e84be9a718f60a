#!/usr/bin/env bash
# Scope: in a --netns run every printed command (apply, persistent form,
# undo) names the namespace and none points at the host's /etc/sysctl.d;
# a journal written inside `unshare -n` is never rolled back from the init
# namespace unless named, and named it cannot reach the namespace's knobs;
# with two journals of two namespaces in one directory, an argument-less
# --rollback in each scope picks its own. The host's somaxconn never moves.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null && command -v nsenter >/dev/null && command -v ip >/dev/null ||
	skip "no unshare/nsenter/ip"
[ -x "$FIXTURES/tune_listen" ] || fail "missing fixture tune_listen"

host=$(cat /proc/sys/net/core/somaxconn)
NAME=disco-t15-$$-$RANDOM
ip netns add "$NAME" || fail "ip netns add $NAME"
on_exit "ip netns del $NAME"
ip netns exec "$NAME" sh -c 'ip link set lo up && echo 16 > /proc/sys/net/core/somaxconn'
ip netns exec "$NAME" "$FIXTURES/tune_listen" 5561 1000 600 5 > "$T/b.out" &
on_exit "kill $!"
unshare -n bash -c "ip link set lo up && echo 16 > /proc/sys/net/core/somaxconn &&
	exec '$FIXTURES/tune_listen' 5562 1000 600 5" > "$T/a.out" &
A=$!
on_exit "kill $A"
for _ in $(seq 100); do grep -q ready "$T/a.out" && grep -q ready "$T/b.out" && break; sleep 0.05; done
in_a() { nsenter -t "$A" -n cat /proc/sys/net/core/somaxconn; }
in_b() { ip netns exec "$NAME" cat /proc/sys/net/core/somaxconn; }

# dry run from the host about namespace B: every command names it
"$DISCO" tune --netns "/run/netns/$NAME" --no-sample -d 2 --rule somaxconn > "$T/dry.txt" ||
	fail "dry run: $(cat "$T/dry.txt")"
grep -q "net.core.somaxconn: 16 -> " "$T/dry.txt" || fail "no proposal: $(cat "$T/dry.txt")"
! grep -q "/etc/sysctl.d" "$T/dry.txt" || fail "host sysctl.d suggested: $(grep sysctl.d "$T/dry.txt")"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	[[ "$line" == *"--netns /run/netns/$NAME"* || "$line" == *"ip netns exec $NAME "* ]] ||
		fail "command without the namespace: $line"
done < <(grep -E "disco tune --|sysctl -[wp]" "$T/dry.txt")
assert_ge "commands checked" "$n" 3
"$DISCO" tune --netns "/run/netns/$NAME" --no-sample -d 1 --rule somaxconn --json > "$T/dry.json"
assert_eq "json scope netns" "$(jqv "$T/dry.json" .scope.netns)" "/run/netns/$NAME"
assert_eq "json scope inode" "$(jqv "$T/dry.json" .scope.netns_inode)" "$(stat -L -c %i "/run/netns/$NAME")"
assert_eq "json netns snippet" "$(jqv "$T/dry.json" '.netns_sysctl | length')" 1
assert_eq "json host snippet" "$(jqv "$T/dry.json" '.sysctl_d | length')" 0

# one journal written inside A (no --netns: the shell's own namespace), one for B from the host
mkdir "$T/jd"
nsenter -t "$A" -n "$DISCO" tune --no-sample -d 2 --rule somaxconn --apply --journal "$T/jd" > "$T/apply_a.txt" ||
	fail "apply in A: $(cat "$T/apply_a.txt")"
JA=$(sed -n 's/^journal: //p' "$T/apply_a.txt")
assert_eq "A applied" "$(in_a)" 128
assert_eq "journal A netns inode" "$(jqv "$JA" .scope.netns_inode)" "$(stat -L -c %i /proc/$A/ns/net)"
assert_eq "journal A boot" "$(jqv "$JA" .scope.boot_id)" "$(cat /proc/sys/kernel/random/boot_id)"
assert_eq "journal A hostname" "$(jqv "$JA" .scope.hostname)" "$(hostname)"
jqv "$JA" .scope.pid > /dev/null
jqv "$JA" .scope.disco_version > /dev/null
sleep 0.01
"$DISCO" tune --netns "/run/netns/$NAME" --no-sample -d 2 --rule somaxconn --apply --journal "$T/jd" \
	> "$T/apply_b.txt" || fail "apply in B: $(cat "$T/apply_b.txt")"
JB=$(sed -n 's/^journal: //p' "$T/apply_b.txt")
grep -q "undo with: disco tune --rollback $JB --netns /run/netns/$NAME --journal $T/jd" "$T/apply_b.txt" ||
	fail "undo line without scope: $(cat "$T/apply_b.txt")"
assert_eq "B applied" "$(in_b)" 128
assert_eq "host untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"

# from the init namespace, unnamed: neither journal is ours
"$DISCO" tune --journals --journal "$T/jd" > "$T/list.txt" || fail "--journals failed"
assert_eq "journals listed" "$(grep -c in-force "$T/list.txt")" 2
if "$DISCO" tune --rollback --journal "$T/jd" > "$T/rb_host.txt" 2> "$T/rb_host.err"; then
	fail "host rolled back a namespace journal: $(cat "$T/rb_host.txt")"
fi
assert_eq "skipped listed" "$(grep -c '^skipped .*network namespace' "$T/rb_host.txt")" 2
assert_eq "A untouched by host rollback" "$(in_a)" 128
assert_eq "host untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"
# named: A's journal says what it touches, and cannot reach A's knob from here
if "$DISCO" tune --rollback "$JA" > "$T/rb_named.txt" 2>&1; then
	fail "named rollback claimed success: $(cat "$T/rb_named.txt")"
fi
grep -q "It touches:" "$T/rb_named.txt" || fail "no touch list: $(cat "$T/rb_named.txt")"
grep -q "not reachable from here" "$T/rb_named.txt" || fail "$(cat "$T/rb_named.txt")"
assert_eq "A still applied" "$(in_a)" 128
assert_eq "host untouched by named rollback" "$(cat /proc/sys/net/core/somaxconn)" "$host"

# each scope picks its own: B from the host with --netns, A from inside
"$DISCO" tune --rollback --netns "/run/netns/$NAME" --journal "$T/jd" > "$T/rb_b.txt" ||
	fail "rollback B: $(cat "$T/rb_b.txt")"
grep -q "from $JB" "$T/rb_b.txt" || fail "B picked another journal: $(cat "$T/rb_b.txt")"
assert_eq "B restored" "$(in_b)" 16
assert_eq "A untouched by B's rollback" "$(in_a)" 128
nsenter -t "$A" -n "$DISCO" tune --rollback --journal "$T/jd" > "$T/rb_a.txt" ||
	fail "rollback A: $(cat "$T/rb_a.txt")"
grep -q "from $JA" "$T/rb_a.txt" || fail "A picked another journal: $(cat "$T/rb_a.txt")"
grep -q "skipped $(basename "$JB"): .*network namespace" "$T/rb_a.txt" || fail "B not listed as skipped"
assert_eq "A restored" "$(in_a)" 16
assert_ge "rolled back recorded" "$(jqv "$JA" .rolled_back_ns)" 1
# nothing left in force in A: a second unnamed rollback refuses
! nsenter -t "$A" -n "$DISCO" tune --rollback --journal "$T/jd" > "$T/rb_a2.txt" 2>&1 ||
	fail "second rollback found something: $(cat "$T/rb_a2.txt")"
grep -q "already rolled back" "$T/rb_a2.txt" || fail "$(cat "$T/rb_a2.txt")"
"$DISCO" tune --journals --journal "$T/jd" --json > "$T/list.json"
assert_eq "both rolled back" "$(jqv "$T/list.json" '[.journals[] | select(.state == "rolled-back")] | length')" 2
assert_eq "host untouched at the end" "$(cat /proc/sys/net/core/somaxconn)" "$host"
