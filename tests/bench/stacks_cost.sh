#!/usr/bin/env bash
# What symbolization costs: a whole-machine `disco record -e cpu,offcpu`
# of SECS (default 60) while stress-ng --cpu 1 and a sleeping/waking
# workload (stress-ng --switch 1) run beside whatever else the machine
# does; prints the recorder's peak RSS and CPU time (from the session's
# own cost block) and the time and peak RSS of `disco report` on it.
# Goal: recorder RSS <= 64 MiB.
# Usage: tests/bench/stacks_cost.sh [SECS]
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-60}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

stress-ng --cpu 1 --switch 1 -t "$((SECS + 5))" --quiet &
load=$!
"$DISCO" record -e cpu,offcpu -F 99 -q -f -d "$SECS" -o "$T/s.data"
wait "$load" || true
"$DISCO" report "$T/s.data" --format json > "$T/r.json"
jq -r '"samples \(.collectors.cpu.samples), stacks \(.collectors.cpu.stacks | length) cpu + \(.collectors.offcpu.stacks | length) offcpu, named frames \(.collectors.cpu.named_frames + .collectors.offcpu.named_frames)",
	"recorder: peak RSS \(.cost.recorder_peak_rss_bytes / 1048576 | floor) MiB, CPU \(.cost.recorder_cpu_ns / 1e6 | floor) ms over \(.session.duration_ns / 1e9 | floor) s, file \(.cost.file_bytes) bytes"' "$T/r.json"
for f in text folded html; do
	if [ $f = folded ]; then args="--format folded -e cpu"; else args="--format $f"; fi
	/usr/bin/time -f "report --format $f: %e s, peak RSS %M KiB" "$DISCO" report "$T/s.data" $args > /dev/null
done
