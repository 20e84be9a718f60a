#!/usr/bin/env bash
# Interval mode: `record -i 1 -n 3` prints exactly three timestamped
# summaries a second apart and exits 0; `report --intervals` replays them
# from the file; `top --json -n 2` writes two JSON lines with wall-clock
# times; `top INTERVAL COUNT` takes bare numbers like vmstat.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

# a CPU hog and a victim on one CPU: run-queue latency in every interval
taskset -c 1 "$FIXTURES/sched_load" hog 20 &
on_exit "kill $! 2>/dev/null"
taskset -c 1 "$FIXTURES/sched_load" victim 20 "$T/victim.txt" &
on_exit "kill $! 2>/dev/null"

# block IO in every interval: direct writes of a file of the test's own
# (the recorder's buffered writes reach the disk only every few seconds)
( while :; do dd if=/dev/zero of="$T/io" bs=4k count=8 oflag=direct 2>/dev/null; sleep 0.1; done ) &
on_exit "kill $! 2>/dev/null"

stamp='^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] '
start=$(date +%s)
timeout 30 "$DISCO" record -e sched,bio -i 1 -n 3 -o "$T/i.data" > "$T/out.txt" 2> "$T/err.txt"
assert_eq "exit status of record -i 1 -n 3" "$?" 0
secs=$(( $(date +%s) - start ))
# (attaching takes a few seconds when the machine is busy)
assert_le "seconds for three 1 s intervals" "$secs" 15
assert_eq "timestamped summaries" "$(grep -cE "$stamp" "$T/out.txt")" 3
# each summary: its time, then one line per collector
grep -E "$stamp" "$T/out.txt" | awk '$2 != "sched" || $3 != "runq_latency" || $4 + 0 < 1 {exit 1}' ||
	fail "a summary without run-queue samples: $(grep -E "$stamp" "$T/out.txt")"
assert_eq "bio lines" "$(grep -cE '^ +bio +disks.latency ' "$T/out.txt")" 3
# a second apart (wall clock, so allow a second of rounding either way)
grep -Eo "$stamp" "$T/out.txt" | awk -F: '{t = $1 * 3600 + $2 * 60 + $3} NR > 1 && (t - p < 0 || t - p > 2) {exit 1} {p = t}' ||
	fail "summaries not a second apart: $(grep -Eo "$stamp" "$T/out.txt")"
grep -q 'all intervals done' "$T/err.txt" || fail "no end message: $(cat "$T/err.txt")"

# the file keeps every interval: the replay shows the first two as printed live
"$DISCO" report "$T/i.data" --intervals > "$T/replay.txt" || fail "report --intervals"
assert_eq "intervals replayed" "$(grep -cE "$stamp" "$T/replay.txt")" 3
assert_eq "first two intervals, live and replayed" \
	"$(grep -A1 -E "$stamp" "$T/replay.txt" | head -4)" "$(grep -A1 -E "$stamp" "$T/out.txt" | head -4)"
"$DISCO" report "$T/i.data" --intervals -e bio > "$T/bio.txt" || fail "report --intervals -e bio"
if grep -q sched "$T/bio.txt"; then fail "-e bio still shows sched"; fi
"$DISCO" report "$T/i.data" --intervals --format json 2>/dev/null
assert_eq "exit status of --intervals with a format" "$?" 2
"$DISCO" record -e sched -n 3 -o "$T/x.data" 2>/dev/null
assert_eq "exit status of -n without -i" "$?" 2

# top --json: two parseable lines with wall-clock times of now
before=$(date +%s)
timeout 20 "$DISCO" top -e sched --json -n 2 > "$T/top.json" 2> "$T/top.err" ||
	fail "top --json -n 2: $(cat "$T/top.err")"
assert_eq "JSON lines" "$(wc -l < "$T/top.json")" 2
jq -e -s 'length == 2 and all(.[]; .schema == "disco.top/1" and
	(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")) and
	.end_ns > .start_ns and .collectors.sched.dists.runq_latency.count > 0)' "$T/top.json" > /dev/null ||
	fail "top --json lines: $(cat "$T/top.json" | cut -c1-300)"
t=$(jq -s '.[1].time_realtime_ns / 1e9 | floor' "$T/top.json")
assert_ge "time of the second line" "$t" "$before"
assert_le "time of the second line" "$t" "$(( $(date +%s) + 1 ))"

# bare numbers: interval 1, count 2
timeout 20 "$DISCO" top -e sched 1 2 > "$T/bare.txt" 2>/dev/null || fail "disco top 1 2"
assert_eq "snapshots of top 1 2" "$(grep -c '^--- snapshot' "$T/bare.txt")" 2
exit 0
