#!/usr/bin/env bash
# tcp collector: a connect to a closed port is a reset received (and the
# namespace's kernel sends one); a server closing a socket with unread data
# sends a reset. Counters and the lifecycle records' flags must say so.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/tcp_lib.sh"

cat > "$T/traffic.sh" <<EOS
$X $PEER refused 127.0.0.1 $PORT || exit 1
$X $PEER server 127.0.0.1 $PORT 1 50000 0 unread > $T/srv.out & s=\$!
for i in \$(seq 100); do grep -q ready $T/srv.out && break; sleep 0.05; done
$X $PEER client 127.0.0.1 $PORT 1 50000 0 || exit 1
wait \$s
EOS
out_rst0=$(snmp_tcp OutRsts)
record_tcp "$T/traffic.sh"
out_rst=$(( $(snmp_tcp OutRsts) - out_rst0 ))
R=$T/report.json
tcp() { jq -er ".collectors.tcp | $1" "$R" || fail "jq '$1'"; }

assert_eq "resets_received" "$(tcp '.counters.resets_received')" 1
# one for the refused SYN (no socket), one for the unread close
assert_eq "resets_sent" "$(tcp '.counters.resets_sent')" 2
assert_eq "resets_sent vs netns OutRsts" "$(tcp '.counters.resets_sent')" "$out_rst"
assert_eq "connect_failed" "$(tcp '.counters.connect_failed')" 1
refused=$(tcp "[.connections[] | select(.final_state == \"SYN_SENT\")]")
assert_eq "refused record" "$(jq length <<< "$refused")" 1
assert_eq "refused flags" "$(jq -c '.[0] | [.reset_received, .direction, .dport, .tx_bytes, .connect_latency_ns]' <<< "$refused")" \
	"[true,\"active\",$PORT,0,0]"
assert_ge "refused local port" "$(jq '.[0].sport' <<< "$refused")" 1
unread=$(tcp "[.connections[] | select(.direction == \"passive\")]")
assert_eq "unread record" "$(jq length <<< "$unread")" 1
assert_eq "unread flags" "$(jq -c '.[0] | [.reset_sent, .rx_bytes, .tx_bytes]' <<< "$unread")" "[true,50000,0]"
exit 0
