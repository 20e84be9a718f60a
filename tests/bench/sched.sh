#!/usr/bin/env bash
# Overhead of the sched collector: stress-ng --switch throughput untraced,
# under `disco record -e sched` (whole machine) and under libbpf-tools'
# runqlat, interleaved (A B C A B C ...), medians of ROUNDS each.
# Usage: tests/bench/sched.sh [ROUNDS] [SECS]
set -eu
cd "$(dirname "$0")/../.."
. tests/bench/floor_lib.sh
ROUNDS=${1:-3}
SECS=${2:-5}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ops() {	# bogo ops/s (real time) from stress-ng's metrics line
	stress-ng --switch 2 -t "$SECS" --metrics-brief 2>&1 |
		awk '$4 == "switch" && $5 ~ /^[0-9]+$/ {print $9; exit}'
}
untraced() { ops; }
disco() {
	"$DISCO" record -e sched -q -f -o "$T/s.data" &
	local p=$!; sleep 1
	ops
	kill -INT $p; wait $p
}
runqlat() {
	/usr/sbin/runqlat > /dev/null &
	local p=$!; sleep 1
	ops
	kill -INT $p; wait $p 2>/dev/null || true
}

paired_rounds "$ROUNDS" ops/s "$T/raw" untraced disco runqlat
