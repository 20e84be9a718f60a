#!/usr/bin/env bash
# tcp collector against the anchor: libbpf-tools' tcplife watching the same
# connections (IPv4 and IPv6) sees the same number of lifecycle records and
# the same byte totals (tcplife prints KiB with two decimals of raw
# sequence-space counts, so each record may differ by its rounding and the
# SYN/FIN bytes disco strips).
. "$(dirname "$0")/lib.sh"
need_root
TCPLIFE=${TCPLIFE:-/usr/sbin/tcplife}
[ -x "$TCPLIFE" ] || skip "tcplife (libbpf-tools) not installed"
. "$(dirname "$0")/tcp_lib.sh"
# tcplife's classic tracepoints need tracefs; disco check mounts it
"$DISCO" check >/dev/null 2>&1
[ -d /sys/kernel/tracing/events ] || skip "tracefs not mounted"

stdbuf -oL "$TCPLIFE" -w > "$T/tcplife.out" 2> "$T/tcplife.err" &
tl=$!
on_exit "kill -INT $tl"
for _ in $(seq 300); do grep -q "^PID" "$T/tcplife.out" && break; sleep 0.1; done
grep -q '^PID' "$T/tcplife.out" || fail "tcplife did not start: $(cat "$T/tcplife.err")"

cat > "$T/traffic.sh" <<EOS
$X $PEER server 127.0.0.1 $PORT 6 7000 90000 > $T/s4.out & a=\$!
$X $PEER server ::1 $PORT 4 150000 3000 first > $T/s6.out & b=\$!
for i in \$(seq 100); do grep -q ready $T/s4.out && grep -q ready $T/s6.out && break; sleep 0.05; done
$X $PEER client 127.0.0.1 $PORT 6 7000 90000 || exit 1
$X $PEER client ::1 $PORT 4 150000 3000 wait || exit 1
wait \$a \$b
EOS
record_tcp "$T/traffic.sh"
sleep 0.5
kill -INT $tl
wait $tl 2>/dev/null
awk -v p="$PORT" '$1 ~ /^[0-9]+$/ && ($4 == p || $6 == p)' "$T/tcplife.out" > "$T/tl.ours"
tl_n=$(wc -l < "$T/tl.ours")
tl_tx=$(awk '{ s += $7 } END { printf "%.2f", s }' "$T/tl.ours")
tl_rx=$(awk '{ s += $8 } END { printf "%.2f", s }' "$T/tl.ours")
R=$T/report.json
d_n=$(jqv "$R" '.collectors.tcp.connections | length')
d_tx=$(jqv "$R" '[.collectors.tcp.connections[].tx_bytes] | add / 1024')
d_rx=$(jqv "$R" '[.collectors.tcp.connections[].rx_bytes] | add / 1024')
echo "tcplife: $tl_n records, tx $tl_tx KiB, rx $tl_rx KiB; disco: $d_n records, tx $d_tx KiB, rx $d_rx KiB"
assert_eq "records" "$d_n" "$tl_n"
assert_eq "records" "$d_n" 20
tol=$(awk -v n="$d_n" 'BEGIN { print n * 0.01 }')
for x in "tx $d_tx $tl_tx" "rx $d_rx $tl_rx"; do
	set -- $x
	awk -v a="$2" -v b="$3" -v t="$tol" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
		fail "$1 totals: disco $2 KiB vs tcplife $3 KiB"
done
# and the same set of (local port, remote port) pairs
jqv "$R" '.collectors.tcp.connections[] | "\(.sport) \(.dport)"' | sort > "$T/d.pairs"
awk '{ print $4, $6 }' "$T/tl.ours" | sort > "$T/t.pairs"
cmp -s "$T/d.pairs" "$T/t.pairs" || fail "port pairs differ: $(diff "$T/d.pairs" "$T/t.pairs" | head -5)"
exit 0
