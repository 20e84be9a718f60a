#!/usr/bin/env bash
# One session with every collector at once (sched bio tcp alloc cpu offcpu
# system app) over a workload that gives each of them records, read back in
# every report format, replayed with --intervals, compared and diffed with
# itself, and fed to tune --from. `make asan` runs it with the ASan+UBSan
# disco (tests/asan.sh): the real file of every collector, written and read
# by the sanitized binary; `make fuzz` keeps the file as a seed.
. "$(dirname "$0")/lib.sh"
need_root

truncate -s 64M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
on_exit "losetup -d $L"
NR=64 NW=16

# libc uprobes rather than the preload library for alloc: every call is seen
# there, so the --big check below does not depend on the library's sampling
# (forked children under the library: test_alloc_preload.sh).
cat > "$T/wl.sh" <<EOF
set -e
"$FIXTURES/app_server" http "$T/port" &
srv=\$!
for _ in \$(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
"$FIXTURES/app_server" pipeline "\$(cat "$T/port")" 7
kill \$srv
"$FIXTURES/bio_direct" "$L" $NR $NW > /dev/null
"$FIXTURES/alloc_fixture" basic > /dev/null
"$FIXTURES/stack_fixture" cpu 1
"$FIXTURES/stack_fixture" pipe 5 20
EOF
F=$T/all.data
"$DISCO" record -e sched,bio,tcp,alloc,cpu,offcpu,system,app -q -i 1 -o "$F" \
	--disk "$(basename "$L")" --min-latency 1ns --big 65536 --libc-uprobes \
	-- bash "$T/wl.sh" > /dev/null 2> "$T/rec.err" || { cat "$T/rec.err" >&2; fail "record"; }

"$DISCO" report "$F" --format json > "$T/r.json" || fail "report --format json"
c() { jqv "$T/r.json" ".collectors.$1"; }
jqv "$T/r.json" '.session.complete == true' > /dev/null
# every collector has what its part of the workload made
assert_ge "sched outliers" "$(c 'sched.outliers | length')" 1
assert_eq "bio outliers" "$(c 'bio.outliers | length')" $((NR + NW))
assert_ge "tcp lifecycle records" "$(c 'tcp.lifecycle_records')" 2
assert_ge "app services" "$(c 'app.services | length')" 1
assert_ge "alloc big allocations" "$(c 'alloc.big_allocations | length')" 1
assert_ge "cpu samples" "$(c 'cpu.samples')" 1
assert_ge "cpu processes seen" "$(c 'cpu.processes_seen')" 1
assert_ge "offcpu blocks" "$(c 'offcpu.blocks')" 20
assert_ge "system context switches" "$(c 'system.context_switches')" 1

for fmt in text html prometheus; do
	"$DISCO" report "$F" --format $fmt > "$T/r.$fmt" || fail "report --format $fmt"
	[ -s "$T/r.$fmt" ] || fail "report --format $fmt printed nothing"
done
for col in cpu offcpu; do
	"$DISCO" report "$F" --format folded -e $col > "$T/$col.folded" || fail "report --format folded -e $col"
	[ -s "$T/$col.folded" ] || fail "folded -e $col printed nothing"
done
# pprof of every stack collector, read by go tool pprof
for col in cpu offcpu alloc; do
	"$DISCO" report "$F" --format pprof -e $col > "$T/$col.pb.gz" || fail "report --format pprof -e $col"
	HOME=$T GOCACHE=$T/gocache go tool pprof -raw "$T/$col.pb.gz" > "$T/$col.raw" 2>&1 ||
		fail "go tool pprof -raw cannot read the $col profile: $(head -3 "$T/$col.raw")"
done
"$DISCO" report "$F" --intervals > "$T/iv.txt" || fail "report --intervals"
[ -s "$T/iv.txt" ] || fail "report --intervals printed nothing"
for fmt in text json html; do
	"$DISCO" report --compare "$F" "$F" --format $fmt > /dev/null || fail "report --compare --format $fmt"
done
for fmt in text folded html; do
	"$DISCO" report --diff "$F" "$F" --format $fmt -e cpu > /dev/null || fail "report --diff --format $fmt"
done
"$DISCO" tune --from "$F" > "$T/tune.txt" || fail "tune --from"
grep -q "recommendations" "$T/tune.txt" || fail "tune --from: $(head -3 "$T/tune.txt")"
# `make fuzz` seeds its session targets with this file
[ -z "${KEEP_SESSION:-}" ] || cp "$F" "$KEEP_SESSION"
exit 0
