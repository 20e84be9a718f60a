#!/usr/bin/env bash
# disco serve under slow clients: 100 connections from one local address
# that send a header line every 2 s never complete a request. While they
# hold on, a normal scrape from another address answers in under 1 s; one
# address holds at most 8 connections; and a request that is still not
# complete after its 10 s deadline is cut, though it never went idle.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"

. "$(dirname "$0")/serve_lib.sh"

"$DISCO" serve -e sched --listen 127.0.0.1:0 2> "$T/serve.err" &
SRV=$!
on_exit "kill -INT $SRV"
serve_wait $SRV
ADDR=$addr
PORT=${ADDR##*:}

# the slow clients: from 127.0.0.2 (loopback), 100 sockets, 14 s
cat > "$T/slow.py" <<'PY'
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
socks, opened, t0 = [], 0, time.time()
for _ in range(100):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
        opened += 1
    except OSError:
        pass
held_at_5s = None
cut_before_9s = 0
while time.time() - t0 < 14:
    time.sleep(2)
    alive = []
    for s in socks:
        try:
            s.sendall(b"X-Slow: 1\r\n")
            alive.append(s)
        except OSError:
            if time.time() - t0 < 9:
                cut_before_9s += 1
    socks = alive
    if held_at_5s is None and time.time() - t0 >= 5:
        held_at_5s = len(socks)
with open(out, "w") as f:
    f.write(f"{opened} {held_at_5s} {len(socks)}\n")
PY
python3 "$T/slow.py" "$PORT" "$T/slow.out" &
SLOW=$!
on_exit "kill $SLOW"
sleep 1
# normal scrapes from 127.0.0.1 while the slow clients hold on
worst=0
for _ in $(seq 8); do
	read -r code secs < <(curl -s -o "$T/m.txt" -w '%{http_code} %{time_total}\n' --max-time 5 "http://$ADDR/metrics")
	assert_eq "scrape status" "$code" 200
	grep -q '^disco_build_info' "$T/m.txt" || fail "scrape has no disco_build_info"
	worst=$(awk -v a="$worst" -v b="$secs" 'BEGIN{print (b > a) ? b : a}')
	sleep 1
done
echo "slowest scrape during the slow clients: ${worst}s"
assert_le "slowest scrape (s)" "$worst" 1
wait $SLOW || fail "slow client script failed"
read -r opened held5 left < "$T/slow.out"
echo "slow clients: $opened connected, $held5 still held at 5 s, $left left at 14 s"
# the kernel accepts them all; the server keeps at most 8 per address
assert_le "held by one address at 5 s" "$held5" 8
assert_ge "held by one address at 5 s" "$held5" 1
# past the 10 s request deadline every one of them is cut
assert_eq "slow requests left after the deadline" "$left" 0
kill -0 $SRV || fail "serve died"
