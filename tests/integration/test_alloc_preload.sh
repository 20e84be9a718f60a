#!/usr/bin/env bash
# alloc collector through libdisco-alloc.so (-- COMMAND):
#  - sampled by bytes (default mean, fixed seed): a 64 MiB leak in 64 KiB
#    blocks is estimated within 25%, the 1 GiB churn beside it has nothing
#    outstanding, the same seed gives the same figures, the report says
#    they are estimates;
#  - full mode across threads, fork and exec: every thread's leaks and the
#    exec'd child's are counted exactly;
#  - an allocator of its own (jemalloc) preloaded by the user is wrapped
#    (exact counts), and probed in place of libc's with -p;
#  - a static binary: a clear note, exit 0, its own malloc probed;
#  - a set-user-ID program (LD_PRELOAD ignored): a note, its libc probed;
#  - Python: a note that pymalloc hides small objects, which
#    PYTHONMALLOC=malloc (the note's advice) does show.
. "$(dirname "$0")/lib.sh"
need_root
A=.collectors.alloc
FIX=$FIXTURES/alloc_fixture

# sum over the sites whose first frame is in function $2 of report $1: field $3
site() {
	jq -er "[$A.sites[] | select(.stack[0] | startswith(\"$2+\")) | .$3] | add // 0" "$1" ||
		fail "jq on $2.$3 in $1"
}

# ---- sampled by bytes
for run in 1 2; do
	DISCO_ALLOC_SEED=11 "$DISCO" record -e alloc --user-only -q -o "$T/s$run.data" -- "$FIX" bigleak ||
		fail "sampled record failed"
	"$DISCO" report "$T/s$run.data" --format json > "$T/s$run.json" || fail "report failed"
done
R=$T/s1.json
assert_eq "sampling mean" "$(jqv "$R" "$A.sampling.mean_bytes")" 524288
assert_eq "estimates flagged" "$(jqv "$R" "$A.sampling.estimates")" true
leak=$(site "$R" leak_big_here outstanding_bytes)
assert_ge "64 MiB leak estimate" "$leak" $((64 * 1048576 * 3 / 4))
assert_le "64 MiB leak estimate" "$leak" $((64 * 1048576 * 5 / 4))
blocks=$(site "$R" leak_big_here outstanding_allocs)
assert_ge "1024 leaked blocks estimate" "$blocks" 768
assert_le "1024 leaked blocks estimate" "$blocks" 1280
assert_eq "churn outstanding" "$(site "$R" churn_here outstanding_bytes)" 0
churn=$(site "$R" churn_here total_bytes)
assert_ge "1 GiB churn estimate" "$churn" $((1024 * 1048576 * 3 / 4))
assert_le "1 GiB churn estimate" "$churn" $((1024 * 1048576 * 5 / 4))
assert_eq "same seed, same estimate" "$(site "$T/s2.json" leak_big_here outstanding_bytes)" "$leak"
"$DISCO" report "$T/s1.data" > "$T/s1.txt" || fail "text report failed"
grep -q "SAMPLED by bytes" "$T/s1.txt" || fail "text report does not say it is sampled"
grep -q "estimate from [0-9]* samples" "$T/s1.txt" || fail "text report lacks the confidence note"
echo "sampled: 64 MiB leak estimated at $leak B in $blocks blocks; 1 GiB churn at $churn B, 0 outstanding"

# ---- full mode across threads, fork and exec
"$DISCO" record -e alloc --user-only --alloc-sample-bytes 1 -q -o "$T/t.data" -- "$FIX" threads ||
	fail "threads record failed"
"$DISCO" report "$T/t.data" --format json > "$T/t.json" || fail "report failed"
R=$T/t.json
assert_eq "thread leaks" "$(site "$R" thread_leak_here outstanding_allocs)" 100
assert_eq "thread leak bytes" "$(site "$R" thread_leak_here outstanding_bytes)" 33300
assert_eq "thread frees" "$(site "$R" thread_leak_here freed_allocs)" 100
assert_eq "exec'd child's leaks" "$(site "$R" leak_here outstanding_allocs)" 7
parent=$(jqv "$R" "$A.targets[0].pid")
child=$(jqv "$R" "[$A.sites[] | select(.stack[0] | startswith(\"leak_here+\")) | .pids[]][0]")
[ "$child" != "$parent" ] || fail "the child's leaks are attributed to the parent"
# a child that does not exec calls the probes its parent's text had rewritten
assert_eq "forked child's leaks" "$(site "$R" fork_leak_here outstanding_allocs)" 5
assert_eq "forked child's leak bytes" "$(site "$R" fork_leak_here outstanding_bytes)" 2500

# ---- -p on a full-mode target idling after a free: the free its library
# holds back (one kernel entry per pair) is read when the session ends
LD_PRELOAD=$PWD/libdisco-alloc.so DISCO_ALLOC_SAMPLE_BYTES=1 "$FIX" --wait-file "$T/hgo" --linger 30000 freed &
hpid=$!
on_exit "kill $hpid"
"$DISCO" record -e alloc --user-only -o "$T/h.data" -p "$hpid" > /dev/null 2> "$T/h.err" &
dpid=$!
on_exit "kill $dpid"
for ((i = 0; i < 300; i++)); do grep -q "recording to" "$T/h.err" && break; sleep 0.1; done
touch "$T/hgo"
sleep 2	# its 50 pairs take microseconds; then it lingers, holding its last free
kill -INT "$dpid"
wait "$dpid" || { cat "$T/h.err" >&2; fail "-p on a full-mode target exited with $?"; }
kill "$hpid"
"$DISCO" report "$T/h.data" --format json > "$T/h.json" || fail "report failed"
assert_eq "held free: method" "$(jqv "$T/h.json" "$A.targets[0].method")" preload
assert_eq "held free: allocations" "$(site "$T/h.json" freed_here total_allocs)" 50
assert_eq "held free: none outstanding" "$(site "$T/h.json" freed_here outstanding_allocs)" 0
assert_eq "held free: every free counted" "$(jqv "$T/h.json" "$A.counters.calls.free")" 50
echo "-p, full mode: the free held back at the session's end counted as freed"

# ---- an allocator of its own
JE=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.* 2>/dev/null | head -1)
if [ -n "$JE" ]; then
	LD_PRELOAD=$JE "$DISCO" record -e alloc --user-only --alloc-sample-bytes 1 -q -o "$T/j.data" -- \
		"$FIX" basic || fail "jemalloc record failed"
	"$DISCO" report "$T/j.data" --format json > "$T/j.json" || fail "report failed"
	assert_eq "jemalloc wrapped" "$(jqv "$T/j.json" "$A.targets[0].allocator.wrapped")" true
	assert_eq "leaks under jemalloc" "$(site "$T/j.json" leak_here outstanding_bytes)" 7000
	# -p on a process started with jemalloc alone: its malloc is probed
	LD_PRELOAD=$JE "$FIX" --wait-file "$T/go" --linger 900 basic &
	fpid=$!
	on_exit "kill $fpid"
	"$DISCO" record -e alloc --user-only -o "$T/jp.data" -p "$fpid" > /dev/null 2> "$T/jp.err" &
	dpid=$!
	on_exit "kill $dpid"
	for ((i = 0; i < 300; i++)); do grep -q "recording to" "$T/jp.err" && break; sleep 0.1; done
	touch "$T/go"
	wait "$dpid" || { cat "$T/jp.err" >&2; fail "-p on a jemalloc process exited with $?"; }
	grep -q "own allocator (libjemalloc" "$T/jp.err" || { cat "$T/jp.err" >&2; fail "no note about jemalloc"; }
	"$DISCO" report "$T/jp.data" --format json > "$T/jp.json" || fail "report failed"
	case $(jqv "$T/jp.json" "$A.targets[0].libc") in *libjemalloc*) ;; *) fail "jemalloc not probed";; esac
	assert_eq "leaks via jemalloc's probes" "$(site "$T/jp.json" leak_here outstanding_bytes)" 7000
else
	echo "libjemalloc2 not installed (make deps): own-allocator case not run"
fi

# ---- a static binary: LD_PRELOAD cannot reach it
if cc -static -g -O1 -fno-omit-frame-pointer -fno-inline -o "$T/static_fixture" \
	tests/fixtures/alloc_fixture.c -lpthread 2> /dev/null; then
	"$DISCO" record -e alloc --user-only --alloc-sample-bytes 1 -o "$T/st.data" -- \
		"$T/static_fixture" basic > /dev/null 2> "$T/st.err" || { cat "$T/st.err" >&2; fail "static: exit $?"; }
	grep -q "statically linked" "$T/st.err" || { cat "$T/st.err" >&2; fail "static: no note"; }
	"$DISCO" report "$T/st.data" --format json > "$T/st.json" || fail "report failed"
	jqv "$T/st.json" "$A.targets[0].notes[0]" | grep -q "statically linked" || fail "static: note not in the report"
	assert_eq "static binary's own malloc" "$(site "$T/st.json" leak_here outstanding_bytes)" 7000
else
	echo "no static libc to link a static fixture: static case not run"
fi
# ---- a set-user-ID program: the loader ignores LD_PRELOAD (secure mode)
cp "$FIX" "$T/suid_fixture" && chown 65534 "$T/suid_fixture" && chmod 4755 "$T/suid_fixture" ||
	fail "cannot make a set-user-ID copy of the fixture"
case $(findmnt -no OPTIONS -T "$T") in
*nosuid*) echo "$T is mounted nosuid: set-user-ID case not run";;
*)
	"$DISCO" record -e alloc --user-only --alloc-sample-bytes 1 -o "$T/su.data" -- \
		"$T/suid_fixture" basic > /dev/null 2> "$T/su.err" || { cat "$T/su.err" >&2; fail "setuid: exit $?"; }
	grep -q "set-user-ID.*ignores LD_PRELOAD" "$T/su.err" || { cat "$T/su.err" >&2; fail "setuid: no note"; }
	"$DISCO" report "$T/su.data" --format json > "$T/su.json" || fail "report failed"
	assert_eq "setuid: method" "$(jqv "$T/su.json" "$A.targets[0].method")" libc-uprobes
	jqv "$T/su.json" "$A.targets[0].notes[0]" | grep -q "set-user-ID" || fail "setuid: note not in the report"
	assert_eq "setuid program's leaks via libc" "$(site "$T/su.json" leak_here outstanding_bytes)" 7000;;
esac

# ---- Python: pymalloc above malloc is said; PYTHONMALLOC=malloc, as the note advises, shows objects
PY=/usr/bin/python3
if [ -x "$PY" ]; then
	for m in pymalloc malloc; do
		PYTHONMALLOC=$m "$DISCO" record -e alloc --user-only --alloc-sample-bytes 1 -o "$T/py$m.data" -- \
			"$PY" -c 'x = [str(i) * 2 for i in range(20000)]' > /dev/null 2> "$T/py$m.err" ||
			{ cat "$T/py$m.err" >&2; fail "python ($m): exit $?"; }
		"$DISCO" report "$T/py$m.data" --format json > "$T/py$m.json" || fail "report failed"
	done
	grep -q "is Python: pymalloc" "$T/pypymalloc.err" || { cat "$T/pypymalloc.err" >&2; fail "python: no note"; }
	jqv "$T/pypymalloc.json" "$A.targets[0].notes[0]" | grep -q "is Python: pymalloc" ||
		fail "python: note not in the report"
	pa=$(jqv "$T/pypymalloc.json" "$A.counters.allocs")
	ma=$(jqv "$T/pymalloc.json" "$A.counters.allocs")
	# 20000 strings of a few bytes: each one a malloc only without pymalloc
	assert_ge "python objects seen with PYTHONMALLOC=malloc" "$ma" 20000
	assert_le "python allocations seen under pymalloc" "$((pa * 4))" "$ma"
else
	echo "no $PY: Python case not run"
fi
echo "threads+fork+exec exact; jemalloc wrapped and probed; static, set-user-ID and Python noted"
