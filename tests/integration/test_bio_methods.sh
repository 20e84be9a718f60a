#!/usr/bin/env bash
# bio collector on every hook method (tp_btf, raw_tp, classic tracepoint,
# forced with DISCO_FORCE_METHOD) behind a scheduler (mq-deadline), so that
# requests are inserted before issue: exact counts, queue latency for every
# request, and disk names on outliers even where the hook cannot read them.
. tests/integration/lib.sh
need_root
WL=$FIXTURES/bio_direct
[ -x "$WL" ] || fail "missing $WL (make integration builds it)"

NR=150
NW=30

truncate -s 64M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
N=${L#/dev/}
Q=/sys/block/$N/queue
old=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$Q/scheduler")
grep -qw mq-deadline "$Q/scheduler" || { losetup -d "$L"; skip "no mq-deadline scheduler"; }
# the device is ours; give its queue back as we found it
on_exit "losetup -d $L"
on_exit "echo $old > $Q/scheduler"
echo mq-deadline >"$Q/scheduler"
# 64 KiB writes stay whole unless max_sectors_kb is smaller (then split)
max_kb=$(cat "$Q/max_sectors_kb")
EXP_W=$(( NW * ((64 + max_kb - 1) / max_kb) ))

for m in tp_btf raw_tp tracepoint; do
	F=$T/$m.data
	DISCO_FORCE_METHOD=$m "$DISCO" record -q -e bio --disk "$N" --min-latency 1ns -o "$F" -- \
		"$WL" "$L" $NR $NW >"$T/wl.out" 2>"$T/rec.err" || { cat "$T/rec.err" >&2; fail "$m: record"; }
	WPID=$(cat "$T/wl.out")
	"$DISCO" report "$F" --format json >"$T/r.json" || fail "$m: report"
	R=$T/r.json
	b='.collectors.bio'
	for h in block:block_rq_insert block:block_rq_issue block:block_rq_complete; do
		assert_eq "$m: method of $h" "$(jqv "$R" "$b.hooks[] | select(.hook == \"$h\") | .method")" $m
	done
	sel() { echo "[$b.disks[] | select(.disk == \"$N\" and .op == \"$1\")][0]"; }
	assert_eq "$m: reads" "$(jqv "$R" "$(sel read).requests")" $NR
	assert_eq "$m: writes" "$(jqv "$R" "$(sel write).requests")" $EXP_W
	# every request went through the scheduler: insert -> issue is known
	assert_eq "$m: read queue samples" "$(jqv "$R" "$(sel read).queue_latency.count")" $NR
	assert_eq "$m: write queue samples" "$(jqv "$R" "$(sel write).queue_latency.count")" $EXP_W
	assert_ge "$m: queue p50" "$(jqv "$R" "$(sel read).queue_latency.p50_ns")" 1
	assert_eq "$m: attributed" "$(jqv "$R" "[$b.processes[] | select(.pid == $WPID)][0].requests")" $((NR + EXP_W))
	assert_eq "$m: outliers" "$(jqv "$R" "[$b.outliers[] | select(.disk == \"$N\" and .pid == $WPID and .queue_ns > 0)] | length")" $((NR + EXP_W))
	assert_eq "$m: drops" "$(jqv "$R" "$b.drops")" 0
done
exit 0
