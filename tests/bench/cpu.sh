#!/usr/bin/env bash
# Overhead of the cpu collector: stress-ng --cpu 2 throughput untraced,
# under `disco record -e cpu -F HZ` (whole machine), and under an empty
# program on the same cpu-clock sampling events (the floor: what the
# sampling interrupts cost), interleaved, medians of ROUNDS each.
# Target: >= 99% of untraced at 99 Hz.
# Usage: tests/bench/cpu.sh [ROUNDS] [SECS] [HZ]
set -eu
cd "$(dirname "$0")/../.."
. tests/bench/floor_lib.sh
ROUNDS=${1:-5}
SECS=${2:-10}
HZ=${3:-99}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
build_floor cpu "$T"

ops() {	# bogo ops/s (real time) from stress-ng's metrics line
	stress-ng --cpu 2 -t "$SECS" --metrics-brief 2>&1 |
		awk '$4 == "cpu" && $5 ~ /^[0-9]+$/ {print $9; exit}'
}
untraced() { ops; }
disco() {
	"$DISCO" record -e cpu -F "$HZ" -q -f -o "$T/c.data" &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p
}
floor() {
	"$T/empty_hooks" "$T/cpu_empty.bpf.o" "$HZ" > "$T/floor.out" &
	local p=$!; sleep 1
	grep -q attached "$T/floor.out" || { echo "bench: empty program did not attach" >&2; exit 1; }
	ops
	kill $p; wait $p 2>/dev/null || true
}

paired_rounds "$ROUNDS" ops/s "$T/raw" untraced disco floor
