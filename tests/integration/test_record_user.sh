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
# SYS_NICE (the session writer thread's priority) remain
"$DISCO" record -e sched -q -d 3 -o "$T/c.data" &
pid=$!
sleep 1.5
capeff=$(awk '/^CapEff/ {print $2}' /proc/$pid/status)
wait $pid || fail "record exited $?"
assert_eq "CapEff of disco record" "$capeff" 0000000400880024

# a command that does not exist: one line, exit 1, the file still readable
"$DISCO" record -e sched -q -o "$T/n.data" -- /nonexistent/cmd 2> "$T/err" && fail "missing command accepted"
grep -q "cannot run '/nonexistent/cmd'" "$T/err" || fail "unclear error: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" -le 2 ] || fail "more than one error line: $(cat "$T/err")"
"$DISCO" record -e sched -q -o "$T/x.data" -u no-such-user -- true 2> "$T/err" && fail "unknown user accepted"
grep -q "no such user" "$T/err" || fail "unclear error for -u: $(cat "$T/err")"
exit 0
