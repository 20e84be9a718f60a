#!/usr/bin/env bash
# Overhead of the offcpu collector: stress-ng --switch 2 throughput
# untraced, under `disco record -e offcpu` (whole machine), under
# libbpf-tools' offcputime, and under empty programs on the same three
# hooks (the floor); then `-e sched` alone and `-e sched,offcpu` (what the
# two cost together at sched_switch), interleaved, medians of ROUNDS each.
# Usage: tests/bench/offcpu.sh [ROUNDS] [SECS]
set -eu
cd "$(dirname "$0")/../.."
. tests/bench/floor_lib.sh
ROUNDS=${1:-3}
SECS=${2:-5}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
build_floor offcpu "$T"

ops() {	# bogo ops/s (real time) from stress-ng's metrics line
	stress-ng --switch 2 -t "$SECS" --metrics-brief 2>&1 |
		awk '$4 == "switch" && $5 ~ /^[0-9]+$/ {print $9; exit}'
}
under_disco() {
	"$DISCO" record -e "$1" -q -f -o "$T/o.data" &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p
}
untraced() { ops; }
offcpu() { under_disco offcpu; }
sched() { under_disco sched; }
sched_offcpu() { under_disco sched,offcpu; }
offcputime() {
	/usr/sbin/offcputime > /dev/null 2>&1 &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p 2>/dev/null || true
}
floor() {
	"$T/empty_hooks" "$T/offcpu_empty.bpf.o" > "$T/floor.out" &
	local p=$!; sleep 1
	grep -q attached "$T/floor.out" || { echo "bench: empty hooks did not attach" >&2; exit 1; }
	ops
	kill $p; wait $p 2>/dev/null || true
}

paired_rounds "$ROUNDS" ops/s "$T/raw" untraced offcpu offcputime floor sched sched_offcpu
