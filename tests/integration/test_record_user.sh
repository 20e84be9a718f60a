#!/usr/bin/env bash
# -u USER runs COMMAND without root, the recorder keeps only the
# capabilities it needs after attaching, and a COMMAND that cannot start is
# one clear error.
. "$(dirname "$0")/lib.sh"
need_root
id nobody >/dev/null 2>&1 || skip "no user nobody"

chmod 755 "$T"
mkdir "$T/w" && chmod 777 "$T/w"
"$DISCO" record -e sched -q -o "$T/u.data" -u nobody -- \
	sh -c "id -u > $T/w/uid; grep ^CapEff /proc/self/status > $T/w/caps" || fail "record -u failed"
assert_eq "COMMAND's uid" "$(cat "$T/w/uid")" "$(id -u nobody)"
assert_eq "COMMAND's capabilities" "$(awk '{print $2}' "$T/w/caps")" 0000000000000000
"$DISCO" report "$T/u.data" --format json > "$T/u.json" || fail "report failed"
jqv "$T/u.json" '.session.complete == true' >/dev/null

# after attaching: only KILL, DAC_READ_SEARCH, SYS_PTRACE, SYSLOG and
# SYS_NICE (the session writer thread's priority) remain, nothing can be
# regained through exec (empty bounding set, no_new_privs); the statistics
# helper keeps CAP_SYS_ADMIN alone, and statistics still switch
"$DISCO" record -e sched -d 4 -o "$T/c.data" > /dev/null 2> "$T/c.err" &
pid=$!
# "recording to" comes once attached and the capabilities are dropped
for _ in $(seq 300); do grep -q 'recording to' "$T/c.err" && break; sleep 0.1; done
helper=$(ps -o pid= --ppid $pid | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = disco-stats ] && echo "$p"; done)
[ -n "$helper" ] || fail "no disco-stats helper under disco record"
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
assert_eq "CapEff of disco record" "$(status $pid CapEff)" 0000000400880024
assert_eq "CapPrm of disco record" "$(status $pid CapPrm)" 0000000400880024
assert_eq "CapBnd of disco record" "$(status $pid CapBnd)" 0000000000000000
assert_eq "CapInh of disco record" "$(status $pid CapInh)" 0000000000000000
assert_eq "NoNewPrivs of disco record" "$(status $pid NoNewPrivs)" 1
assert_eq "CapEff of disco-stats" "$(status $helper CapEff)" 0000000000200000
assert_eq "CapPrm of disco-stats" "$(status $helper CapPrm)" 0000000000200000
assert_eq "CapBnd of disco-stats" "$(status $helper CapBnd)" 0000000000000000
assert_eq "NoNewPrivs of disco-stats" "$(status $helper NoNewPrivs)" 1
wait $pid || fail "record exited $?"
"$DISCO" report "$T/c.data" --format json > "$T/c.json" || fail "report failed"
assert_ge "BPF runs measured by the helper's statistics" "$(jqv "$T/c.json" '.cost.bpf_runs')" 1

# a command that does not exist: one line, exit 1, the file still readable
"$DISCO" record -e sched -q -o "$T/n.data" -- /nonexistent/cmd 2> "$T/err" && fail "missing command accepted"
grep -q "cannot run '/nonexistent/cmd'" "$T/err" || fail "unclear error: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
"$DISCO" record -e sched -q -o "$T/x.data" -u no-such-user -- true 2> "$T/err" && fail "unknown user accepted"
grep -q "no such user" "$T/err" || fail "unclear error for -u: $(cat "$T/err")"
exit 0
