#!/usr/bin/env bash
# disco bench --overhead: each figure runs interleaved untraced/traced and
# the table gives the throughput ratio per collector (needs root + BPF).
source tests/integration/lib.sh
need_root
"$DISCO" check --json | jq -e '.collectors.sched.ok' >/dev/null || skip "sched collector cannot run here"

"$DISCO" bench --overhead -w sched -d 0.5 -r 2 --json "$T/o.json" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "disco bench --overhead exited $?"; }
cat "$T/out"
# interleaved: the progress lines alternate untraced / traced
assert_eq "order" "$(grep -o 'sched_unpinned  [0-9]/2\( untraced\)\?' "$T/err" | tr '\n' '|')" \
	"sched_unpinned  1/2 untraced|sched_unpinned  1/2|sched_unpinned  2/2 untraced|sched_unpinned  2/2|"
for w in sched_pinned sched_unpinned; do
	assert_eq "$w untraced repeats" "$(jq ".workloads.$w.untraced.repeats | length" "$T/o.json")" 2
	assert_eq "$w traced repeats" "$(jq ".workloads.$w.repeats | length" "$T/o.json")" 2
	ratio=$(jq ".workloads.$w.overhead_ratio" "$T/o.json")
	assert_ge "$w ratio" "$ratio" 0.05
	assert_le "$w ratio" "$ratio" 5
	jqv "$T/o.json" ".workloads.$w.latency_p99_ns.median > 0" >/dev/null
	grep -q "^$w  *sched .* $(printf '%.3f' "$ratio")" "$T/out" || fail "no ratio row for $w"
done
