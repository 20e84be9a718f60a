#!/usr/bin/env bash
# A session recorded with filters (-p, --min-latency, a collector's own
# --port/--ipv4) says so in the text, HTML and JSON report; one recorded
# without any says none.
. "$(dirname "$0")/lib.sh"
need_root

sleep 30 &
pid=$!
on_exit "kill $pid"
"$DISCO" record -e sched,tcp -q -d 1 -p $pid --min-latency 3ms --port 8080 --ipv4 \
	-o "$T/f.data" || fail "record with filters failed"

"$DISCO" report "$T/f.data" > "$T/f.txt" || fail "report text"
want="filters: pids=$pid, min_latency=3.0ms; tcp: port=8080, ipv4"
grep -qxF "$want" "$T/f.txt" || { head -3 "$T/f.txt"; fail "text report lacks '$want'"; }

"$DISCO" report "$T/f.data" --format html > "$T/f.html" || fail "report html"
grep -qF "<th class=\"s\">filters</th><td class=\"s\">pids=$pid, min_latency=3.0ms; tcp: port=8080, ipv4</td>" \
	"$T/f.html" || fail "HTML report lacks the filters row"

"$DISCO" report "$T/f.data" --format json > "$T/f.json" || fail "report json"
assert_eq "pid filter" "$(jqv "$T/f.json" '.session.filters.pids[0]')" "$pid"
assert_eq "min latency" "$(jqv "$T/f.json" '.session.filters.min_latency_ns')" 3000000
assert_eq "tcp --port" "$(jqv "$T/f.json" '.session.filters.collectors.tcp.port | join(",")')" 8080
assert_eq "tcp --ipv4" "$(jqv "$T/f.json" '.session.filters.collectors.tcp.ipv4')" true
# only collectors that ran carry their options
assert_eq "collectors with options" "$(jqv "$T/f.json" '.session.filters.collectors | keys | join(",")')" tcp

# an option two collectors declare (--port: tcp and app) reaches both
"$DISCO" record -e tcp,app -q -d 1 -p $pid --port 8080 -o "$T/b.data" || fail "record -e tcp,app --port failed"
"$DISCO" report "$T/b.data" --format json > "$T/b.json" || fail "report json"
assert_eq "--port given to" "$(jqv "$T/b.json" '.session.filters.collectors | keys | join(",")')" app,tcp
assert_eq "app watched only --port" "$(jqv "$T/b.json" '.collectors.app.filters.ports | map(tostring) | join(",")')" 8080
assert_eq "tcp's --port" "$(jqv "$T/b.json" '.session.filters.collectors.tcp.port | join(",")')" 8080

# whole machine, no option: no filters line, an empty collectors object
"$DISCO" record -e sched -q -d 1 -o "$T/n.data" || fail "plain record failed"
"$DISCO" report "$T/n.data" > "$T/n.txt" || fail "report text"
grep -q '^filters:' "$T/n.txt" && fail "a session without filters shows a filters line"
"$DISCO" report "$T/n.data" --format html | grep -q '>filters<' && fail "HTML shows filters without any"
assert_eq "no collector options" "$(jqv <("$DISCO" report "$T/n.data" --format json) '.session.filters.collectors | length')" 0
echo ok
