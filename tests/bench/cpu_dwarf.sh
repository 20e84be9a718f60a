#!/usr/bin/env bash
# What --call-graph dwarf costs beside frame pointers, and what it buys.
# 1. Cost per sample: two stack_fixture processes keep both CPUs busy while
#    `disco record -e cpu -F HZ -p THEM` (--bpf-stats on) runs in fp then
#    dwarf mode, alternating, ROUNDS each; medians of the BPF program's run
#    time per sample of the fixtures (the runs that other tasks' samples
#    filter out are charged to them too, "runs" says how many there were),
#    of the recorder's CPU per sample (start-up, ring, unwinding,
#    snapshots) and of the unwinding alone (recorder CPU time).
# 2. Stacks cut short, fp vs dwarf: the fixture built without frame
#    pointers, and Debian's gzip and /usr/bin/python3 in a loop.
# Usage: tests/bench/cpu_dwarf.sh [ROUNDS] [SECS] [HZ]
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
SECS=${2:-10}
HZ=${3:-99}
DISCO=${DISCO:-./disco}
FIX=${FIXTURES:-.output/fixtures}
T=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

"$FIX/stack_fixture" cpu 3600 & pids+=($!)
"$FIX/stack_fixture" cpu 3600 & pids+=($!)
for ((i = 1; i <= ROUNDS; i++)); do
	for m in fp dwarf; do
		"$DISCO" record -e cpu -F "$HZ" --call-graph "$m" --bpf-stats on -q -f -d "$SECS" \
			-p "${pids[0]}" -p "${pids[1]}" -o "$T/$m.data"
		"$DISCO" report "$T/$m.data" --format json | jq -r --arg m "$m" '.collectors.cpu as $c
			| ($c.programs[] | select(.name == "cpu_sample")) as $p
			| [$m, $p.run_time_ns / $c.samples, $p.run_count, .cost.recorder_cpu_ns / $c.samples,
			   (if $c.dwarf then $c.dwarf.unwind_ns / $c.dwarf.samples else 0 end),
			   $c.truncated_samples * 100 / $c.samples, .cost.file_bytes] | map(tostring)
			| join(" ")' >> "$T/rows"
	done
done
kill "${pids[@]}" || true
wait 2>/dev/null || true
echo "per sample at -F $HZ of 2 stack_fixture busy loops (-p), $ROUNDS rounds of ${SECS}s (medians):"
printf '  %-6s %12s %12s %16s %12s %12s %12s\n' mode bpf_ns runs recorder_cpu_ns unwind_ns cut_% file_bytes
for m in fp dwarf; do
	printf '  %-6s' "$m"
	for col in 2 3 4 5 6 7; do
		awk -v m="$m" -v c="$col" '$1 == m {print $c}' "$T/rows" | median | xargs printf ' %12.0f'
	done
	echo
done

# share of samples with a cut user stack, per program, by mode
cut_share() {	# FILE COMM
	"$DISCO" report "$1" --format json | jq -r --arg comm "$2" '[.collectors.cpu.stacks[]
		| select(.comm == $comm)] as $s | ([$s[].count] | add // 0) as $n
		| "\($n) samples, \(if $n > 0 then ([$s[] | select(.truncated) | .count] | add // 0) * 100 / $n
		   | floor else "-" end)% cut short"'
}
head -c 4000000 /dev/urandom > "$T/blob"
workload() {
	case $1 in
	nofp) "$FIX/stack_fixture_nofp" cpu 5 ;;
	gzip) timeout 5 sh -c "while :; do gzip -6 -c '$T/blob' > /dev/null; done" || true ;;
	python3) timeout 5 /usr/bin/python3 -c 'import json
d = [{"k": i, "v": str(i) * 3} for i in range(2000)]
while True:
	json.loads(json.dumps(d))' || true ;;
	esac
}
comm_of() { case $1 in nofp) echo stack_fixture_n ;; *) echo "$1" ;; esac; }
echo "user stacks cut short at -F 499 (fp vs dwarf):"
for w in nofp gzip python3; do
	for m in fp dwarf; do
		"$DISCO" record -e cpu -F 499 --call-graph "$m" -q -o "$T/$w.$m.data" -- \
			bash -c "$(declare -f workload); FIX='$FIX' T='$T' workload $w"
		printf '  %-8s %-6s %s\n' "$w" "$m" "$(cut_share "$T/$w.$m.data" "$(comm_of $w)")"
	done
done
