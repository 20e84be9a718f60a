#!/usr/bin/env bash
# A process that names itself with ESC, BEL, CR, newline, invalid UTF-8 and
# <script>, recorded on a host whose name is just as hostile, goes through
# every report format: no raw control byte in text, valid UTF-8 JSON, no
# open tag in HTML, and Prometheus output that promtool accepts.
. "$(dirname "$0")/lib.sh"
need_root
for t in jq promtool iconv unshare taskset; do
	command -v $t >/dev/null || skip "needs $t"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

# comm is the first 15 bytes of the file name exec'd: 13 bytes here
evil=$'\e\a\r\n\xff<script>'
cp /bin/sh "$T/$evil"
cpu=1
taskset -c $cpu "$FIXTURES/sched_load" hog 4 &
on_exit "kill $! 2>/dev/null"
# a UTS namespace of our own: the hostname in the session header is hostile too
# (written through /proc, which ends a name at a newline: no newline in it)
unshare -u sh -c 'printf %s "$1" > /proc/sys/kernel/hostname && shift && exec "$@"' - $'h\e]0;owned\a<b>' \
	"$DISCO" record -e sched --min-latency 1ms -q -o "$T/s.data" -- \
	taskset -c $cpu "$T/$evil" -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done' ||
	fail "record failed"

"$DISCO" report "$T/s.data" --format json > "$T/r.json" || fail "json report failed"
iconv -f UTF-8 -t UTF-8 "$T/r.json" > /dev/null || fail "JSON report is not valid UTF-8"
jq . "$T/r.json" > /dev/null || fail "jq cannot parse the JSON report"
# the process is there, its name cleaned (every bad byte one '?'), not dropped
n=$(jq '[.collectors.sched.processes[] | select(.comm == "?????<script>")] | length' "$T/r.json")
assert_eq "processes named ?????<script>" "$n" 1
n=$(jq '[.collectors.sched.outliers[] | select(.comm == "?????<script>")] | length' "$T/r.json")
assert_ge "outliers naming ?????<script>" "$n" 1
assert_eq "hostname" "$(jq -r .session.hostname "$T/r.json")" 'h?]0;owned?<b>'

"$DISCO" report "$T/s.data" > "$T/r.txt" || fail "text report failed"
if tr -d '\n\t' < "$T/r.txt" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	fail "raw control byte in the text report: $(LC_ALL=C grep -n '[[:cntrl:]]' "$T/r.txt" | cat -v | head -3)"
fi
iconv -f UTF-8 -t UTF-8 "$T/r.txt" > /dev/null || fail "text report is not valid UTF-8"
grep -qF 'disco session: h?]0;owned?<b>,' "$T/r.txt" || fail "hostname line: $(head -1 "$T/r.txt" | cat -v)"

"$DISCO" report "$T/s.data" --format html > "$T/r.html" || fail "html report failed"
! grep -qF -e '<script>' -e 'owned?<b>' "$T/r.html" || fail "unescaped tag in the HTML report"
grep -qF '?????&lt;script&gt;' "$T/r.html" || fail "escaped name missing from the HTML report"
! LC_ALL=C grep -q $'\e' "$T/r.html" || fail "raw ESC in the HTML report"

"$DISCO" report "$T/s.data" --format prometheus > "$T/r.prom" || fail "prometheus report failed"
promtool check metrics < "$T/r.prom" || fail "promtool rejects the metrics"
! LC_ALL=C grep -q $'\e' "$T/r.prom" || fail "raw ESC in the Prometheus output"
exit 0
