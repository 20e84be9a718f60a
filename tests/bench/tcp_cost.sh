#!/usr/bin/env bash
# What the tcp collector's programs cost per connection, beside empty
# programs on the same hooks, in one run: both attached at once while
# tcp_peer churns loopback connections in a private namespace, BPF run-time
# statistics on (disco --bpf-stats on holds them for the session), and per
# program its runs per connection, ns per run and ns per connection. Run
# times do not drift with the host's speed as throughput does, so this
# resolves the few points between the floor and disco that tcp.sh cannot
# on a busy machine. Statistics add ~25 ns to every run of both. Needs root.
# Usage: tests/bench/tcp_cost.sh [SECS] [THREADS]
#        (env: ACK=1: disco --rtt-per-ack, beside empty programs on its hooks)
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-5}
THREADS=${2:-2}
DISCO=${DISCO:-./disco}
PEER=${PEER:-.output/fixtures/tcp_peer}
[ -x "$PEER" ] || { echo "build $PEER first (make $PEER)" >&2; exit 1; }
T=$(mktemp -d)
NS=disco-tcpcost-$$
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
. tests/bench/floor_lib.sh
if [ -n "${ACK:-}" ]; then floor=tcp_ack ack=--rtt-per-ack; else floor=tcp ack=; fi
build_floor $floor "$T"
churn_netns "$NS"

"$T/empty_hooks" "$T/${floor}_empty.bpf.o" > "$T/empty.log" &
pids+=($!)
for _ in $(seq 100); do grep -q attached "$T/empty.log" && break; sleep 0.1; done
grep -q attached "$T/empty.log" || { echo "tcp_cost: empty hooks did not attach" >&2; exit 1; }
"$DISCO" record -e tcp $ack --bpf-stats on -q -f -o "$T/s.data" &
dpid=$!
pids+=($dpid)
sleep 1
conns=$(ip netns exec "$NS" "$PEER" churn 127.0.0.1 5555 "$SECS" "$THREADS" | awk '{print $1}')
# the empty programs from the kernel (their names are this bench's own),
# disco's from its report (exact with statistics on all session)
bpftool -j prog show | jq '[.[] | select((.name | test("^empty_")) and (.run_cnt // 0) > 0) |
	{name, run_count: .run_cnt, run_time_ns}]' > "$T/empty.json"
kill -INT "$dpid"
wait "$dpid"
"$DISCO" report "$T/s.data" --format json |
	jq '[.collectors.tcp.programs[] | select(.run_count > 0) | {name, run_count, run_time_ns}]' > "$T/disco.json"
echo "$conns connections in $SECS s"
jq -rs --argjson c "$conns" '
	def per_conn: map(.run_time_ns) | add / $c | floor;
	(add[] | "  \(.name): \(.run_count / $c * 100 | floor / 100) runs/conn, \(.run_time_ns / .run_count | floor) ns/run, \(.run_time_ns / $c | floor) ns/conn"),
	"disco \(.[1] | per_conn) ns/conn, empty floor \(.[0] | per_conn) ns/conn"' "$T/empty.json" "$T/disco.json"
