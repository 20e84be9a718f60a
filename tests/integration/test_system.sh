#!/usr/bin/env bash
# -e system end to end: the figures /metrics shows agree with /proc as this
# test reads it (exact for a private loop device and a dummy interface in
# a private network namespace, bracketed for counters that never stop),
# and a recorded session reports them as a timeline.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
need_root
command -v curl >/dev/null || skip "needs curl"
command -v losetup >/dev/null || skip "no losetup"
command -v promtool >/dev/null || skip "needs promtool (package prometheus)"

truncate -s 32M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
on_exit "losetup -d $L"
N=${L#/dev/}

# serve in its own network namespace: only this test's traffic is there
# (a veth pair: v0 sends to a fixed neighbour entry, so no ARP, no IPv6)
unshare -n sh -c 'ip link set lo up && ip link add v0 type veth peer name v1 &&
	sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
	sysctl -qw net.ipv6.conf.v0.disable_ipv6=1 net.ipv6.conf.v1.disable_ipv6=1 &&
	ip addr add 10.99.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up &&
	ip neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent &&
	exec "$0" serve -e system --listen 127.0.0.1:0' "$DISCO" 2> "$T/serve.err" &
spid=$!
on_exit "kill -9 $spid"
serve_wait $spid
inns() { nsenter -t "$spid" -n "$@"; }
scrape() { inns curl -sf -o "$1" "http://$addr/metrics" || fail "scrape failed"; }
# metric value: m FILE 'name{labels}' (0 when absent)
m() { awk -v k="$2" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$1"; }

scrape "$T/a.txt"
promtool check metrics < "$T/a.txt" || fail "promtool check metrics rejects -e system"

# ---- disk: 8 MiB written with O_DIRECT to the loop device ----
dd if=/dev/zero of="$L" bs=1M count=8 oflag=direct status=none || fail "dd"
scrape "$T/b.txt"
read -r _ _ _ r_ios _ r_sec _ w_ios _ w_sec _ < <(awk -v d="$N" '$3 == d' /proc/diskstats)
wb=$(m "$T/b.txt" "disco_system_disk_written_bytes_total{device=\"$N\"}")
assert_eq "written bytes of $N = /proc/diskstats sectors x 512" "$wb" $((w_sec * 512))
wa=$(m "$T/a.txt" "disco_system_disk_written_bytes_total{device=\"$N\"}")
assert_eq "bytes dd wrote to $N" $((wb - wa)) $((8 << 20))
assert_eq "writes completed of $N" "$(m "$T/b.txt" "disco_system_disk_writes_completed_total{device=\"$N\"}")" "$w_ios"
assert_eq "read bytes of $N" "$(m "$T/b.txt" "disco_system_disk_read_bytes_total{device=\"$N\"}")" $((r_sec * 512))

# ---- network: 5 UDP datagrams out of v0 into v1 (nobody answers) ----
inns python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b"x" * 100, ("10.99.0.2", 9))' || fail "sending datagrams"
scrape "$T/c.txt"
inns cat /proc/net/dev | tr ':' ' ' > "$T/netdev"
for d in v0 v1; do
	read -r _ rxb rxp _ _ _ _ _ _ txb txp _ < <(awk -v d=$d '$1 == d' "$T/netdev")
	for f in receive_bytes:$rxb receive_packets:$rxp transmit_bytes:$txb transmit_packets:$txp; do
		assert_eq "$d ${f%%:*} = /proc/net/dev" \
			"$(m "$T/c.txt" "disco_system_network_${f%%:*}_total{device=\"$d\"}")" "${f#*:}"
	done
done
# each datagram: 14 (Ethernet) + 20 (IP) + 8 (UDP) + 100 bytes
delta() { echo $(( $(m "$T/c.txt" "$1") - $(m "$T/b.txt" "$1") )); }
assert_eq "bytes sent out of v0" "$(delta 'disco_system_network_transmit_bytes_total{device="v0"}')" 710
assert_eq "bytes v1 received" "$(delta 'disco_system_network_receive_bytes_total{device="v1"}')" 710
assert_eq "packets v1 received" "$(delta 'disco_system_network_receive_packets_total{device="v1"}')" 5

# ---- TCP states in the namespace: disco's own listener plus one of ours ----
inns python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); time.sleep(30)' &
lpid=$!
on_exit "kill $lpid"
for _ in $(seq 50); do
	[ "$(inns cat /proc/net/tcp | awk '$4 == "0A"' | wc -l)" -ge 2 ] && break
	sleep 0.1
done
scrape "$T/d.txt"
nl=$(inns cat /proc/net/tcp /proc/net/tcp6 | awk '$4 == "0A"' | wc -l)
assert_eq "listening sockets" "$(m "$T/d.txt" 'disco_system_tcp_connection_states{state="listen"}')" "$nl"
assert_eq "listening sockets (disco + python)" "$nl" 2

# ---- counters that never stop: /proc before <= /metrics <= /proc after ----
hz=$(getconf CLK_TCK)
u0=$(awk '$1 == "cpu0" {print $2}' /proc/stat); c0=$(awk '$1 == "ctxt" {print $2}' /proc/stat)
p0=$(sed -n 's/^some .*total=//p' /proc/pressure/io)
scrape "$T/e.txt"
u1=$(awk '$1 == "cpu0" {print $2}' /proc/stat); c1=$(awk '$1 == "ctxt" {print $2}' /proc/stat)
p1=$(sed -n 's/^some .*total=//p' /proc/pressure/io)
us=$(m "$T/e.txt" 'disco_system_cpu_seconds_total{cpu="0",mode="user"}')
assert_ge "cpu0 user seconds" "$us" "$(awk -v t="$u0" -v h="$hz" 'BEGIN{printf "%.6f", t / h}')"
assert_le "cpu0 user seconds" "$us" "$(awk -v t="$u1" -v h="$hz" 'BEGIN{printf "%.6f", t / h}')"
cs=$(m "$T/e.txt" disco_system_context_switches_total)
assert_ge "context switches" "$cs" "$c0"
assert_le "context switches" "$cs" "$c1"
io=$(m "$T/e.txt" disco_system_pressure_io_waiting_seconds_total)
assert_ge "io pressure seconds" "$io" "$(awk -v t="$p0" 'BEGIN{printf "%.6f", t / 1e6}')"
assert_le "io pressure seconds" "$io" "$(awk -v t="$p1" 'BEGIN{printf "%.6f", t / 1e6}')"
mt=$(awk '$1 == "MemTotal:" {printf "%.0f", $2 * 1024}' /proc/meminfo)
assert_eq "memory total" "$(m "$T/e.txt" disco_system_memory_total_bytes | awk '{printf "%.0f", $1}')" "$mt"
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
assert_eq "cpu x mode series" "$(grep -c '^disco_system_cpu_seconds_total{' "$T/e.txt")" $((ncpu * 8))

# ---- record/report: the same figures as a timeline over the session ----
"$DISCO" record -q -e system -o "$T/s.data" -- \
	sh -c "sleep 2.5; dd if=/dev/zero of=$L bs=1M count=4 oflag=direct status=none; sleep 2.2" \
	2> "$T/rec.err" || { cat "$T/rec.err" >&2; fail "disco record"; }
"$DISCO" report "$T/s.data" --format json > "$T/r.json" || fail "disco report"
assert_ge "timeline points" "$(jqv "$T/r.json" '.collectors.system.timeline | length')" 1
assert_ge "bytes written in the timeline" \
	"$(jqv "$T/r.json" '[.collectors.system.timeline[].disk_written_bytes] | add')" $((4 << 20))
"$DISCO" report "$T/s.data" > "$T/r.txt" || fail "disco report (text)"
grep -q "System timeline" "$T/r.txt" || fail "no timeline in the text report"
echo "ok: system figures match /proc"
