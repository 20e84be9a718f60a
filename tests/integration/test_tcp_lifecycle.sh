#!/usr/bin/env bash
# tcp collector: one lifecycle record per connection end with exact byte
# counts, ports, owner pid/comm and a connect-latency sample per connect,
# over IPv4 and IPv6, in a private network namespace.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/tcp_lib.sh"

N4=10 N6=4 REQ=12345 RESP=54321
lifecycle_traffic $N4 $N6 $REQ $RESP
record_tcp "$T/traffic.sh"
R=$T/report.json
tcp() { jq -er ".collectors.tcp | $1" "$R" || fail "jq '$1'"; }

# one record per end: the client's (active, remote port = PORT) and the server's
for fam in ipv4:$N4:cli4:srv4 ipv6:$N6:cli6:srv6; do
	IFS=: read -r f n cli srv <<< "$fam"
	cpid=$(cat "$T/$cli.pid") spid=$(cat "$T/$srv.pid")
	act=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"active\" and .dport == $PORT)]")
	pas=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"passive\" and .sport == $PORT)]")
	assert_eq "$f active records" "$(jq length <<< "$act")" "$n"
	assert_eq "$f passive records" "$(jq length <<< "$pas")" "$n"
	assert_eq "$f active tx_bytes" "$(jq -c '[.[].tx_bytes] | unique' <<< "$act")" "[$REQ]"
	assert_eq "$f active rx_bytes" "$(jq -c '[.[].rx_bytes] | unique' <<< "$act")" "[$RESP]"
	assert_eq "$f passive tx_bytes" "$(jq -c '[.[].tx_bytes] | unique' <<< "$pas")" "[$RESP]"
	assert_eq "$f passive rx_bytes" "$(jq -c '[.[].rx_bytes] | unique' <<< "$pas")" "[$REQ]"
	assert_eq "$f client pid" "$(jq -c '[.[].pid] | unique' <<< "$act")" "[$cpid]"
	assert_eq "$f server pid" "$(jq -c '[.[].pid] | unique' <<< "$pas")" "[$spid]"
	assert_eq "$f comm" "$(jq -c '[.[].comm] | unique' <<< "$act$pas" | jq -sc 'add | unique')" '["tcp_peer"]'
	assert_eq "$f local ports bound" "$(jq '[.[] | select(.sport == 0)] | length' <<< "$act")" 0
	assert_eq "$f connect latency on active only" \
		"$(jq '[.[] | select(.connect_latency_ns > 0)] | length' <<< "$act$pas" | jq -s 'add')" "$n"
	assert_eq "$f durations" "$(jq '[.[] | select(.duration_ns > 0)] | length' <<< "$act$pas" | jq -s 'add')" $((2 * n))
done
# IPv6 addresses are printed as such; ports are paired client <-> server
assert_eq "ipv6 daddr" "$(tcp '[.connections[] | select(.family == "ipv6") | .daddr] | unique | join(",")')" "::1"
assert_eq "pairs" "$(tcp '[.connections[] | select(.direction == "active") | .sport] | sort | join(",")')" \
	"$(tcp '[.connections[] | select(.direction == "passive") | .dport] | sort | join(",")')"
# the server closes first over IPv6, so its end saw FIN_WAIT2 -> CLOSE
assert_eq "ipv6 server end" "$(tcp '[.connections[] | select(.family == "ipv6" and .direction == "passive") | .final_state] | unique | join(",")')" "FIN_WAIT2"

N=$((N4 + N6))
assert_eq "connect_latency samples" "$(tcp '.connect_latency.count')" "$N"
assert_eq "active_opens" "$(tcp '.counters.active_opens')" "$N"
assert_eq "passive_opens" "$(tcp '.counters.passive_opens')" "$N"
assert_eq "closed" "$(tcp '.counters.closed')" $((2 * N))
assert_eq "connection_duration samples" "$(tcp '.connection_duration.count')" $((2 * N))
assert_ge "srtt samples" "$(tcp '.srtt.count')" 1
assert_eq "drops" "$(tcp '.drops')" 0
tcp '.netstat_delta | has("ListenOverflows") and has("ListenDrops") and has("TCPBacklogDrop") and has("PruneCalled") and has("RcvPruned")' >/dev/null
# the text report shows the endpoint table and the lifecycle table
"$DISCO" report "$T/s.data" -e tcp > "$T/report.txt" || fail "text report"
grep -q "Top remote endpoints" "$T/report.txt" || fail "no endpoint table"
grep -q "127.0.0.1 ($PORT)" "$T/report.txt" || fail "no 127.0.0.1 endpoint"
grep -q "Longest connections" "$T/report.txt" || fail "no lifecycle table"
exit 0
