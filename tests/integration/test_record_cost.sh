#!/usr/bin/env bash
# The session's own cost: BPF run-time statistics sampled (default: on for
# the first second of every 30 s, through a helper that keeps the
# capability the recorder drops; counts scaled to the session), on, or off.
. "$(dirname "$0")/lib.sh"
need_root

# a steady kernel allocation load for the whole session
load() {
	while :; do "$FIXTURES/alloc_fixture" files 2000 > /dev/null; done
}
load &
LOAD=$!
on_exit "kill $LOAD 2>/dev/null"

C=.collectors.alloc
"$DISCO" record -e alloc --kernel-only -q -d 3 -o "$T/s.data" &
dpid=$!
helper=""
for _ in $(seq 50); do	# the helper is forked once the collectors are attached
	helper=$(pgrep -P "$dpid" -x disco-stats) && break
	sleep 0.1
done
[ -n "$helper" ] || fail "no statistics helper under the recorder"
wait "$dpid" || fail "record failed"
! kill -0 "$helper" 2>/dev/null || fail "statistics helper $helper outlived the recorder"
"$DISCO" report "$T/s.data" --format json > "$T/s.json" || fail "report failed"
assert_eq "mode" "$(jqv "$T/s.json" .cost.bpf_stats_mode)" sampled
assert_eq "enabled" "$(jqv "$T/s.json" .cost.bpf_stats_enabled)" true
m=$(jqv "$T/s.json" .cost.bpf_stats_measured_ns)
# a 3 s session: the first second only
assert_ge "measured windows" "$m" 900000000
assert_le "measured windows" "$m" 1300000000
assert_ge "session" "$(jqv "$T/s.json" .cost.bpf_stats_session_ns)" 2900000000
# scaled run counts of a steady load agree with the programs' own exact
# counters (one kmem_cache_alloc run per counted allocation)
exact=$(jqv "$T/s.json" "$C.kernel.counters.kmem_cache_alloc")
scaled=$(jqv "$T/s.json" "[$C.programs[] | select(.name | startswith(\"cache_alloc\")) | .run_count] | add")
echo "kmem_cache_alloc: exact $exact, scaled from the window $scaled"
assert_ge "scaled runs" "$((scaled * 100))" "$((exact * 60))"
assert_le "scaled runs" "$((scaled * 100))" "$((exact * 160))"
"$DISCO" report "$T/s.data" | grep -q "counts scaled" || fail "text report does not say the counts are scaled"

"$DISCO" record -e alloc --kernel-only -q -d 2 --bpf-stats on -o "$T/on.data" || fail "record --bpf-stats on failed"
"$DISCO" report "$T/on.data" --format json > "$T/on.json" || fail "report failed"
m=$(jqv "$T/on.json" .cost.bpf_stats_measured_ns)
s=$(jqv "$T/on.json" .cost.bpf_stats_session_ns)
assert_ge "measured share with --bpf-stats on (permille)" "$((m * 1000 / s))" 990
assert_ge "runs with --bpf-stats on" "$(jqv "$T/on.json" .cost.bpf_runs)" 1000
assert_eq "unscaled with --bpf-stats on" "$(jqv "$T/on.json" .cost.bpf_runs)" "$(jqv "$T/on.json" .cost.bpf_measured_runs)"
! "$DISCO" report "$T/on.data" | grep -q "counts scaled" || fail "--bpf-stats on: the text report says counts are scaled"

"$DISCO" record -e alloc --kernel-only -q -d 1 --bpf-stats off -o "$T/off.data" || fail "record --bpf-stats off failed"
"$DISCO" report "$T/off.data" --format json > "$T/off.json" || fail "report failed"
assert_eq "enabled with off" "$(jq -r .cost.bpf_stats_enabled "$T/off.json")" false
assert_eq "runs with off" "$(jqv "$T/off.json" .cost.bpf_runs)" 0
"$DISCO" report "$T/off.data" | grep -q "not measured" || fail "text report does not say cost was not measured"

"$DISCO" record -e alloc --bpf-stats sometimes -d 1 -o "$T/bad.data" 2> "$T/bad.err"
rc=$?
assert_eq "exit status for a bad --bpf-stats" "$rc" 2
assert_eq "error lines" "$(wc -l < "$T/bad.err")" 1
[ ! -e "$T/bad.data" ] || fail "a bad option created a session file"

# The memory the collectors loaded in (the kernel's BTF, parsed by disco
# and by libbpf for each collector, in a heap grown in huge pages) goes
# back once they are loaded, and that heap is no longer for huge pages
# (khugepaged would make 2 MiB of a range with one page in use).
"$DISCO" record -q -d 4 -o "$T/mem.data" &
dpid=$!
for _ in $(seq 50); do	# the helper is forked once the collectors are attached
	pgrep -P "$dpid" -x disco-stats > /dev/null && break
	sleep 0.1
done
sleep 0.5
heap_kb=$(awk '/^[0-9a-f]+-/ { h = / \[heap\]$/ } h && /^Rss:/ { s += $2 } END { print s + 0 }' /proc/$dpid/smaps)
hg=$(awk '/^[0-9a-f]+-/ { m = $0 } /^VmFlags:/ && / hg( |$)/ { print m }' /proc/$dpid/smaps)
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' /proc/$dpid/status)
echo "recording: heap RSS $heap_kb KiB, peak RSS $hwm_kb KiB"
wait "$dpid" || fail "record failed"
[ -z "$hg" ] || fail "mappings still for huge pages once recording: $hg"
# ~11 MB of BTF copies while loading, ~1 MiB of heap once recording
assert_le "heap RSS once recording (KiB)" "$heap_kb" 8192
