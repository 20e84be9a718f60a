#!/usr/bin/env bash
# What a refresh of `disco top` and a scrape of `disco serve` cost with
# -e cpu,offcpu on the whole machine, where the stack tables keep growing
# (stress-ng --cpu 1 --switch 1 and a shell loop starting short-lived
# processes run beside). top: its CPU time per frame over FRAMES frames
# at 0.5 s (event consumption included, the same for every binary);
# serve: the median wall time of a /metrics scrape, one every 0.5 s.
# DISCO_B=OTHER_BINARY measures a second disco in the same rounds,
# alternating (before/after a change).
# Usage: tests/bench/live_refresh.sh [ROUNDS] [FRAMES]
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
FRAMES=${2:-40}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bins=("a=$DISCO")
[ -n "${DISCO_B:-}" ] && bins+=("b=$DISCO_B")
stress-ng --cpu 1 --switch 1 -t "$((ROUNDS * ${#bins[@]} * (FRAMES + 10) + 60))" --quiet & pids+=($!)
(while :; do sh -c 'ls / > /dev/null; cat /proc/version > /dev/null'; sleep 0.02; done) & pids+=($!)
for ((i = 1; i <= ROUNDS; i++)); do
	for b in "${bins[@]}"; do
		label=${b%%=*} bin=${b#*=}
		/usr/bin/time -f "%U %S" -o "$T/time" "$bin" top --json -q -e cpu,offcpu 0.5 "$FRAMES" \
			> "$T/top.out"
		awk -v l="$label" -v n="$FRAMES" '{print l, "top_ms_per_frame", ($1 + $2) * 1000 / n}' \
			"$T/time" >> "$T/rows"
		port=$((20000 + RANDOM % 20000))
		"$bin" serve -q -e cpu,offcpu --listen "127.0.0.1:$port" & srv=$!
		for ((k = 0; k < 50; k++)); do
			curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
			sleep 0.1
		done
		for ((k = 0; k < FRAMES; k++)); do
			curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" |
				awk -v l="$label" '{print l, "serve_ms_per_scrape", $1 * 1000}' >> "$T/rows"
			sleep 0.5
		done
		kill "$srv"
		wait "$srv" 2>/dev/null || true
	done
done
echo "live refresh with -e cpu,offcpu, whole machine, $ROUNDS rounds of $FRAMES frames/scrapes" \
	"(medians; a=$DISCO${DISCO_B:+, b=$DISCO_B}):"
for m in top_ms_per_frame serve_ms_per_scrape; do
	for b in "${bins[@]}"; do
		label=${b%%=*}
		printf '  %-3s %-20s %8.2f\n' "$label" "$m" \
			"$(awk -v l="$label" -v m="$m" '$1 == l && $2 == m {print $3}' "$T/rows" | median)"
	done
done
