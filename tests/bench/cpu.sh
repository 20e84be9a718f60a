#!/usr/bin/env bash
# Overhead of the cpu collector: stress-ng --cpu 2 throughput untraced and
# under `disco record -e cpu -F HZ` (whole machine), interleaved (A B A B
# ...), medians of ROUNDS each. Target: >= 99% of untraced at 99 Hz.
# Usage: tests/bench/cpu.sh [ROUNDS] [SECS] [HZ]
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
SECS=${2:-10}
HZ=${3:-99}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

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
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for ((i = 1; i <= ROUNDS; i++)); do
	for m in untraced disco; do
		v=$($m)
		echo "$m $v $i" >> "$T/raw"
		echo "round $i $m: $v ops/s" >&2
	done
done
base=$(awk '$1 == "untraced" {print $2}' "$T/raw" | median)
# paired: the median over rounds of each round's ratio to its own untraced
# run, steadier than the ratio of medians when the machine's speed drifts
printf '%-10s %12s %8s %8s\n' mode "median ops/s" ratio paired
for m in untraced disco; do
	med=$(awk -v m=$m '$1 == m {print $2}' "$T/raw" | median)
	paired=$(awk -v m=$m '$1 == "untraced" {u[$3] = $2} $1 == m {v[$3] = $2}
		END {for (r in v) if (u[r] > 0) print 100 * v[r] / u[r]}' "$T/raw" | median)
	printf '%-10s %12.0f %7.1f%% %7.1f%%\n' "$m" "$med" "$(echo "$med $base" | awk '{print 100*$1/$2}')" "$paired"
done
