#!/usr/bin/env bash
# bio collector with many requests in flight (fio, libaio, iodepth 128) on
# every hook method: exact request counts and attribution. With pointer
# keys, a request whose slot (a hash of its pointer) another live request
# holds is tracked in the fallback hash instead. One tag set's requests
# rarely collide in 8192 slots, so the ":1" runs leave one slot
# (DISCO_BIO_SLOTS=1): then the other 127 requests in flight take the
# fallback, and both paths must agree with fio's own count. ":0" uses no
# slot at all, as on kernels without BPF cmpxchg (before 5.12).
# Known: at this depth a run now and then misses a few completions (seen
# 1 to 94 of 16384, before this test's slots too, cause not found yet), so
# up to 1% may be missing; a broken fallback loses nearly all of them.
. tests/integration/lib.sh
need_root
command -v fio >/dev/null || skip "no fio"
fio --enghelp 2>/dev/null | grep -qw libaio || skip "fio without libaio"

truncate -s 64M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
on_exit "losetup -d $L"
N=${L#/dev/}
# fio submits in batches: two adjacent random reads would merge into one
# request in the plug. The device is ours: no merges on it.
echo 2 >/sys/block/$N/queue/nomerges || skip "cannot turn merges off on $N"
b='.collectors.bio'

for run in tp_btf raw_tp tracepoint tp_btf:1 raw_tp:1 tp_btf:0; do
	m=${run%:*}
	slots=
	[ "$run" = "$m" ] || slots=${run#*:}
	# randread over the whole device visits each 4 KiB block once: 16384
	# requests, none merged, distinct sectors for the classic (dev, sector) key
	DISCO_BIO_SLOTS=$slots DISCO_FORCE_METHOD=$m "$DISCO" record -q -e bio --disk "$N" -o "$T/$m$slots.data" -- \
		fio --name=deep --filename="$L" --rw=randread --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=128 --thread --output-format=json \
		>"$T/fio.json" 2>"$T/rec.err" || { cat "$T/rec.err" >&2; fail "$run: record"; }
	ios=$(jqv "$T/fio.json" '.jobs[0].read.total_ios')
	assert_eq "$run: fio requests" "$ios" 16384
	"$DISCO" report "$T/$m$slots.data" --format json >"$T/r.json" || fail "$run: report"
	R=$T/r.json
	assert_eq "$run: method" "$(jqv "$R" "$b.hooks[] | select(.hook == \"block:block_rq_issue\") | .method")" $m
	got=$(jqv "$R" "[$b.disks[] | select(.disk == \"$N\" and .op == \"read\") | .requests] | add // 0")
	[ "$got" = "$ios" ] || echo "$run: $((ios - got)) of $ios requests missing"
	assert_le "$run: reads" "$got" "$ios"
	assert_ge "$run: reads" "$got" $((ios - ios / 100))
	assert_eq "$run: bytes" "$(jqv "$R" "[$b.disks[] | select(.disk == \"$N\") | .bytes] | add // 0")" $((got * 4096))
	assert_eq "$run: latency samples" "$(jqv "$R" "[$b.disks[] | select(.disk == \"$N\") | .latency.count] | add // 0")" "$got"
	assert_eq "$run: sizes" "$(jqv "$R" "$b.sizes.count")" "$got"
	assert_eq "$run: attributed to fio" "$(jqv "$R" "[$b.processes[] | select(.comm == \"fio\") | .requests] | add // 0")" "$got"
	assert_eq "$run: other processes" "$(jqv "$R" "[$b.processes[] | select(.comm != \"fio\")] | length")" 0
done
exit 0
