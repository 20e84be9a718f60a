#!/usr/bin/env bash
# Where the recorder's CPU goes per event, by stage: perf -e cpu-clock on
# `disco record` under a workload, samples classified by the functions on
# their call chain: ring consume, encode, fold, state snapshot, compress,
# write, page faults, malloc. Workloads: sched (`-e sched --min-latency 0`
# while stress-ng generates context switches: every run-queue sample an
# event) and tcp (`-e tcp` while tcp_peer churns loopback connections in a
# private namespace: two lifecycle records per connection). Needs root and
# perf.
# Usage: tests/bench/recorder_stages.sh [SECS] [sched|tcp]  (env: DISCO=./disco)
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-10}
WORKLOAD=${2:-sched}
DISCO=${DISCO:-./disco}
PEER=${PEER:-.output/fixtures/tcp_peer}
T=$(mktemp -d)
NS=disco-stages-$$
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT

case $WORKLOAD in
sched) args=(-e sched --min-latency 0) ;;
tcp)
	[ -x "$PEER" ] || { echo "build $PEER first (make $PEER)" >&2; exit 1; }
	args=(-e tcp)
	. tests/bench/floor_lib.sh
	churn_netns "$NS"
	;;
*) echo "recorder_stages: workload is sched or tcp, not '$WORKLOAD'" >&2; exit 2 ;;
esac
"$DISCO" record "${args[@]}" -q -o "$T/s.data" -d $((SECS + 2)) &
p=$!
# profile once the writer thread exists: perf -p follows the threads it finds
for _ in $(seq 100); do
	grep -qs disco-writer /proc/$p/task/*/comm && break
	sleep 0.1
done
perf record -e cpu-clock -F 2000 -g -p $p -o "$T/perf.data" -- sleep "$SECS" > /dev/null 2>&1 &
pp=$!
if [ "$WORKLOAD" = tcp ]; then
	ip netns exec "$NS" "$PEER" churn 127.0.0.1 5555 "$SECS" 2 > /dev/null
else
	stress-ng --switch 2 -t "$SECS" > /dev/null 2>&1 || true
fi
wait $pp
wait $p
"$DISCO" report "$T/s.data" --format json > "$T/r.json"
events=$(jq --arg c "$WORKLOAD" '.collectors[$c].events * '"$SECS"' * 1e9 / .session.duration_ns | floor' "$T/r.json")
echo "$(jq -r --arg c "$WORKLOAD" '"\(.collectors[$c].events) events, \(.collectors[$c].drops) drops"' "$T/r.json"); about $events in the $SECS s profiled"
perf script -i "$T/perf.data" -F comm,period,ip,sym,dso 2> /dev/null | python3 -c '
import sys, collections
nev = float(sys.argv[1])
# first match wins, checked against every frame of the call chain
rules = [
    ("compress", ["libz.so", "libdeflate", "adler32", "crc32"]),
    ("encode", ["evpack_add", "evcols_encode", "evcols_add", "evcols_finish", "put_body", "session_add_event", "queue_events", "enqueue"]),
    ("state snapshot", ["jansson", "recorder_collect", "_collect", "hist_percentile", "session_write_json", "malloc_trim", "heap_trim", "vfprintf"]),
    ("fold (on_event)", ["_on_event"]),
    ("ring consume", ["ringbuf_process_ring", "ring_buffer__", "ring_walk", "ringread_", "epoll_wait", "on_ring_event"]),
    ("write", ["pwrite", "fdatasync", "fsync", "vfs_write"]),
    ("page faults", ["exc_page_fault"]),
    ("bpf syscalls", ["__sys_bpf"]),
    ("malloc/free", ["malloc", "_int_free", "munmap"]),
]
tot = collections.Counter()
n = 0
for block in sys.stdin.read().strip().split("\n\n"):
    lines = block.strip().split("\n")
    hdr = lines[0].split()
    if len(hdr) < 2 or not hdr[1].isdigit():
        continue
    frames = " ".join(lines)
    cat = next((name for name, keys in rules if any(k in frames for k in keys)), "other")
    thr = "writer" if "writer" in hdr[0] else "sync" if "sync" in hdr[0] else "main"
    tot[(thr, cat)] += int(hdr[1])
    n += int(hdr[1])
print(f"recorder CPU while profiled: {n / 1e6:.0f} ms = {n / nev:.0f} ns/event")
for (thr, cat), v in sorted(tot.items(), key=lambda x: -x[1]):
    print(f"  {thr:6s} {cat:16s} {v / 1e6:7.1f} ms {v / nev:6.0f} ns/event {100 * v / n:5.1f}%")
' "$events"
