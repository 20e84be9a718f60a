#!/usr/bin/env bash
# disco serve end to end: /metrics passes promtool and carries live sched
# histograms, HTTP errors are right, capabilities are dropped, and a real
# Prometheus server scrapes it (queried through its HTTP API).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
need_root
command -v curl >/dev/null || skip "needs curl"
command -v promtool >/dev/null || skip "needs promtool (package prometheus)"
command -v prometheus >/dev/null || skip "needs prometheus"

"$DISCO" serve -e sched --listen 127.0.0.1:0 --max-series 5 2> "$T/serve.err" &
spid=$!
on_exit "kill -9 $spid"
serve_wait $spid
case $addr in 127.0.0.1:*) ;; *) fail "default bind is not loopback: $addr";; esac
echo "disco serve on $addr"

# capabilities dropped after attaching: only KILL, DAC_READ_SEARCH, SYS_PTRACE, SYSLOG left
capeff=$(awk '/^CapEff/ {print $2}' /proc/$spid/status)
assert_eq "CapEff of disco serve" "$capeff" "0000000400080024"

sleep 1
code=$(curl -s -o "$T/m1.txt" -w '%{http_code} %{content_type}' "http://$addr/metrics")
assert_eq "GET /metrics" "$code" "200 text/plain; version=0.0.4; charset=utf-8"
promtool check metrics < "$T/m1.txt" || fail "promtool check metrics rejects /metrics"
c1=$(awk '$1 == "disco_sched_runq_latency_seconds_count" {print $2}' "$T/m1.txt")
assert_ge "sched runq_latency count in /metrics" "${c1:-0}" 1
inf=$(awk '$1 == "disco_sched_runq_latency_seconds_bucket{le=\"+Inf\"}" {print $2}' "$T/m1.txt")
assert_eq "+Inf bucket equals _count" "$inf" "$c1"
grep -q '^disco_build_info{version="[^"]*",kernel="'"$(uname -r)"'"} 1$' "$T/m1.txt" || fail "no disco_build_info"
grep -q '^disco_drops_total{collector="sched"} ' "$T/m1.txt" || fail "no drops counter"
grep -q '^disco_hook_info{collector="sched",hook="sched:sched_switch",method="' "$T/m1.txt" || fail "no hook info"
# no per-process labels by default: sums per cgroup, 5 at most plus "other"
grep -q 'pid="' "$T/m1.txt" && fail "pid labels without --per-pid"
np=$(grep -c '^disco_sched_processes_runq_latency_seconds_count{cgroup_id="' "$T/m1.txt")
assert_ge "per-cgroup series" "$np" 1
assert_le "per-cgroup series (--max-series 5)" "$np" 6
# every HELP line is a sentence, not a JSON path
grep '^# HELP' "$T/m1.txt" | grep 'collectors\.' && fail "HELP lines that are JSON paths"

# each scrape is a fresh snapshot: the kernel's counts only grow
sleep 1.2
curl -sf -o "$T/m2.txt" "http://$addr/metrics" || fail "second scrape failed"
c2=$(awk '$1 == "disco_sched_runq_latency_seconds_count" {print $2}' "$T/m2.txt")
assert_ge "count grows between scrapes" "$c2" "$((c1 + 1))"

assert_eq "GET /" "$(curl -s -o "$T/index.html" -w '%{http_code}' "http://$addr/")" 200
grep -q 'href="/metrics"' "$T/index.html" || fail "/ does not link to /metrics"
assert_eq "GET /nope" "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/nope")" 404
assert_eq "POST /metrics" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://$addr/metrics")" 405
assert_eq "DELETE /metrics" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$addr/metrics")" 405

# a real Prometheus scrapes it
cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: disco
    static_configs:
      - targets: ['$addr']
EOF
prometheus_start "$T/prometheus.yml"
api="$api/query"
ok=
for _ in $(seq 60); do
	kill -0 $ppid_ 2>/dev/null || { tail -20 "$T/prometheus.log"; fail "prometheus exited"; }
	if curl -sf -o "$T/q.json" --data-urlencode 'query=disco_sched_runq_latency_seconds_count{job="disco"}' "$api" &&
	   [ "$(jq -r '.data.result | length' "$T/q.json")" -ge 1 ]; then
		ok=1
		break
	fi
	sleep 0.5
done
[ -n "$ok" ] || { tail -20 "$T/prometheus.log"; fail "prometheus never stored a disco sample"; }
v=$(jq -r '.data.result[0].value[1]' "$T/q.json")
assert_ge "runq_latency count seen by prometheus" "$v" 1
curl -sf -o "$T/up.json" --data-urlencode 'query=up{job="disco"}' "$api" || fail "query up"
assert_eq "up{job=disco}" "$(jq -r '.data.result[0].value[1]' "$T/up.json")" 1
curl -sf -o "$T/bi.json" --data-urlencode 'query=disco_build_info' "$api" || fail "query build info"
assert_eq "build_info kernel label" "$(jq -r '.data.result[0].metric.kernel' "$T/bi.json")" "$(uname -r)"
# histogram_quantile works on the exported buckets
curl -sf -o "$T/hq.json" --data-urlencode \
	'query=histogram_quantile(0.99, disco_sched_runq_latency_seconds_bucket{job="disco"})' "$api" || fail "query quantile"
q=$(jq -r '.data.result[0].value[1]' "$T/hq.json")
echo "prometheus: count=$v p99=${q}s"
awk -v q="$q" 'BEGIN { exit !(q + 0 > 0) }' || fail "histogram_quantile gave '$q'"
# scrapes succeeded without sample errors
curl -sf -o "$T/ss.json" --data-urlencode 'query=scrape_samples_scraped{job="disco"}' "$api" || fail "query samples"
assert_ge "samples per scrape" "$(jq -r '.data.result[0].value[1]' "$T/ss.json")" 50
kill -TERM $ppid_
wait $ppid_ 2>/dev/null

# SIGTERM: clean exit
kill -TERM $spid
for _ in $(seq 50); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
kill -0 $spid 2>/dev/null && fail "disco serve still running 5 s after SIGTERM"
wait $spid
assert_eq "exit status after SIGTERM" "$?" 0
grep -q "terminated; stopped serving" "$T/serve.err" || fail "no clean stop message"
exit 0
