#!/usr/bin/env bash
# How many events/s the ring-buffer consumer sustains into the session file,
# and with what drops: --min-latency 0 turns every run-queue sample into an
# outlier event while stress-ng generates context switches. Then the peak
# RSS of a plain 60 s whole-machine session.
# Usage: tests/bench/ring.sh [SECS] [LONG_SECS]
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-10}
LONG=${2:-60}
DISCO=${DISCO:-./disco}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for ring in 4194304 16777216; do
	"$DISCO" record -e sched --min-latency 0 --ring-size $ring -q -o "$T/r$ring.data" -d "$SECS" &
	p=$!
	sleep 0.5
	stress-ng --switch 2 -t $((SECS - 1)) >/dev/null 2>&1 || true
	wait $p
	"$DISCO" report "$T/r$ring.data" --format json > "$T/r.json"
	jq -r --arg ring "$ring" '.session.duration_ns as $d | .collectors.sched as $s |
		"ring \($ring) B: \($s.events) events in \($d/1e9|floor) s = \(($s.events*1e9/$d)|floor) events/s written, drops \($s.drops), samples \($s.runq_latency.count), file \(.cost.file_bytes) B = \((.cost.file_bytes*100/$s.events|floor)/100) B/event, recorder CPU \(.cost.recorder_cpu_ns/1e6|floor) ms = \(.cost.recorder_cpu_ns/$s.events|floor) ns/event, peak RSS \(.cost.recorder_peak_rss_bytes/1048576*10|floor/10) MiB"' "$T/r.json"
done

"$DISCO" record -q -o "$T/long.data" -d "$LONG"
"$DISCO" report "$T/long.data" --format json |
	jq -r '"\(.session.duration_ns/1e9|floor) s whole-machine session: peak RSS \(.cost.recorder_peak_rss_bytes/1048576*10|floor/10) MiB, recorder CPU \(.cost.recorder_cpu_ns/1e6|floor) ms, file \(.cost.file_bytes) B"'
