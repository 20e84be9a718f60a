#!/usr/bin/env bash
# bio collector end to end on a private loop device: exact request counts
# per op, size histogram mass, attribution to the workload's PID, outliers
# through the ring buffer, and agreement with libbpf-tools' biolatency -D.
. tests/integration/lib.sh
need_root
WL=$FIXTURES/bio_direct
[ -x "$WL" ] || fail "missing $WL (make integration builds it)"
command -v losetup >/dev/null || skip "no losetup"

NR=400	# O_DIRECT 4 KiB reads
NW=100	# O_DIRECT 64 KiB writes

truncate -s 64M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
on_exit "losetup -d $L"
N=${L#/dev/}

# A request larger than max_sectors_kb is split by the block layer before it
# becomes a request; the workload issues one request at a time at offsets
# with gaps between them, so nothing can merge. Splits are the only slack.
max_kb=$(cat /sys/block/$N/queue/max_sectors_kb)
[ "$max_kb" -ge 4 ] || fail "max_sectors_kb=$max_kb below 4 KiB"
per_write=$(( (64 + max_kb - 1) / max_kb ))
EXP_W=$(( NW * per_write ))

# biolatency runs beside disco on the same workload (same disk only)
BL=""
if [ -x /usr/sbin/biolatency ]; then
	mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
	stdbuf -oL /usr/sbin/biolatency -D -d "$N" >"$T/bl.out" 2>"$T/bl.err" &
	BL=$!
	on_exit "kill $BL"
	for _ in $(seq 100); do
		grep -q Tracing "$T/bl.out" && break
		kill -0 $BL 2>/dev/null || break
		sleep 0.1
	done
	grep -q Tracing "$T/bl.out" || { cat "$T/bl.err" >&2; fail "biolatency did not start"; }
fi

"$DISCO" record -q -e bio --disk "$N" --min-latency 1ns -o "$T/s.data" -- \
	"$WL" "$L" $NR $NW >"$T/wl.out" 2>"$T/rec.err" || { cat "$T/rec.err" >&2; fail "disco record"; }
WPID=$(cat "$T/wl.out")
[ -n "$WPID" ] || fail "workload printed no pid"
"$DISCO" report "$T/s.data" --format json >"$T/r.json" || fail "disco report"
R=$T/r.json

bio='.collectors.bio'
req() { jqv "$R" "[$bio.disks[] | select(.disk == \"$N\" and .op == \"$1\") | .requests] | add // 0"; }
assert_eq "read requests" "$(req read)" $NR
assert_eq "write requests" "$(req write)" $EXP_W
bytes() { jqv "$R" "[$bio.disks[] | select(.disk == \"$N\" and .op == \"$1\") | .bytes] | add // 0"; }
assert_eq "read bytes" "$(bytes read)" $((NR * 4096))
assert_eq "write bytes" "$(bytes write)" $((NW * 65536))
assert_eq "latency samples" "$(jqv "$R" "[$bio.disks[] | select(.disk == \"$N\") | .latency.count] | add")" $((NR + EXP_W))
assert_eq "only $N listed" "$(jqv "$R" "[$bio.disks[] | select(.disk != \"$N\")] | length")" 0
iops=$(jqv "$R" "[$bio.disks[] | select(.disk == \"$N\" and .op == \"read\") | .iops] | add")
assert_ge "read IOPS" "$iops" 1

# size histogram: all mass in the buckets holding 4 KiB and 64 KiB
mass() { jqv "$R" "[$bio.sizes.buckets[] | select(.[0] <= $1 and $1 < .[1]) | .[2]] | add // 0"; }
assert_eq "4 KiB bucket" "$(mass 4096)" $NR
if [ "$per_write" = 1 ]; then
	assert_eq "64 KiB bucket" "$(mass 65536)" $NW
fi
assert_eq "sizes total" "$(jqv "$R" "$bio.sizes.count")" $((NR + EXP_W))

# attribution at submission: everything belongs to the workload's pid
assert_eq "processes" "$(jqv "$R" "[$bio.processes[] | .pid] | unique | length")" 1
assert_eq "process pid" "$(jqv "$R" "$bio.processes[0].pid")" "$WPID"
assert_eq "process comm" "$(jqv "$R" "$bio.processes[0].comm")" bio_direct
assert_eq "process requests" "$(jqv "$R" "$bio.processes[0].requests")" $((NR + EXP_W))
assert_ge "process io time" "$(jqv "$R" "$bio.processes[0].io_ns")" 1

# --min-latency 1ns: every request is an outlier, each complete
assert_eq "drops" "$(jqv "$R" "$bio.drops")" 0
assert_eq "outliers" "$(jqv "$R" "$bio.outliers | length")" $((NR + EXP_W))
assert_eq "outliers by pid" "$(jqv "$R" "[$bio.outliers[] | select(.pid == $WPID and .comm == \"bio_direct\" and .disk == \"$N\")] | length")" $((NR + EXP_W))
assert_eq "outlier reads" "$(jqv "$R" "[$bio.outliers[] | select(.op == \"read\" and .size_bytes == 4096)] | length")" $NR
assert_eq "outlier latencies" "$(jqv "$R" "[$bio.outliers[] | select(.latency_ns > 0)] | length")" $((NR + EXP_W))

# the text report shows the table, the processes and the outliers
"$DISCO" report "$T/s.data" >"$T/r.txt" || fail "text report"
grep -q "$N *read *$NR" "$T/r.txt" || fail "text table has no '$N read $NR' row"
grep -q "top processes by IO time" "$T/r.txt" || fail "text: no processes"
grep -q "bio_direct" "$T/r.txt" || fail "text: no workload"

# biolatency -D on the same disk counts the same requests (within 2%)
if [ -n "$BL" ]; then
	kill -INT $BL
	wait $BL
	bl=$(awk -v d="$N" '/^disk = /{on = ($3 == d)} on && /->/{n += $5} END{print n + 0}' "$T/bl.out")
	ours=$(jqv "$R" "[$bio.disks[] | select(.disk == \"$N\") | .requests] | add")
	echo "requests on $N: disco $ours, biolatency $bl"
	assert_ge "biolatency count" "$bl" 1
	awk -v a="$ours" -v b="$bl" 'BEGIN{d = a - b; if (d < 0) d = -d; m = a > b ? a : b; exit !(d <= 0.02 * m)}' ||
		fail "disco counted $ours requests on $N, biolatency $bl: more than 2% apart"
fi
# block_io_start is opt-in: by default owners are taken at insert or issue
hook() { jq -r "$bio.hooks[] | select(.hook == \"block:block_io_start\") | .method // \"none\"" "$1"; }
assert_eq "block_io_start by default" "$(hook "$R")" none
# --exact-owner hooks it where the kernel has it (6.5+): same counts, same owner
"$DISCO" record -q -e bio --disk "$N" --exact-owner -o "$T/x.data" -- \
	"$WL" "$L" 50 10 >"$T/wlx.out" 2>"$T/recx.err" || { cat "$T/recx.err" >&2; fail "disco record --exact-owner"; }
"$DISCO" report "$T/x.data" --format json >"$T/x.json" || fail "disco report"
if grep -qw block_io_start /sys/kernel/btf/vmlinux 2>/dev/null || [ -d /sys/kernel/tracing/events/block/block_io_start ]; then
	assert_eq "block_io_start with --exact-owner" "$(hook "$T/x.json")" tp_btf
fi
assert_eq "--exact-owner requests" "$(jqv "$T/x.json" "[$bio.processes[] | select(.pid == $(cat "$T/wlx.out")) | .requests] | add")" \
	$((50 + 10 * per_write))
exit 0
