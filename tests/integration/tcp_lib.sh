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
