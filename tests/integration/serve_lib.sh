# Helpers for the tests of disco serve (sourced after lib.sh).

# serve_wait PID: wait until the disco serve started as PID, its stderr in
# $T/serve.err, says where it listens; sets addr (ADDR:PORT).
serve_wait() {
	for _ in $(seq 150); do
		grep -q "serving http://" "$T/serve.err" && break
		kill -0 "$1" 2>/dev/null || { cat "$T/serve.err"; fail "disco serve exited early"; }
		sleep 0.1
	done
	addr=$(sed -n 's|.*serving http://\([^/]*\)/metrics.*|\1|p' "$T/serve.err")
	[ -n "$addr" ] || { cat "$T/serve.err"; fail "disco serve did not say where it listens"; }
}

# a loopback port nobody listens on
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		[ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return; }
	done
	fail "no free port found"
}

# prometheus_start CONFIG: a Prometheus of this test's own on a free
# loopback port, storage in $T/tsdb; sets api (its /api/v1 URL) and ppid_.
prometheus_start() {
	local pport
	pport=$(free_port)
	mkdir -p "$T/tsdb"
	prometheus --config.file="$1" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address="127.0.0.1:$pport" > "$T/prometheus.log" 2>&1 &
	ppid_=$!
	on_exit "kill -9 $ppid_"
	api="http://127.0.0.1:$pport/api/v1"
}
