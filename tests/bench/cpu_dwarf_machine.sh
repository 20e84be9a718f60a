#!/usr/bin/env bash
# What --call-graph dwarf costs the recorder on the whole machine, where
# new processes keep appearing (each maps its files, which the unwinder
# must know), beside one process (-p): per sample, the unwinding CPU
# (the recorder's thread CPU time in it), the recorder's whole CPU, its
# peak RSS, the share of stacks cut short and the files the unwinder
# opened or reused. Load: stress-ng --cpu 1, one stack_fixture, and a
# shell loop starting short-lived processes (sh, ls, cat) every ~20 ms.
# DISCO_B=OTHER_BINARY measures a second disco in the same rounds,
# alternating (before/after a change).
# Usage: tests/bench/cpu_dwarf_machine.sh [ROUNDS] [SECS] [HZ]
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
SECS=${2:-15}
HZ=${3:-99}
DISCO=${DISCO:-./disco}
FIX=${FIXTURES:-.output/fixtures}
T=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bins=("a=$DISCO")
[ -n "${DISCO_B:-}" ] && bins+=("b=$DISCO_B")
stress-ng --cpu 1 -t "$((ROUNDS * ${#bins[@]} * (SECS + 10) * 2 + 60))" --quiet & pids+=($!)
"$FIX/stack_fixture" cpu 3600 & pids+=($!)
fixture=$!
(while :; do sh -c 'ls / > /dev/null; cat /proc/version > /dev/null'; sleep 0.02; done) & pids+=($!)
for ((i = 1; i <= ROUNDS; i++)); do
	for scope in machine pid; do
		for b in "${bins[@]}"; do
			label=${b%%=*} bin=${b#*=}
			if [ $scope = pid ]; then target=(-p "$fixture"); else target=(); fi
			"$bin" record -e cpu -F "$HZ" --call-graph dwarf -q -f -d "$SECS" "${target[@]}" \
				-o "$T/s.data"
			"$bin" report "$T/s.data" --format json | jq -r --arg l "$label" --arg s "$scope" \
				'.collectors.cpu as $c | $c.dwarf as $d | [$l, $s,
				 $d.unwind_ns / 1e3 / ([$d.samples, 1] | max),
				 .cost.recorder_cpu_ns / 1e3 / ([$c.samples, 1] | max),
				 .cost.recorder_peak_rss_bytes / 1048576,
				 $c.truncated_samples * 100 / ([$c.samples, 1] | max),
				 $c.samples, ($d.files.opened // -1), ($d.process_loads // -1)]
				 | map(tostring) | join(" ")' >> "$T/rows"
		done
	done
done
echo "--call-graph dwarf at -F $HZ, $ROUNDS rounds of ${SECS}s, medians (a=$DISCO${DISCO_B:+, b=$DISCO_B}):"
printf '  %-3s %-8s %10s %13s %8s %7s %8s %8s %8s\n' bin scope unwind_us rec_cpu_us rss_MiB cut_% samples f_opened p_loads
for scope in machine pid; do
	for b in "${bins[@]}"; do
		label=${b%%=*}
		printf '  %-3s %-8s' "$label" "$scope"
		for col in 3 4 5 6 7 8 9; do
			awk -v l="$label" -v s="$scope" -v c="$col" '$1 == l && $2 == s {print $c}' "$T/rows" |
				median | xargs printf ' %9.1f'
		done
		echo
	done
done
