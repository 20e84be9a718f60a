#!/usr/bin/env bash
# disco record keeps the previous file as FILE.old (unless -f), leaves no
# file behind when COMMAND cannot start (and puts FILE.old back), passes
# COMMAND's failing exit status on like time(1); the text summary wraps
# the hooks line, shows an idle collector as one line and has a total
# column in the process table.
. "$(dirname "$0")/lib.sh"
need_root
cd "$T" || fail "cd $T"

# first recording: the command's own status 0, a summary on stdout
# (tcp only on port 1: a packet for another socket handled while the
# command is on the CPU must not make it busy)
"$DISCO" record -e sched,tcp --port 1 -o s.data -- sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' \
	> sum.txt 2> err.txt
assert_eq "exit status of a successful command" "$?" 0
grep -q 'command exited with status 0' err.txt || fail "status of COMMAND not reported: $(cat err.txt)"
[ -f s.data ] && [ ! -e s.data.old ] || fail "first recording: files $(ls)"
first=$(sha256sum < s.data)

# text summary: every line of the hooks block fits 80 columns; tcp saw
# nothing of this command: one line; the process table has its total
awk '/^hooks:/ {h = 1} /^events:/ {h = 0} h && length($0) > 80 {bad = 1} END {exit bad}' sum.txt ||
	fail "hooks line over 80 columns: $(grep -A3 '^hooks:' sum.txt)"
grep -q '^== tcp == idle: no events and no samples in ' sum.txt ||
	fail "idle tcp is not one line: $(sed -n '/== tcp/,/== cost/p' sum.txt)"
if grep -q '^Connect latency' sum.txt; then fail "idle tcp still prints its sections"; fi
grep -Eq '^  PID +COMM +total +waits ' sum.txt || fail "no total column: $(grep -A2 'Top processes' sum.txt)"
# a process row's total is a duration, in the column the table is sorted by
grep -A1 -E '^  PID +COMM +total' sum.txt | tail -1 | awk '{exit !($3 ~ /^[0-9.]+(ns|us|ms|s)$/)}' ||
	fail "total column holds no duration: $(grep -A1 'PID' sum.txt)"
if grep -Eq '[0-9]{4}\.[0-9](KiB|MiB|GiB)' sum.txt; then
	fail "unit not humanised: $(grep -Eo '[0-9]{4}\.[0-9](KiB|MiB|GiB)' sum.txt | head -1)"
fi

# second recording without -f: the first becomes s.data.old, byte for byte
"$DISCO" record -q -e sched -o s.data -- true || fail "second record failed"
[ -f s.data.old ] || fail "no s.data.old after a second record"
assert_eq "s.data.old is the first session" "$(sha256sum < s.data.old)" "$first"
"$DISCO" report s.data > /dev/null || fail "the new s.data does not read back"
second=$(sha256sum < s.data)

# -f overwrites: s.data.old stays the first session
"$DISCO" record -q -f -e sched -o s.data -- true || fail "record -f failed"
assert_eq "s.data.old after -f" "$(sha256sum < s.data.old)" "$first"

# a command that cannot start: exit 1, nothing new left, s.data put back
cur=$(sha256sum < s.data)
"$DISCO" record -q -e sched -o s.data -- ./no-such-command-$$ 2> err.txt
assert_eq "exit status when COMMAND cannot start" "$?" 1
grep -q "cannot run './no-such-command-$$'" err.txt || fail "no clear message: $(cat err.txt)"
assert_eq "s.data after a failed start" "$(sha256sum < s.data)" "$cur"
"$DISCO" record -q -e sched -o fresh.data -- ./no-such-command-$$ 2> /dev/null
[ ! -e fresh.data ] || fail "fresh.data left behind by a command that could not start"
[ ! -e fresh.data.old ] || fail "fresh.data.old made from nothing"

# COMMAND's failure is disco's exit status, and said on stderr
"$DISCO" record -e sched -o st.data -- sh -c 'exit 7' > /dev/null 2> err.txt
assert_eq "exit status passed on" "$?" 7
grep -q 'command exited with status 7' err.txt || fail "status 7 not reported: $(cat err.txt)"
"$DISCO" report st.data > /dev/null || fail "the session of a failing command is not readable"
"$DISCO" record -q -e sched -o st.data -- sh -c 'kill -TERM $$'
assert_eq "exit status of a command killed by SIGTERM" "$?" $((128 + 15))
[ "$second" != "$cur" ] || fail "-f did not write a new session"
exit 0
