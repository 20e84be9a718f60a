#!/usr/bin/env bash
# bio collector filters: --disk keeps only the named disk, the target pid
# filter (-- COMMAND) ignores other processes on the same disk, --cgroup
# keeps only tasks in the cgroup, and a bad --disk is a usage error.
. tests/integration/lib.sh
need_root
WL=$FIXTURES/bio_direct
[ -x "$WL" ] || fail "missing $WL (make integration builds it)"

truncate -s 32M "$T/a.img"
truncate -s 32M "$T/b.img"
A=$(losetup -f --show "$T/a.img") || skip "no free loop device"
on_exit "losetup -d $A"
B=$(losetup -f --show "$T/b.img") || skip "no second free loop device"
on_exit "losetup -d $B"
NA=${A#/dev/}
NB=${B#/dev/}
b='.collectors.bio'
count() { jqv "$1" "[$b.disks[] | select(.disk == \"$2\") | .requests] | add // 0"; }

# --disk: IO on both disks, only A is counted (-a: no pid filter)
"$DISCO" record -q -a -e bio --disk "$NA" -o "$T/disk.data" -- \
	sh -c "'$WL' '$B' 40 10 >/dev/null && '$WL' '$A' 20 5 >/dev/null" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "record --disk"; }
"$DISCO" report "$T/disk.data" --format json >"$T/disk.json" || fail "report"
assert_eq "--disk $NA: requests on $NA" "$(count "$T/disk.json" "$NA")" 25
assert_eq "--disk $NA: requests on $NB" "$(count "$T/disk.json" "$NB")" 0
assert_eq "--disk $NA: filter listed" "$(jqv "$T/disk.json" "$b.filters.disks[0]")" "$NA"

# target pid: a neighbour doing IO on the same disk meanwhile is not counted
( while :; do "$WL" "$A" 20 0 >/dev/null || exit; done ) &
NEIGH=$!
on_exit "kill $NEIGH"
"$DISCO" record -q -e bio --disk "$NA" -o "$T/pid.data" -- "$WL" "$A" 60 6 >"$T/wl.out" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "record -- COMMAND"; }
kill $NEIGH
wait $NEIGH 2>/dev/null
"$DISCO" report "$T/pid.data" --format json >"$T/pid.json" || fail "report"
assert_eq "target only: requests" "$(count "$T/pid.json" "$NA")" 66
assert_eq "target only: processes" "$(jqv "$T/pid.json" "[$b.processes[].pid] | unique | join(\",\")")" "$(cat "$T/wl.out")"

# --cgroup: the same workload inside and outside a cgroup of our own
CGROOT=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
if [ -n "$CGROOT" ] && [ -w "$CGROOT" ]; then
	CG=$(mktemp -d "$CGROOT/disco-bio.XXXXXX")
	on_exit "rmdir $CG"
	"$DISCO" record -e bio --disk "$NA" --cgroup "$CG" -d 60 -o "$T/cg.data" >/dev/null 2>"$T/cg.err" &
	REC=$!
	on_exit "kill $REC"
	for _ in $(seq 200); do
		grep -q "recording to" "$T/cg.err" && break
		kill -0 $REC 2>/dev/null || break
		sleep 0.1
	done
	grep -q "recording to" "$T/cg.err" || { cat "$T/cg.err" >&2; fail "record --cgroup did not start"; }
	"$WL" "$A" 30 0 >/dev/null || fail "workload outside"
	sh -c "echo \$\$ > '$CG/cgroup.procs' && exec '$WL' '$A' 12 3" >"$T/cg.pid" || fail "workload inside"
	"$WL" "$A" 30 0 >/dev/null || fail "workload outside"
	kill -INT $REC
	wait $REC || { cat "$T/cg.err" >&2; fail "record --cgroup exit status"; }
	"$DISCO" report "$T/cg.data" --format json >"$T/cg.json" || fail "report"
	assert_eq "--cgroup: requests" "$(count "$T/cg.json" "$NA")" 15
	assert_eq "--cgroup: process" "$(jqv "$T/cg.json" "[$b.processes[].pid] | unique | join(\",\")")" "$(cat "$T/cg.pid")"
else
	echo "no writable cgroup v2 mount: --cgroup not tested"
fi

# naming a disk that does not exist is a usage error with a clear message
"$DISCO" record -q -e bio --disk nosuchdisk0 -d 1 -o "$T/bad.data" 2>"$T/bad.err"
assert_eq "bad --disk exit status" "$?" 2
grep -q "nosuchdisk0" "$T/bad.err" || fail "bad --disk message does not name the disk: $(cat "$T/bad.err")"
exit 0
