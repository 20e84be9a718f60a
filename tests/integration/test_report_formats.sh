#!/usr/bin/env bash
# disco report --format prometheus|html on a recorded session, with a
# process whose name is hostile markup: promtool accepts the text, the
# label is escaped; the HTML page is self-contained, has charts, and shows
# the name only escaped.
. "$(dirname "$0")/lib.sh"
need_root
command -v promtool >/dev/null || skip "needs promtool (package prometheus)"

# comm is the executable's base name: quotes, markup and a backslash
evil=$'ev<i>"\\x'
cp "$(command -v sh)" "$T/$evil"
"$T/$evil" -c 'for i in $(seq 400); do sleep 0.01; done' &
epid=$!
on_exit "kill $epid"
sleep 0.2	# recorded by pid once it has exec'ed: its comm is the hostile name
"$DISCO" record -e sched -q -d 2 -p $epid -o "$T/s.data" || fail "record failed"
"$DISCO" report "$T/s.data" --format json > "$T/r.json" || fail "report json"
jqv "$T/r.json" '.collectors.sched.processes[] | select(.comm == "ev<i>\"\\x") | .pid' > /dev/null

# Prometheus text: the same as /metrics
"$DISCO" report "$T/s.data" --format prometheus > "$T/m.txt" || fail "report --format prometheus"
promtool check metrics < "$T/m.txt" || fail "promtool check metrics rejects the report"
grep -q '^disco_sched_processes_runq_latency_seconds_count{pid="[0-9]*",comm="ev<i>\\"\\\\x",' "$T/m.txt" ||
	{ grep comm= "$T/m.txt" | head -3; fail "hostile comm not escaped as a label value"; }
c=$(awk '$1 == "disco_sched_runq_latency_seconds_count" {print $2}' "$T/m.txt")
assert_eq "histogram count equals the JSON's" "$c" "$(jq .collectors.sched.runq_latency.count "$T/r.json")"
# --top bounds the per-process series
"$DISCO" report "$T/s.data" --format prometheus --top 1 > "$T/m1.txt" || fail "--top 1"
assert_eq "series with --top 1" "$(grep -c '^disco_sched_processes_runq_latency_seconds_count{' "$T/m1.txt")" 1
# -e filters collectors in every format
"$DISCO" report "$T/s.data" --format prometheus -e sched > /dev/null || fail "-e sched"

# HTML: one file, inline SVG, nothing fetched from elsewhere
"$DISCO" report "$T/s.data" --format html > "$T/r.html" || fail "report --format html"
head -c 15 "$T/r.html" | grep -q '<!DOCTYPE html>' || fail "not an HTML document"
grep -q '<svg ' "$T/r.html" || fail "no SVG chart"
grep -q '<rect class="bar"' "$T/r.html" || fail "chart without bars"
if grep -Eq 'https?://|src=|<script|<link|@import|url\(' "$T/r.html"; then
	grep -Eo '.{20}(https?://|src=|<script|<link|@import|url\().{20}' "$T/r.html" | head -3
	fail "external resource or script in the HTML report"
fi
grep -q 'ev&lt;i&gt;&quot;\\x' "$T/r.html" || fail "hostile comm not shown escaped"
if grep -q 'ev<i>' "$T/r.html"; then fail "hostile comm written raw into the HTML"; fi
grep -q '>Processes ' "$T/r.html" || fail "no process table"

# an unknown format is a usage error
"$DISCO" report "$T/s.data" --format yaml 2>/dev/null
assert_eq "exit status for --format yaml" "$?" 2
exit 0
