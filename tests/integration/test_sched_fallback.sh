#!/usr/bin/env bash
# The fallback chains are real code paths: force raw_tp and classic
# tracepoints (which this kernel would never pick) and check they record.
. "$(dirname "$0")/lib.sh"
need_root

for m in raw_tp tracepoint; do
	DISCO_FORCE_METHOD=$m "$DISCO" check --json > "$T/c.json" || true
	got=$(jq -r '.collectors.sched.hooks[] | select(.hook == "sched:sched_switch") | .method' "$T/c.json")
	assert_eq "check with DISCO_FORCE_METHOD=$m" "$got" "$m"
	DISCO_FORCE_METHOD=$m "$DISCO" record -e sched -q -d 2 -o "$T/$m.data" || fail "record via $m failed"
	"$DISCO" report "$T/$m.data" --format json > "$T/$m.json" || fail "report ($m)"
	used=$(jq -r '.collectors.sched.hooks[] | select(.hook == "sched:sched_switch") | .method' "$T/$m.json")
	assert_eq "method recorded" "$used" "$m"
	cnt=$(jqv "$T/$m.json" '.collectors.sched.runq_latency.count')
	sw=$(jqv "$T/$m.json" '.collectors.sched.switches.voluntary + .collectors.sched.switches.involuntary')
	echo "$m: $cnt latency samples, $sw switches"
	assert_ge "latency samples via $m" "$cnt" 10
	assert_ge "switches via $m" "$sw" 10
done
exit 0
