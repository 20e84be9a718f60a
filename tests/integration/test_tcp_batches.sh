#!/usr/bin/env bash
# tcp collector: closed connections' records wait in per-CPU batches in
# the kernel and go to the ring a batch at a time. Pin that every record
# arrives exactly once with its exact bytes, that they reach the session
# file while the session still runs (full batches, and the partial ones
# flushed at each state snapshot), and the same with the classic
# tracepoint and raw_tp programs.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/tcp_lib.sh"

N=150 REQ=1000 RESP=3000
cat > "$T/traffic.sh" <<EOS
set -e
$X $PEER server 127.0.0.1 $PORT $N $REQ $RESP > $T/srv.out & echo \$! > $T/srv.pid
for i in \$(seq 100); do grep -q ready $T/srv.out && break; sleep 0.05; done
$X $PEER client 127.0.0.1 $PORT $N $REQ $RESP
wait \$(cat $T/srv.pid)
EOS

# records NAME: lifecycle records in the session file NAME (it may be
# being written), 0 while it reports nothing yet
records() {
	"$DISCO" report "$1" --format json 2>/dev/null | jq '.collectors.tcp.lifecycle_records // 0' 2>/dev/null || echo 0
}

# the recorder of a failed round is not left running
REC=
on_exit '[ -z "$REC" ] || kill -INT "$REC" 2>/dev/null'
for method in "" tp raw_tp; do
	what=${method:-default}
	out=$T/$what.data
	DISCO_FORCE_METHOD=$method "$DISCO" record -e tcp --port "$PORT" --bpf-stats on -q -o "$out" \
		2> "$T/$what.err" &
	REC=$!
	for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
	sleep 1	# attached (the file's header is written before)
	bash "$T/traffic.sh" || fail "$what: traffic"
	seen=0
	for i in $(seq 100); do
		seen=$(records "$out")
		[ "$seen" -ge $((2 * N)) ] && break
		sleep 0.2
	done
	assert_eq "$what: records in the file during the session" "$seen" $((2 * N))
	kill -INT "$REC"
	wait "$REC" || fail "$what: disco record: $(cat "$T/$what.err")"
	REC=
	"$DISCO" report "$out" --format json > "$T/$what.json" || fail "$what: report"
	tcp() { jq -er ".collectors.tcp | $1" "$T/$what.json" || fail "jq '$1'"; }
	assert_eq "$what: records" "$(tcp '.connections | length')" $((2 * N))
	assert_eq "$what: closed" "$(tcp '.counters.closed')" $((2 * N))
	assert_eq "$what: drops" "$(tcp '.drops')" 0
	assert_eq "$what: bytes" "$(tcp '[.connections[] | [.direction, .tx_bytes, .rx_bytes]] | unique | map(tostring) | join(" ")')" \
		"[\"active\",$REQ,$RESP] [\"passive\",$RESP,$REQ]"
	# once each: every client port once per direction
	assert_eq "$what: distinct ends" "$(tcp '[.connections[] | [.direction, (if .direction == "active" then .sport else .dport end)]] | unique | length')" $((2 * N))
	assert_ge "$what: flushes" "$(tcp '[.programs[] | select(.name == "tcp_flush") | .run_count] | add // 0')" 1
done
exit 0
