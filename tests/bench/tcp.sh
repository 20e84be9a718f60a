#!/usr/bin/env bash
# Overhead of the tcp collector: loopback connection churn (connect, one
# 100-byte request and response, close) in a private network namespace,
# connections/s untraced, under `disco record -e tcp` (whole machine) and
# under libbpf-tools' tcplife, interleaved (A B C A B C ...), medians of
# ROUNDS each, and the median of each round's ratio to its own untraced
# run (paired: cancels this host's drift between minutes). Needs root.
# Usage: [DISCO_BEFORE=disco.old] tests/bench/tcp.sh [ROUNDS] [SECS] [THREADS]
#        (env: MODES="untraced empty disco empty-ack disco-ack disco-nostats
#         before tcplife")
# empty: the collector's tp_btf hooks with empty programs (the floor);
# disco-ack: `--rtt-per-ack` (tcp_probe hooked too), empty-ack its floor;
# before: disco mode with DISCO_BEFORE (e.g. main's), run when it is set.
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
SECS=${2:-10}
THREADS=${3:-2}
DISCO=${DISCO:-./disco}
BEFORE=${DISCO_BEFORE:-}
PEER=${PEER:-.output/fixtures/tcp_peer}
TCPLIFE=${TCPLIFE:-/usr/sbin/tcplife}
[ -x "$PEER" ] || { echo "build $PEER first (make $PEER)" >&2; exit 1; }
T=$(mktemp -d)
NS=disco-tcpbench-$$
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT

# A fresh namespace per run: no TIME_WAIT carried from the previous one.
conns() {
	churn_netns "$NS"
	ip netns exec "$NS" "$PEER" churn 127.0.0.1 5555 "$SECS" "$THREADS" | awk '{print $2}'
}
untraced() { conns; }
under() {
	local d=$1
	shift
	"$d" record -e tcp -q "$@" -f -o "$T/s.data" &
	local p=$!; sleep 1
	conns
	kill -INT $p; wait $p
}
disco() { under "$DISCO" "$@"; }
disco-nostats() { disco --bpf-stats off; }
disco-ack() { disco --rtt-per-ack; }
before() { under "$BEFORE"; }
floor() {
	"$T/empty_hooks" "$T/$1_empty.bpf.o" > "$T/empty.log" &
	local p=$!
	for _ in $(seq 100); do grep -q attached "$T/empty.log" && break; sleep 0.1; done
	grep -q attached "$T/empty.log" || { echo "tcp bench: empty hooks did not attach" >&2; exit 1; }
	conns
	kill $p; wait $p 2>/dev/null || true
}
empty() { floor tcp; }
empty-ack() { floor tcp_ack; }
tcplife() {
	"$TCPLIFE" > /dev/null &
	local p=$!; sleep 1
	conns
	kill -INT $p; wait $p 2>/dev/null || true
}
modes="untraced disco"
[ -n "$BEFORE" ] && modes="$modes before"
[ -x "$TCPLIFE" ] && modes="$modes tcplife"
modes=${MODES:-$modes}
. tests/bench/floor_lib.sh
case " $modes " in *" empty "*) build_floor tcp "$T";; esac
case " $modes " in *" empty-ack "*) build_floor tcp_ack "$T";; esac
paired_rounds "$ROUNDS" conn/s "$T/raw" $modes
