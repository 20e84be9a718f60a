#!/usr/bin/env bash
# alloc collector with -p PID on a fixture started separately (it waits
# for a file before allocating, so the probes are in place first), and
# with --sample: the report says it is sampled.
. "$(dirname "$0")/lib.sh"
need_root

"$FIXTURES/alloc_fixture" --wait-file "$T/go" --linger 900 basic &
fpid=$!
on_exit "kill $fpid"
"$DISCO" record -e alloc --user-only -o "$T/a.data" -p "$fpid" > "$T/out.txt" 2> "$T/err.txt" &
dpid=$!
on_exit "kill $dpid"
for ((i = 0; i < 300; i++)); do
	grep -q "recording to" "$T/err.txt" && break
	sleep 0.1
done
grep -q "recording to" "$T/err.txt" || { cat "$T/err.txt" >&2; fail "disco did not start"; }
touch "$T/go"
wait "$dpid" || fail "record exited with $?"
"$DISCO" report "$T/a.data" --format json > "$T/r.json" || fail "report failed"
top=$(jqv "$T/r.json" '.collectors.alloc.sites[0].stack[0]')
case $top in leak_here+*) ;; *) fail "top site is '$top'";; esac
assert_eq "leak blocks via -p" "$(jqv "$T/r.json" '.collectors.alloc.sites[0].outstanding_allocs')" 7
assert_eq "leak bytes via -p" "$(jqv "$T/r.json" '.collectors.alloc.sites[0].outstanding_bytes')" 7000
assert_eq "target pid" "$(jqv "$T/r.json" '.collectors.alloc.targets[0].pid')" "$fpid"
# the libc path says once what a probed pair costs, measured at start
grep -q "each malloc+free pair probed in libc costs about [0-9.]* us here" "$T/err.txt" ||
	{ cat "$T/err.txt" >&2; fail "no measured cost of the libc path"; }
assert_ge "measured libc pair cost (ns)" "$(jqv "$T/r.json" '.collectors.alloc.sampling.libc_pair_ns')" 100

# a process that does not exist is one clear error
"$DISCO" record -e alloc -q -o "$T/b.data" -p 999999999 2> "$T/err2.txt" && fail "bogus pid accepted"
[ "$(wc -l < "$T/err2.txt")" -le 3 ] || { cat "$T/err2.txt" >&2; fail "noisy error for a bogus pid"; }

# --sample (libc uprobes): scaled figures, and the report says so
"$DISCO" record -e alloc --user-only --libc-uprobes --sample 4 -q -o "$T/s.data" -- "$FIXTURES/alloc_fixture" basic ||
	fail "sampled record failed"
"$DISCO" report "$T/s.data" --format json > "$T/s.json" || fail "report failed"
assert_eq "sampling recorded" "$(jqv "$T/s.json" '.collectors.alloc.sampling.one_in')" 4
assert_eq "scaled flag" "$(jqv "$T/s.json" '.collectors.alloc.sampling.scaled')" true
"$DISCO" report "$T/s.data" | grep -q "SAMPLED: one allocation in 4" || fail "text report hides sampling"
# every scaled figure is a multiple of 4
bad=$(jqv "$T/s.json" '[.collectors.alloc.sites[] | select(.total_allocs % 4 != 0)] | length')
assert_eq "unscaled sites" "$bad" 0
echo "-p $fpid: leak_here 7 x 1000 B; --sample 4 reported"
