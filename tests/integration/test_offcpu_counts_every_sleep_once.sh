#!/usr/bin/env bash
# offcpu counts every time a task goes to sleep once, as a long block or
# a short one, although a short block's end is not looked at (the time
# since the task last got a CPU tells it apart; it is counted when the
# task next sleeps): for stress-ng --switch 1 (pipe ping-pong, tens of
# thousands of sleeps of microseconds) run as the session's COMMAND,
# blocks + short_blocks match the voluntary context switches the kernel
# counted for the command and its children (getrusage), within 1%. Then
# the same with --min-block 100ms, where the wrapper's 2 s wait is a
# long block and stress-ng's are short.
. "$(dirname "$0")/lib.sh"
need_root
command -v stress-ng > /dev/null || skip "no stress-ng"

# The command: stress-ng under a wrapper that prints the voluntary
# switches of itself and of its children (all of them waited for).
cat > "$T/run.py" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
n = sum(resource.getrusage(w).ru_nvcsw for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print("nvcsw", n, flush=True)
PY

check() {	# LABEL [RECORD OPTIONS...]
	local label=$1 nv n
	shift
	"$DISCO" record -e offcpu "$@" -q -o "$T/s.data" -- \
		python3 "$T/run.py" stress-ng --switch 1 -t 2 --quiet > "$T/s.out" || fail "$label: record failed"
	"$DISCO" report "$T/s.data" --format json > "$T/s.json" || fail "$label: report failed"
	nv=$(awk '/^nvcsw/ { print $2 }' "$T/s.out")
	n=$(jqv "$T/s.json" '.collectors.offcpu.blocks + .collectors.offcpu.short_blocks')
	echo "$label: kernel counted $nv voluntary switches, offcpu $n blocks ($(jq .collectors.offcpu.blocks "$T/s.json") long)"
	assert_ge "$label: voluntary switches of stress-ng --switch 1" "$nv" 10000
	# the wrapper's own few after getrusage (printing, exiting) are the slack
	assert_ge "$label: blocks + short blocks" "$n" "$(( nv * 99 / 100 ))"
	assert_le "$label: blocks + short blocks" "$n" "$(( nv * 101 / 100 + 20 ))"
}
check "default --min-block"
check "--min-block 100ms" --min-block 100ms
jqv "$T/s.json" '.collectors.offcpu.blocks >= 1' > /dev/null
echo ok
