#!/usr/bin/env bash
# A failure injected in the middle of `disco tune --apply` (a knob made
# read-only by a bind mount, in private net and mount namespaces) leaves
# every knob as it was, and the command exits 1.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "no unshare"
[ -x "$FIXTURES/tune_listen" ] || fail "missing fixture tune_listen"

host=$(cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)
cat > "$T/inner.sh" <<INNER
set -u
mount --make-rprivate / 2>/dev/null
ip link set lo up
echo 16 > /proc/sys/net/core/somaxconn
echo "40000 40199" > /proc/sys/net/ipv4/ip_local_port_range
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
knob=/proc/sys/net/ipv4/tcp_tw_reuse
mount --bind \$knob \$knob && mount -o remount,ro,bind \$knob || exit 3
"$FIXTURES/tune_listen" 5556 1000 180 10 > "$T/listen.out" &
L=\$!
trap 'kill \$L' EXIT
while ! grep -q ready "$T/listen.out"; do sleep 0.05; done
"$DISCO" tune --no-sample -d 2 --only sysctl --apply --journal "$T/j.json" > "$T/apply.txt" 2> "$T/apply.err"
echo \$? > "$T/rc"
cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse > "$T/after"
INNER
unshare -n -m bash "$T/inner.sh"
rc=$?
[ $rc = 3 ] && skip "cannot make a /proc/sys knob read-only with a bind mount here"
[ $rc = 0 ] || fail "inner script failed ($rc)"

cat "$T/apply.txt" "$T/apply.err"
assert_eq "exit status" "$(cat "$T/rc")" 1
# all three were planned, the first two applied, the third failed
for k in net.core.somaxconn net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse; do
	jqv "$T/j.json" ".changes[] | select(.knob == \"$k\") | .new" >/dev/null
done
grep -q "net.core.somaxconn: 16 -> 128" "$T/apply.txt" || fail "somaxconn was not applied first"
grep -q "net.ipv4.tcp_tw_reuse: setting 1 failed" "$T/apply.txt" || fail "no failure reported"
grep -q "net.core.somaxconn: restored 16" "$T/apply.txt" || fail "somaxconn not restored"
assert_eq "knobs after failed apply" "$(cat "$T/after" | tr '\t\n' '  ')" "16 40000 40199 0 "
assert_eq "host knobs untouched" "$(cat /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse)" "$host"
