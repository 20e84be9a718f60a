#!/usr/bin/env bash
# Overhead of the offcpu collector: stress-ng --switch 2 throughput
# untraced, under `disco record -e offcpu` (whole machine), under
# libbpf-tools' offcputime, and under empty programs on the same three
# hooks (the floor), interleaved, medians of ROUNDS each.
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
untraced() { ops; }
disco() {
	"$DISCO" record -e offcpu -q -f -o "$T/o.data" &
	local p=$!; sleep 2
	ops
	kill -INT $p; wait $p
}
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
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for ((i = 1; i <= ROUNDS; i++)); do
	for m in untraced disco offcputime floor; do
		v=$($m)
		echo "$m $v $i" >> "$T/raw"
		echo "round $i $m: $v ops/s" >&2
	done
done
base=$(awk '$1 == "untraced" {print $2}' "$T/raw" | median)
# paired: the median over rounds of each round's ratio to its own untraced
# run, steadier than the ratio of medians when the machine's speed drifts
printf '%-10s %12s %8s %8s\n' mode "median ops/s" ratio paired
for m in untraced disco offcputime floor; do
	med=$(awk -v m=$m '$1 == m {print $2}' "$T/raw" | median)
	paired=$(awk -v m=$m '$1 == "untraced" {u[$3] = $2} $1 == m {v[$3] = $2}
		END {for (r in v) if (u[r] > 0) print 100 * v[r] / u[r]}' "$T/raw" | median)
	printf '%-10s %12.0f %7.1f%% %7.1f%%\n' "$m" "$med" "$(echo "$med $base" | awk '{print 100*$1/$2}')" "$paired"
done
