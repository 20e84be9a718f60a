#!/usr/bin/env bash
# Overhead of the app collector: wrk against a keep-alive HTTP server
# (tests/fixtures/app_server, GET /fast answers at once) on loopback in a
# private network namespace; requests/s untraced, with the collector's
# hooks holding empty programs (the floor), and under `disco record -e app`,
# interleaved, medians of ROUNDS each and the median of each round's
# ratio to its own untraced run (paired). Then one traced run of /slow
# (20 ms handler) compares disco's p50/p99 with wrk's own. Needs root.
# Usage: tests/bench/app.sh [ROUNDS] [SECS] [CONNS]  (env: MODES="untraced empty disco")
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
SECS=${2:-5}
CONNS=${3:-8}
DISCO=${DISCO:-./disco}
SRV=${SRV:-.output/fixtures/app_server}
[ -x "$SRV" ] || { echo "build $SRV first (make $SRV)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "app bench: wrk not installed (make deps)" >&2; exit 1; }
T=$(mktemp -d)
NS=disco-appbench-$$
trap 'kill $(cat "$T/srv.pid" 2>/dev/null) 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$SRV" http "$T/port" & echo $! > "$T/srv.pid"
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")

# requests/s of one wrk run (its own count, as it reports it)
reqs() {
	ip netns exec "$NS" wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT${1:-/fast}" |
		awk '/^Requests\/sec:/ {print $2}'
}
untraced() { reqs; }
disco() {
	"$DISCO" record -e app -q --port "$PORT" -f -o "$T/s.data" 2> "$T/rec.err" &
	local p=$!; sleep 5
	reqs
	kill -INT $p; wait $p
}
empty() {
	"$T/empty_hooks" "$T/app_empty.bpf.o" > "$T/empty.log" &
	local p=$!
	for _ in $(seq 100); do grep -q attached "$T/empty.log" && break; sleep 0.1; done
	grep -q attached "$T/empty.log" || { echo "app bench: empty hooks did not attach" >&2; exit 1; }
	reqs
	kill $p; wait $p 2>/dev/null || true
}
modes=${MODES:-untraced empty disco}
. tests/bench/floor_lib.sh
case " $modes " in *" empty "*) build_floor app "$T";; esac
paired_rounds "$ROUNDS" req/s "$T/raw" $modes

# latency agreement on /slow: wrk's latency is client-side (it adds the
# loopback round trip and wrk's own scheduling); disco's is server-side
# first byte in -> last byte out
"$DISCO" record -e app -q --port "$PORT" -f -o "$T/lat.data" 2> "$T/rec.err" &
p=$!; sleep 5
ip netns exec "$NS" wrk -t1 -c2 -d"${SECS}s" --latency "http://127.0.0.1:$PORT/slow" > "$T/wrk.out"
kill -INT $p; wait $p
"$DISCO" report "$T/lat.data" --format json > "$T/lat.json"
echo "/slow latency: wrk (client side) vs disco (server side)"
awk '/^ +50%/ {print "  wrk   p50 " $2} /^ +99%/ {print "  wrk   p99 " $2}' "$T/wrk.out"
jq -r --argjson port "$PORT" '.collectors.app.routes[] | select(.port == $port and .route == "/slow") |
	"  disco p50 \(.latency.p50_ns / 1e6)ms\n  disco p99 \(.latency.p99_ns / 1e6)ms\n  disco count \(.latency.count)"' "$T/lat.json"
awk '/requests in/ {print "  wrk   count " $1}' "$T/wrk.out"
