#!/usr/bin/env bash
# disco tune in a private network namespace: a listener that never accepts
# overflows its accept queue; tune recommends raising net.core.somaxconn and
# quotes the overflow count; --apply changes it in that namespace only;
# --rollback restores it. The host's own somaxconn is never touched.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "no unshare"
[ -x "$FIXTURES/tune_listen" ] || fail "missing fixture tune_listen (make integration builds it)"

host_before=$(cat /proc/sys/net/core/somaxconn)
cat > "$T/inner.sh" <<INNER
set -eu
ip link set lo up
echo 16 > /proc/sys/net/core/somaxconn
"$FIXTURES/tune_listen" 5555 1000 600 5 > "$T/listen.out" &
L=\$!
trap 'kill \$L' EXIT
while ! grep -q ready "$T/listen.out"; do sleep 0.05; done
"$DISCO" tune --no-sample -d 2 --only sysctl --json > "$T/dry.json"
cat /proc/sys/net/core/somaxconn > "$T/after_dry"
"$DISCO" tune --no-sample -d 2 --rule somaxconn --apply --journal "$T/j1.json" > "$T/apply.txt"
cat /proc/sys/net/core/somaxconn > "$T/after_apply"
"$DISCO" tune --rollback "$T/j1.json" > "$T/rollback.txt"
cat /proc/sys/net/core/somaxconn > "$T/after_rollback"
INNER
unshare -n bash "$T/inner.sh" || { cat "$T"/*.txt 2>/dev/null; fail "inner script failed"; }

assert_eq "dry-run schema" "$(jqv "$T/dry.json" .schema)" "disco.tune/1"
n=$(jqv "$T/dry.json" '[.proposals[] | select(.knob == "net.core.somaxconn")] | length')
assert_eq "somaxconn proposals" "$n" 1
assert_eq "current" "$(jqv "$T/dry.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .current')" 16
assert_eq "proposed" "$(jqv "$T/dry.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .proposed')" 128
ovf=$(jqv "$T/dry.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .evidence.listen_overflows')
assert_ge "listen_overflows" "$ovf" 1
jqv "$T/dry.json" '.proposals[] | select(.knob == "net.core.somaxconn") | .why' | grep -q "^$ovf connections overflowed" ||
	fail "why does not quote the overflow count $ovf"
assert_eq "dry run changed nothing" "$(cat "$T/after_dry")" 16
assert_eq "applied in the namespace" "$(cat "$T/after_apply")" 128
assert_eq "rolled back" "$(cat "$T/after_rollback")" 16
grep -q "restored 16" "$T/rollback.txt" || fail "rollback output: $(cat "$T/rollback.txt")"
[ "$(stat -c %a "$T/j1.json")" = 600 ] || fail "journal mode $(stat -c %a "$T/j1.json")"
assert_eq "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host_before"
