#!/usr/bin/env bash
# tcp collector without --port: the state hook then reads a connection's
# ports once and keeps them, so pin that records still carry both ports,
# exact byte counts and the owner, over IPv4 and IPv6, with the followed
# COMMAND as the only filter; with --rtt-per-ack, RTT samples come from
# every ACK processed (tcp_probe) instead of one per connection.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/tcp_lib.sh"

N4=6 N6=3 REQ=4321 RESP=8765
lifecycle_traffic $N4 $N6 $REQ $RESP
"$DISCO" record -e tcp --rtt-per-ack -q -o "$T/s.data" -- bash "$T/traffic.sh" \
	> "$T/record.out" 2> "$T/record.err" || fail "disco record: $(cat "$T/record.err")"
"$DISCO" report "$T/s.data" --format json > "$T/report.json" 2> "$T/report.err" ||
	fail "disco report: $(cat "$T/report.err")"
R=$T/report.json
tcp() { jq -er ".collectors.tcp | $1" "$R" || fail "jq '$1'"; }

for fam in ipv4:$N4:cli4:srv4 ipv6:$N6:cli6:srv6; do
	IFS=: read -r f n cli srv <<< "$fam"
	cpid=$(cat "$T/$cli.pid") spid=$(cat "$T/$srv.pid")
	act=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"active\")]")
	pas=$(tcp "[.connections[] | select(.family == \"$f\" and .direction == \"passive\")]")
	assert_eq "$f active records" "$(jq length <<< "$act")" "$n"
	assert_eq "$f passive records" "$(jq length <<< "$pas")" "$n"
	assert_eq "$f active dport" "$(jq -c '[.[].dport] | unique' <<< "$act")" "[$PORT]"
	assert_eq "$f passive sport" "$(jq -c '[.[].sport] | unique' <<< "$pas")" "[$PORT]"
	assert_eq "$f active sport bound" "$(jq '[.[] | select(.sport == 0)] | length' <<< "$act")" 0
	assert_eq "$f passive dport set" "$(jq '[.[] | select(.dport == 0)] | length' <<< "$pas")" 0
	assert_eq "$f active bytes" "$(jq -c '[.[] | [.tx_bytes, .rx_bytes]] | unique' <<< "$act")" "[[$REQ,$RESP]]"
	assert_eq "$f passive bytes" "$(jq -c '[.[] | [.tx_bytes, .rx_bytes]] | unique' <<< "$pas")" "[[$RESP,$REQ]]"
	assert_eq "$f client pid" "$(jq -c '[.[].pid] | unique' <<< "$act")" "[$cpid]"
	assert_eq "$f server pid" "$(jq -c '[.[].pid] | unique' <<< "$pas")" "[$spid]"
done
assert_eq "pairs" "$(tcp '[.connections[] | select(.direction == "active") | .sport] | sort | join(",")')" \
	"$(tcp '[.connections[] | select(.direction == "passive") | .dport] | sort | join(",")')"
N=$((N4 + N6))
assert_eq "active_opens" "$(tcp '.counters.active_opens')" "$N"
assert_eq "passive_opens" "$(tcp '.counters.passive_opens')" "$N"
assert_eq "closed" "$(tcp '.counters.closed')" $((2 * N))
assert_eq "connect_latency samples" "$(tcp '.connect_latency.count')" "$N"
# per ACK: each connection's request, response and FINs are acked, so
# more samples than connection ends (where tp_btf or raw_tp hooks it)
assert_eq "srtt per ACK" "$(tcp '.srtt_samples')" per_ack
probe=$(tcp '[.hooks[] | select(.hook == "tcp:tcp_probe" or .hook == "tcp:tcp_rcv_space_adjust") | .method // empty] | length')
assert_eq "one RTT hook" "$probe" 1
assert_ge "srtt samples" "$(tcp '.srtt.count')" $((2 * N + 1))
assert_eq "drops" "$(tcp '.drops')" 0
exit 0
