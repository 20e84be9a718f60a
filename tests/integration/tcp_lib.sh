# Helpers for the tcp collector's integration tests (sourced after lib.sh):
# a private network namespace, the traffic fixture, and a session runner.
PEER=$FIXTURES/tcp_peer
[ -x "$PEER" ] || fail "fixture $PEER not built (make $PEER)"
NS=disco-tcp-$$
ip netns add "$NS" 2>/dev/null || skip "cannot create network namespace $NS"
on_exit "ip netns del $NS"
ip netns exec "$NS" ip link set lo up || fail "lo up in $NS"
# A port unlikely to be used by anything else on the machine.
PORT=$((20000 + ($$ % 20000)))
X="ip netns exec $NS"

# record_tcp SCRIPT [disco options]: record SCRIPT (run by bash) system-wide
# with the tcp collector filtered to $PORT; report JSON in $T/report.json.
record_tcp() {
	local script=$1; shift
	"$DISCO" record -e tcp --port "$PORT" "$@" -q -o "$T/s.data" -a -- bash "$script" \
		> "$T/record.out" 2> "$T/record.err" || fail "disco record: $(cat "$T/record.err")"
	"$DISCO" report "$T/s.data" --format json > "$T/report.json" 2> "$T/report.err" ||
		fail "disco report: $(cat "$T/report.err")"
}

# snmp_tcp FIELD: the namespace's own Tcp: counter from /proc/net/snmp
snmp_tcp() {
	$X cat /proc/net/snmp | awk -v f="$1" '
		$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) if ($i == f) c = i; h = 1; next }
		$1 == "Tcp:" && h { print $c; exit }'
}

# lifecycle_traffic N4 N6 REQ RESP [hold]: write $T/traffic.sh, which
# serves and makes N4 IPv4 and N6 IPv6 connections on $PORT in the
# namespace, each client sending REQ bytes and the server answering RESP;
# the pids land in $T/{srv,cli}{4,6}.pid. With "hold", one more IPv4
# connection makes the same exchange and stays open past the script's end
# (its client's pid in $T/hold.pid; killing it lets the IPv4 server end).
lifecycle_traffic() {
	local n4=$1 hold=
	if [ "${5:-}" = hold ]; then
		n4=$(($1 + 1))
		hold="$X $PEER client 127.0.0.1 $PORT 1 $3 $4 hold > $T/hold.out & echo \$! > $T/hold.pid
for i in \$(seq 100); do grep -q held $T/hold.out && break; sleep 0.05; done
grep -q held $T/hold.out"
	fi
	cat > "$T/traffic.sh" <<EOS
set -e
$X $PEER server 127.0.0.1 $PORT $n4 $3 $4 > $T/srv4.out & echo \$! > $T/srv4.pid
$X $PEER server ::1 $PORT $2 $3 $4 first > $T/srv6.out & echo \$! > $T/srv6.pid
for i in \$(seq 100); do grep -q ready $T/srv4.out && grep -q ready $T/srv6.out && break; sleep 0.05; done
$X $PEER client 127.0.0.1 $PORT $1 $3 $4 & echo \$! > $T/cli4.pid; wait \$!
$X $PEER client ::1 $PORT $2 $3 $4 wait & echo \$! > $T/cli6.pid; wait \$!
wait \$(cat $T/srv6.pid)
${hold:-wait}
EOS
}
