#!/usr/bin/env bash
# disco serve keeps its series bounded: while 200 short-lived processes come
# and go during the scrapes, no family has more than --max-series label sets
# (plus "other"), no pid label appears, and the folded rows are counted;
# --per-pid warns and brings pid labels back, still bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
need_root
command -v curl >/dev/null || skip "needs curl"
command -v promtool >/dev/null || skip "needs promtool (package prometheus)"
MAX=4

start_serve() {
	"$DISCO" serve -e sched,bio --listen 127.0.0.1:0 --max-series $MAX "$@" 2> "$T/serve.err" &
	spid=$!
	on_exit "kill -9 $spid"
	serve_wait $spid
}

# label sets per family of rows (histogram buckets are one label set); not
# the fixed families (one per hook, program) nor disks x ops, which the
# machine bounds
max_label_sets() {
	grep -E '^disco_(sched|bio)_' "$1" | grep -v '^disco_bio_disks_' | sed -E 's/(_bucket|_sum|_count)\{/{/; s/,?le="[^"]*"//; s/ [^ ]*$//' | sort -u |
		sed -E 's/\{.*//' | sort | uniq -c | sort -rn | head -1
}

# 200 short processes spread over 10 cgroups of this test's own (so the
# sums per cgroup have more rows than --max-series), removed at the end
CG=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ -f $d/cgroup.controllers ] && CG=$d && break
done
[ -n "$CG" ] || skip "no cgroup v2 hierarchy"
CGS=()
for i in $(seq 10); do
	c=$(mktemp -d "$CG/disco-test-series.XXXXXX") || skip "cannot create a cgroup under $CG"
	CGS+=("$c")
	on_exit "rmdir $c"
done
# one launcher per cgroup moves itself there first, so its 20 children
# start inside it (the sched collector notes a process's cgroup at fork)
churn() {
	local pids=()
	for c in "${CGS[@]}"; do
		sh -c 'echo $$ > "$1/cgroup.procs"; for j in $(seq 20); do
			sh -c "i=0; while [ \$i -lt 20 ]; do i=\$((i + 1)); done" & done; wait' sh "$c" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

start_serve
churn &
cpid=$!
for i in 1 2 3; do
	sleep 0.7
	curl -sf -o "$T/m$i.txt" "http://$addr/metrics" || fail "scrape $i"
done
wait $cpid
curl -sf -o "$T/m4.txt" "http://$addr/metrics" || fail "scrape after the churn"
# the cgroups' sums were more rows than MAX: the rest went to "other", counted
folded=$(awk '$1 == "disco_exporter_rows_folded{rows=\"disco_sched_processes\"}" {print $2}' "$T/m4.txt")
assert_ge "cgroup rows folded into other" "${folded:-0}" 1
grep -q '^disco_sched_processes_runq_latency_seconds_count{cgroup_id="other"}' "$T/m4.txt" ||
	fail "no cgroup_id=\"other\" series"
for i in 1 2 3 4; do
	promtool check metrics < "$T/m$i.txt" || fail "promtool check metrics, scrape $i"
	grep -q 'pid="' "$T/m$i.txt" && fail "pid labels without --per-pid (scrape $i)"
	read -r n fam < <(max_label_sets "$T/m$i.txt")
	echo "scrape $i: $(grep -vc '^#' "$T/m$i.txt") series; widest family $fam with $n label sets"
	assert_le "label sets of $fam (--max-series $MAX)" "$n" $((MAX + 1))
done
kill -TERM $spid
wait $spid

# --per-pid: warns, pid labels, still at most MAX + "other" per family
start_serve --per-pid
grep -q "per-pid.*max-series" "$T/serve.err" || fail "--per-pid did not warn about cardinality"
churn
curl -sf -o "$T/p.txt" "http://$addr/metrics" || fail "scrape with --per-pid"
grep -q '^disco_sched_processes_runq_latency_seconds_count{pid="[0-9]*"' "$T/p.txt" || fail "no pid labels with --per-pid"
grep -q '^disco_sched_processes_runq_latency_seconds_count{pid="other",comm="other"' "$T/p.txt" ||
	fail "no 'other' row after 200 processes"
folded=$(awk '$1 == "disco_exporter_rows_folded{rows=\"disco_sched_processes\"}" {print $2}' "$T/p.txt")
assert_ge "processes folded into other" "${folded:-0}" 100
read -r n fam < <(max_label_sets "$T/p.txt")
assert_le "label sets of $fam with --per-pid" "$n" $((MAX + 1))
echo "ok: widest family $fam has $n label sets; $folded process rows folded"
