#!/usr/bin/env bash
# disco bench: every workload gives a well-formed disco.bench/1 result; a
# result compared with itself passes (0); against a baseline 50% faster it
# fails (3); with root the collectors attach and report kernel latency.
source tests/integration/lib.sh

r=$T/r.json
"$DISCO" bench --workload sched,io,tcp,alloc --duration 1 --repeat 2 --json "$r" \
	>"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "disco bench exited $?"; }
cat "$T/out"

jqv "$r" '.schema == "disco.bench/1"' >/dev/null
assert_eq kernel_release "$(jq -r .kernel_release "$r")" "$(uname -r)"
assert_ge machine.cpus "$(jq .machine.cpus "$r")" 1
assert_eq figures "$(jq -r '.workloads | keys | sort | join(",")' "$r")" \
	"alloc,io_randread,io_randwrite,sched_pinned,sched_unpinned,tcp"
for w in $(jq -r '.workloads | keys[]' "$r"); do
	q=".workloads.$w"
	assert_eq "$w repeats" "$(jq "$q.repeats | length" "$r")" 2
	jqv "$r" "[$q.repeats[].ops_per_sec > 0] | all" >/dev/null
	jqv "$r" "$q.min <= $q.median and $q.median <= $q.max" >/dev/null
	jqv "$r" "($q.max - $q.min) / $q.median - $q.spread | fabs < 1e-9" >/dev/null
	# latency either measured or explained, never silently absent
	jqv "$r" "($q.latency_p99_ns.median > 0) or ($q.latency_unavailable | type == \"string\")" >/dev/null
	grep -q "^$w " "$T/out" || fail "text table has no row for $w"
done
# with root, the sched collector (on main) must really measure run-queue latency
if [ "$(id -u)" = 0 ] && "$DISCO" check --json | jq -e '.collectors.sched.ok' >/dev/null; then
	jqv "$r" '.workloads.sched_pinned.latency_p99_ns.median > 0' >/dev/null
	assert_ge "sched events" "$(jq '.workloads.sched_pinned.repeats[0].latency_count' "$r")" 1
fi

# the same result against itself: nothing moved
"$DISCO" bench --compare "$r" --baseline "$r" --max-regress 5 >"$T/self" 2>&1
assert_eq "self-compare exit" "$?" 0
grep -q 'REGRESSION' "$T/self" && fail "self-compare reports a regression"

# a baseline 50% faster: throughput fell by a third. Flatten the repeats of
# both sides first so the run-to-run spread cannot excuse it.
jq '.workloads[] |= (.median as $m | .repeats[].ops_per_sec = $m)' "$r" >"$T/now.json"
jq '.workloads[].repeats[].ops_per_sec *= 1.5' "$T/now.json" >"$T/fast.json"
"$DISCO" bench --compare "$T/now.json" --baseline "$T/fast.json" --max-regress 10 >"$T/cmp" 2>&1
rc=$?
cat "$T/cmp"
assert_eq "faster-baseline exit" "$rc" 3
assert_eq "regressed rows" "$(grep -c 'REGRESSION' "$T/cmp")" 6
grep -q -- '-33.3%' "$T/cmp" || fail "change column does not show -33.3%"

# the real repeats: the 50% faster baseline still fails wherever this run's
# own spread is below the 33% drop
jq '.workloads[].repeats[].ops_per_sec *= 1.5' "$r" >"$T/fast2.json"
"$DISCO" bench --compare "$r" --baseline "$T/fast2.json" --max-regress 10 >"$T/cmp2" 2>&1
rc=$?
quiet=$(jq '[.workloads[] | select(.spread < 0.33)] | length' "$r")
if [ "$quiet" -gt 0 ]; then
	assert_eq "faster-baseline exit (real spread)" "$rc" 3
else
	assert_eq "faster-baseline exit (every figure noisier than the drop)" "$rc" 0
fi

# a baseline from another kernel is noted in the header, not an error
jq '.kernel_release = "6.1.0-56-amd64"' "$r" >"$T/other.json"
"$DISCO" bench --compare "$r" --baseline "$T/other.json" >"$T/cmp3" 2>&1
assert_eq "other-kernel exit" "$?" 0
grep -q "kernels differ (6.1.0-56-amd64 -> $(uname -r))" "$T/cmp3" || fail "kernel mismatch not noted"

# hostile or broken baselines: one clear line, exit 1
printf '{"schema":"disco.bench/1"' >"$T/trunc.json"
"$DISCO" bench --compare "$r" --baseline "$T/trunc.json" >/dev/null 2>"$T/e1"
assert_eq "truncated baseline exit" "$?" 1
grep -q "baseline $T/trunc.json" "$T/e1" || fail "error does not name the baseline"
# error lines printed mean a failed run: as nobody no collector can attach
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DISCO" bench --workload sched --duration 0.2 --repeat 1 -q) 2>"$T/nobody.err"
	rc=$?
	grep -q "error:" "$T/nobody.err" || fail "bench as nobody printed no error line"
	assert_eq "bench exit after printing errors" "$rc" 1
fi
# usage errors exit 2
"$DISCO" bench --workload disk 2>/dev/null
assert_eq "usage exit" "$?" 2
exit 0
