#!/usr/bin/env bash
# The shipped dashboard and alert rules against a real Prometheus: it
# scrapes disco serve (every collector) while a workload of this test's own
# does block IO, TCP connections and allocations in a cgroup of its own;
# every PromQL expression of deploy/grafana/disco.json and of
# deploy/prometheus/disco-rules.yml (alerts without their threshold) must
# return data through the HTTP API. Plus promtool check/test rules.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
need_root
for t in curl jq promtool prometheus losetup python3; do
	command -v $t >/dev/null || skip "needs $t"
done
D=deploy
promtool check rules $D/prometheus/disco-rules.yml || fail "promtool check rules"
promtool test rules $D/prometheus/disco-rules.test.yml || fail "promtool test rules"

truncate -s 32M "$T/img"
L=$(losetup -f --show "$T/img") || skip "no free loop device"
on_exit "losetup -d $L"
CG=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ -f $d/cgroup.controllers ] && CG=$d && break
done
[ -n "$CG" ] || skip "no cgroup v2 hierarchy"
C=$(mktemp -d "$CG/disco-test-deploy.XXXXXX") || skip "cannot create a cgroup"
on_exit "rmdir $C"

# the workload: O_DIRECT 4 KiB writes and reads, a TCP connection to itself,
# a few thousand allocations, every 20 ms
cat > "$T/wl.py" <<'EOF'
import mmap, os, socket, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(os.getpid(), flush=True)
n = 0
while True:
    os.pwritev(fd, [buf], (n % 4096) * 4096)
    os.preadv(fd, [buf], ((n * 7) % 4096) * 4096)
    c = socket.create_connection(srv.getsockname())
    a, _ = srv.accept()
    c.sendall(b"x" * 1000)
    a.recv(1000)
    c.close()
    a.close()
    keep = [bytearray(2000) for _ in range(200)]
    n += 1
    time.sleep(0.02)
EOF
sh -c 'echo $$ > "$1/cgroup.procs"; exec python3 "$2" "$3"' sh "$C" "$T/wl.py" "$L" > "$T/wl.out" 2>&1 &
wpid=$!
on_exit "kill $wpid"
for _ in $(seq 50); do [ -s "$T/wl.out" ] && break; sleep 0.1; done
[ "$(head -1 "$T/wl.out")" = "$wpid" ] || { cat "$T/wl.out"; fail "workload did not start"; }

"$DISCO" serve -e sched,bio,tcp,system,alloc -p $wpid --bpf-stats on --listen 127.0.0.1:0 \
	2> "$T/serve.err" &
spid=$!
on_exit "kill -9 $spid"
serve_wait $spid
curl -sf "http://$addr/metrics" | promtool check metrics || fail "promtool check metrics"

cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/$D/prometheus/disco-rules.yml
scrape_configs:
  - job_name: disco
    static_configs:
      - targets: ['$addr']
EOF
prometheus_start "$T/prometheus.yml"
for _ in $(seq 100); do
	curl -sf -o "$T/up.json" --data-urlencode 'query=up{job="disco"} == 1' "$api/query" &&
		[ "$(jq '.data.result | length' "$T/up.json")" = 1 ] && break
	kill -0 $ppid_ 2>/dev/null || { tail "$T/prometheus.log"; fail "prometheus exited"; }
	sleep 0.3
done
[ "$(jq '.data.result | length' "$T/up.json")" = 1 ] || fail "prometheus never scraped disco"
# enough scrapes for rates over the dashboard's window
sleep 20
curl -sf -o "$T/rules.json" "$api/rules" || fail "rules API"
assert_eq "alert rules Prometheus loaded" "$(jq '[.data.groups[].rules[]] | length' "$T/rules.json")" \
	"$(grep -c '^ *- alert:' $D/prometheus/disco-rules.yml)"
assert_eq "rules with evaluation errors" "$(jq '[.data.groups[].rules[] | select(.health != "ok")] | length' "$T/rules.json")" 0

# dashboard variables as Grafana would expand them over this one instance
jq -r '.panels[].targets[]?.expr' $D/grafana/disco.json > "$T/exprs"
ndash=$(wc -l < "$T/exprs")
# alerts without their threshold: the series they compare must exist
sed -n 's/^ *expr: //p' $D/prometheus/disco-rules.yml |
	sed -E 's/ *(==|!=|>=|<=|>|<) *[0-9.e+-]+$//' >> "$T/exprs"
nall=$(wc -l < "$T/exprs")
assert_ge "dashboard expressions" "$ndash" 30
bad=0
while IFS= read -r e; do
	q=$(printf '%s' "$e" | sed -e 's/\$__rate_interval/15s/g' -e 's/\$instance/.*/g')
	if ! curl -sf -o "$T/r.json" --data-urlencode "query=$q" "$api/query"; then
		echo "query failed: $q" >&2
		bad=$((bad + 1))
	elif [ "$(jq '.data.result | length' "$T/r.json")" -lt 1 ]; then
		echo "no data: $q" >&2
		bad=$((bad + 1))
	fi
done < "$T/exprs"
assert_eq "expressions without data (of $nall)" "$bad" 0
echo "ok: $ndash dashboard and $((nall - ndash)) alert expressions return data"
