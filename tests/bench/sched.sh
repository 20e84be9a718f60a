#!/usr/bin/env bash
# Overhead of the sched collector: stress-ng --switch throughput untraced,
# under `disco record -e sched` (whole machine) and under libbpf-tools'
# runqlat, interleaved (A B C A B C ...), medians of ROUNDS each.
# Usage: tests/bench/sched.sh [ROUNDS] [SECS]
set -eu
cd "$(dirname "$0")/../.."
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
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for ((i = 1; i <= ROUNDS; i++)); do
	for m in untraced disco runqlat; do
		v=$($m)
		echo "$m $v" >> "$T/raw"
		echo "round $i $m: $v ops/s" >&2
	done
done
base=$(awk '$1 == "untraced" {print $2}' "$T/raw" | median)
printf '%-10s %12s %8s\n' mode "median ops/s" ratio
for m in untraced disco runqlat; do
	med=$(awk -v m=$m '$1 == m {print $2}' "$T/raw" | median)
	printf '%-10s %12.0f %7.1f%%\n' "$m" "$med" "$(echo "$med $base" | awk '{print 100*$1/$2}')"
done
