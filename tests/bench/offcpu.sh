#!/usr/bin/env bash
# Overhead of the offcpu collector, alone and with sched (whose
# sched_switch program then does offcpu's part too): stress-ng --switch 2
# throughput untraced; under empty programs on offcpu's hooks (floor) and
# on the hooks of sched and offcpu together (floor_both); under `disco
# record -e offcpu`, `-e sched` and `-e sched,offcpu` (whole machine); under
# libbpf-tools' offcputime. With DISCO_BEFORE=path (an older disco, e.g.
# main's), offcpu_before and sched_offcpu_before run that one too, in the
# same rounds. Interleaved, medians of ROUNDS each. METRIC=cpu counts
# bogo ops per second of CPU time (usr+sys) instead of real time: the
# programs run in the switching tasks' own time, and other work on the
# machine takes CPU away without changing it, so it is the steadier
# figure on a shared machine.
# Usage: [DISCO_BEFORE=disco.old] [METRIC=real|cpu] tests/bench/offcpu.sh [ROUNDS] [SECS]
set -eu
cd "$(dirname "$0")/../.."
. tests/bench/floor_lib.sh
ROUNDS=${1:-3}
SECS=${2:-5}
DISCO=${DISCO:-./disco}
BEFORE=${DISCO_BEFORE:-}
case ${METRIC:-real} in
real) col=9 ;;
cpu) col=10 ;;
*) echo "bench: METRIC is real or cpu" >&2; exit 2 ;;
esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
build_floor offcpu "$T"
build_floor sched_offcpu "$T"

ops() {	# bogo ops/s (real or usr+sys time) from stress-ng's metrics line
	stress-ng --switch 2 -t "$SECS" --metrics-brief 2>&1 |
		awk -v c="$col" '$4 == "switch" && $5 ~ /^[0-9]+$/ {print $c; exit}'
}
under_disco() {	# BINARY COLLECTORS
	"$1" record -e "$2" -q -f -o "$T/o.data" &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p
}
under_floor() {	# NAME: empty programs of tests/bench/NAME_empty.bpf.c
	"$T/empty_hooks" "$T/$1_empty.bpf.o" > "$T/floor.out" &
	local p=$!; sleep 1
	grep -q attached "$T/floor.out" || { echo "bench: empty hooks did not attach" >&2; exit 1; }
	ops
	kill $p; wait $p 2>/dev/null || true
}
untraced() { ops; }
floor() { under_floor offcpu; }
floor_both() { under_floor sched_offcpu; }
offcpu() { under_disco "$DISCO" offcpu; }
sched() { under_disco "$DISCO" sched; }
sched_offcpu() { under_disco "$DISCO" sched,offcpu; }
offcpu_before() { under_disco "$BEFORE" offcpu; }
sched_offcpu_before() { under_disco "$BEFORE" sched,offcpu; }
offcputime() {
	/usr/sbin/offcputime > /dev/null 2>&1 &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p 2>/dev/null || true
}

modes="untraced floor offcpu offcputime floor_both sched sched_offcpu"
[ -n "$BEFORE" ] && modes="$modes offcpu_before sched_offcpu_before"
# shellcheck disable=SC2086
paired_rounds "$ROUNDS" ops/s "$T/raw" $modes
