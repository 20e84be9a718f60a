#!/usr/bin/env bash
# app collector: request/response turns of a keep-alive HTTP server and of a
# line-based echo server, on every hook path (socket tracepoints via tp_btf
# and raw_tp, and the syscall tracepoints that stand in for them on
# kernels before 6.3): request counts exact against ab's own, per-route
# p50 within 10% of the handler's own measured service time (the 20 ms
# sleep overruns on a busy machine; the fixture logs what it took, before
# and after its write), 5xx counted exactly,
# id segments folded, pipelined requests counted one by one.
. "$(dirname "$0")/lib.sh"
need_root
command -v ab >/dev/null || skip "ab not installed (make deps)"
command -v jq >/dev/null || skip "jq not installed (make deps)"

# start_server MODE NAME: app_server on a kernel-chosen loopback port
start_server() {
	rm -f "$T/$2.port" "$T/$2.port.times"
	"$FIXTURES/app_server" "$1" "$T/$2.port" &
	echo $! > "$T/$2.pid"
	on_exit "kill $(cat "$T/$2.pid")"
	for _ in $(seq 50); do [ -s "$T/$2.port" ] && break; sleep 0.1; done
	[ -s "$T/$2.port" ] || fail "app_server $1 did not start"
}

# record_start OUT ARGS...: record -e app in the background, wait
# until it is attached; stop_recording ends it with SIGINT.
record_start() {
	local out=$1; shift
	rm -f "$T/rec.err"
	"$DISCO" record -e app -f -o "$out" -d 120 "$@" > /dev/null 2> "$T/rec.err" &
	REC=$!
	for _ in $(seq 300); do grep -q 'recording to' "$T/rec.err" && return 0; sleep 0.1; done
	cat "$T/rec.err" >&2
	fail "disco record did not start"
}
record_stop() {
	kill -INT "$REC"
	wait "$REC" || { cat "$T/rec.err" >&2; fail "disco record exited $?"; }
}

# server_p50 TIMES ROUTE COLUMN: the median service time the fixture
# measured itself; column 2: until it wrote, 3: until the write returned
server_p50() {
	awk -v r="$2" -v c="$3" '$1 == r {print $c}' "$1" | sort -n |
		awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print 0}'
}
# check_p50 NAME DISCO_P50 TIMES ROUTE: within 10% of the server's own
check_p50() {
	local lo hi
	lo=$(server_p50 "$3" "$4" 2) hi=$(server_p50 "$3" "$4" 3)
	echo "   $1 p50: disco $2 ns, server's own $lo..$hi ns"
	assert_ge "$1 p50" "$2" "$(awk -v t="$lo" 'BEGIN{print t * 0.9}')"
	assert_le "$1 p50" "$2" "$(awk -v t="$hi" 'BEGIN{print t * 1.1}')"
}

# ab_run N C PATH: exactly N keep-alive requests, C at a time
ab_run() {
	ab -q -k -n "$1" -c "$2" "http://127.0.0.1:$PORT$3" > "$T/ab.out" 2>&1 || { cat "$T/ab.out" >&2; fail "ab $3"; }
	assert_eq "ab complete $3" "$(awk '/^Complete requests:/ {print $3}' "$T/ab.out")" "$1"
}

for method in default raw_tp tracepoint; do
	echo "-- hooks: $method"
	if [ "$method" = default ]; then unset DISCO_FORCE_METHOD; else export DISCO_FORCE_METHOD=$method; fi

	# HTTP, port given, server started before the session
	start_server http http
	PORT=$(cat "$T/http.port")
	record_start "$T/http-$method.data" --port "$PORT"
	ab_run 300 4 /fast
	ab_run 60 2 /slow
	ab_run 120 3 /err
	ab_run 40 2 /users/12345
	ab_run 40 2 /users/0b3b5e3c-7c4a-4e45-9d2c-0f3ee1d84b9a
	"$FIXTURES/app_server" pipeline "$PORT" 7 || fail "pipelined client"
	record_stop
	"$DISCO" report "$T/http-$method.data" --format json > "$T/http.json" || fail "report"
	S=".collectors.app.services[] | select(.port == $PORT)"
	R() { jqv "$T/http.json" "[.collectors.app.routes[] | select(.port == $PORT and .route == \"$1\")][0] | $2"; }
	if [ "$method" = tracepoint ]; then
		assert_eq "syscall hooks" "$(jqv "$T/http.json" '[.collectors.app.hooks[] | select(.hook | startswith("syscalls:")) | .method] | unique | join(",")')" tracepoint
	else
		want=$method; [ "$method" = default ] && want=tp_btf
		assert_eq "socket hooks" "$(jqv "$T/http.json" '[.collectors.app.hooks[] | select(.hook | startswith("sock:sock_")) | .method] | unique | join(",")')" "$want"
	fi
	assert_eq "protocol" "$(jqv "$T/http.json" "$S | .protocol")" http
	assert_eq "responses" "$(jqv "$T/http.json" "$S | .http_responses")" $((300 + 60 + 120 + 80 + 7))
	assert_eq "5xx" "$(jqv "$T/http.json" "$S | .status_5xx")" 120
	assert_eq "2xx" "$(jqv "$T/http.json" "$S | .status_2xx")" $((300 + 60 + 80 + 7))
	# one turn per request; the 7 pipelined requests arrived in one receive: one turn
	assert_eq "turns" "$(jqv "$T/http.json" "$S | .turns")" $((300 + 60 + 120 + 80 + 1))
	assert_eq "/fast count" "$(R /fast .latency.count)" $((300 + 1))
	assert_eq "/slow count" "$(R /slow .latency.count)" 60
	assert_eq "/err 5xx" "$(R /err .status_5xx)" 120
	assert_eq "/err 2xx" "$(R /err .status_2xx)" 0
	# numeric and UUID segments are one route each
	assert_eq "/users/:id count" "$(R /users/:id .latency.count)" 80
	for route in /slow /users/:id; do
		check_p50 "$route" "$(R "$route" .latency.p50_ns)" "$T/http.port.times" "$route"
	done
	assert_le "/fast p50" "$(R /fast .latency.p50_ns)" 2000000
	assert_eq "methods" "$(jqv "$T/http.json" "[.collectors.app.routes[] | select(.port == $PORT) | .method] | unique | join(\",\")")" GET
	"$DISCO" report "$T/http-$method.data" > "$T/http.txt" || fail "text report"
	grep -q "app_server on :$PORT .* HTTP/1.x" "$T/http.txt" || { cat "$T/http.txt" >&2; fail "text report names the service"; }
	grep -q "/users/:id" "$T/http.txt" || fail "text report lists routes"
	kill "$(cat "$T/http.pid")"

	# a line protocol, no port filter, server started during the session:
	# its port is learned from its first passive open
	record_start "$T/echo-$method.data"
	start_server echo echo
	PORT=$(cat "$T/echo.port")
	"$FIXTURES/app_server" lines "$PORT" 40 || fail "lines client"
	"$FIXTURES/app_server" lines "$PORT" 10 || fail "lines client"
	record_stop
	"$DISCO" report "$T/echo-$method.data" --format json > "$T/echo.json" || fail "report"
	S=".collectors.app.services[] | select(.port == $PORT)"
	assert_eq "echo protocol" "$(jqv "$T/echo.json" "$S | .protocol")" tcp
	assert_eq "echo turns" "$(jqv "$T/echo.json" "$S | .turns")" 50
	assert_eq "echo http responses" "$(jqv "$T/echo.json" "$S | .http_responses")" 0
	assert_eq "echo routes" "$(jqv "$T/echo.json" "[.collectors.app.routes[] | select(.port == $PORT)] | length")" 0
	assert_eq "echo bytes in" "$(jqv "$T/echo.json" "$S | .request_bytes")" 250
	check_p50 echo "$(jqv "$T/echo.json" "$S | .latency.p50_ns")" "$T/echo.port.times" line
	kill "$(cat "$T/echo.pid")"
done
echo "app: ok"
