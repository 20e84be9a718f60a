#!/usr/bin/env bash
# tcp collector: one lifecycle record per connection end with exact byte
# counts, ports, owner pid/comm and a connect-latency sample per connect,
# over IPv4 and IPv6, in a private network namespace; a connection still
# open when the session ends is reported from the slot table, once.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/tcp_lib.sh"

N4=10 N6=4 REQ=12345 RESP=54321
lifecycle_traffic $N4 $N6 $REQ $RESP hold
on_exit 'kill $(cat "$T/hold.pid")'
record_tcp "$T/traffic.sh"
R=$T/report.json
tcp() { jq -er ".collectors.tcp | $1" "$R" || fail "jq '$1'"; }

# the connection still open at the end: one record per end, from the
# slot table, with its bytes so far and its state then
open=$(tcp '[.connections[] | select(.open_at_end)]')
hpid=$(cat "$T/hold.pid")
assert_eq "open records" "$(jq length <<< "$open")" 2
assert_eq "open active end" "$(jq -c '[.[] | select(.direction == "active") | [.pid, .tx_bytes, .rx_bytes, .dport, .final_state]]' <<< "$open")" \
	"[[$hpid,$REQ,$RESP,$PORT,\"ESTABLISHED\"]]"
assert_eq "open passive end" "$(jq -c '[.[] | select(.direction == "passive") | [.tx_bytes, .rx_bytes, .sport, .final_state]]' <<< "$open")" \
	"[[$RESP,$REQ,$PORT,\"ESTABLISHED\"]]"
assert_eq "open pair" "$(jq -c '[.[] | select(.direction == "active") | .sport]' <<< "$open")" \
	"$(jq -c '[.[] | select(.direction == "passive") | .dport]' <<< "$open")"
assert_eq "open ages" "$(jq '[.[] | select(.duration_ns > 0)] | length' <<< "$open")" 2
assert_eq "open_at_end" "$(tcp '.open_at_end')" 2
# and the other records are the closed connections' ones
assert_eq "records" "$(tcp '.connections | length')" $((2 * (N4 + N6) + 2))

# one record per end: the client's (active, remote port = PORT) and the server's
for fam in ipv4:$N4:cli4:srv4 ipv6:$N6:cli6:srv6; do
	IFS=: read -r f n cli srv <<< "$fam"
	cpid=$(cat "$T/$cli.pid") spid=$(cat "$T/$srv.pid")
	act=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"active\" and .dport == $PORT and (.open_at_end | not))]")
	pas=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"passive\" and .sport == $PORT and (.open_at_end | not))]")
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
# the held connection opened in the session too
assert_eq "connect_latency samples" "$(tcp '.connect_latency.count')" $((N + 1))
assert_eq "active_opens" "$(tcp '.counters.active_opens')" $((N + 1))
assert_eq "passive_opens" "$(tcp '.counters.passive_opens')" $((N + 1))
assert_eq "closed" "$(tcp '.counters.closed')" $((2 * N))
assert_eq "connection_duration samples" "$(tcp '.connection_duration.count')" $((2 * N))
# RTT once per connection (no --rtt-per-ack): a sample for each record
# with one, open connections' included; the per-ACK hook stays off
assert_eq "srtt per connection" "$(tcp '.srtt_samples')" per_connection
assert_eq "srtt samples" "$(tcp '.srtt.count')" "$(tcp '[.connections[] | select(.srtt_ns > 0)] | length')"
assert_ge "srtt samples" "$(tcp '.srtt.count')" $((2 * N))
assert_eq "tcp_probe off" "$(tcp '[.hooks[] | select(.hook == "tcp:tcp_probe") | .method] | .[0] | tostring')" null
assert_eq "drops" "$(tcp '.drops')" 0
tcp '.netstat_delta | has("ListenOverflows") and has("ListenDrops") and has("TCPBacklogDrop") and has("PruneCalled") and has("RcvPruned")' >/dev/null
# the text report shows the endpoint table and the lifecycle table
"$DISCO" report "$T/s.data" -e tcp > "$T/report.txt" || fail "text report"
grep -q "Top remote endpoints" "$T/report.txt" || fail "no endpoint table"
grep -q "127.0.0.1 ($PORT)" "$T/report.txt" || fail "no 127.0.0.1 endpoint"
grep -q "Longest connections" "$T/report.txt" || fail "no lifecycle table"
grep -q "smoothed RTT (per conn) *$(tcp '.srtt.count') " "$T/report.txt" || fail "RTT row not per connection: $(grep 'smoothed RTT' "$T/report.txt")"
grep -q "2 still open at the end" "$T/report.txt" || fail "no count of open connections"
grep -q "ESTABLISHED (open at end)" "$T/report.txt" || fail "open connection not marked"
exit 0
