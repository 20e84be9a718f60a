#!/usr/bin/env bash
# disco top in tmux: s and < change the sort, p pauses the screen, / filters
# the rows by name, h shows disco's own process, q quits; at 80 columns the
# since-start group is left out whole and no value is cut; colour only
# without NO_COLOR.
. "$(dirname "$0")/lib.sh"
need_root
command -v tmux >/dev/null || skip "needs tmux (make deps)"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

taskset -c 1 "$FIXTURES/sched_load" hog 60 &
on_exit "kill $! 2>/dev/null"
taskset -c 1 "$FIXTURES/sched_load" victim 60 "$T/victim.txt" &
on_exit "kill $! 2>/dev/null"

# a tmux server of our own: no other user's sessions are touched
S=keys
tmux() { command tmux -L "disco-top-keys-$$" "$@"; }
on_exit "command tmux -L disco-top-keys-$$ kill-server 2>/dev/null"
# start SECONDS-wide COMMAND: a server that is still exiting refuses for a moment
start() {
	local i
	for i in 1 2 3 4 5; do
		tmux new-session -d -s "$S" -x "$1" -y 60 "$2" 2>/dev/null && return 0
		sleep 0.5
	done
	fail "tmux new-session $2"
}
# q quits, the session's only pane with it
quit() {
	tmux send-keys -t "$S" q
	for _ in $(seq 25); do tmux has-session -t "$S" 2>/dev/null || return 0; sleep 0.2; done
	fail "q did not quit"
}
start 80 "$DISCO top -e sched --top 8"
screen() { tmux capture-pane -p -t "$S"; }
# wait_for REGEX [SECONDS]: until the screen shows it
wait_for() {
	local i
	for ((i = 0; i < ${2:-8} * 5; i++)); do
		screen | grep -Eq "$1" && return 0
		sleep 0.2
	done
	screen >&2
	fail "screen never showed /$1/"
}
wait_for '^disco top  [0-9]{2}:[0-9]{2}:[0-9]{2}  .*sort total' 15
wait_for 'disco-victim'

# 80 columns: no since-start group, and every line ends on a whole value
screen > "$T/s80.txt"
if grep -q 'since start' "$T/s80.txt"; then fail "since-start columns at 80 columns"; fi
grep -q 'last interval' "$T/s80.txt" || fail "no last-interval header"
awk '/^  [a-z_]+ +[0-9.]+( |$)/ || /^    [0-9]+ / {
	if ($NF !~ /^(-|[0-9.]+(ns|us|ms|s|B|KiB|MiB|GiB)?)$/) { print "cut: " $0; bad = 1 } }
	END { exit bad }' "$T/s80.txt" || fail "a value cut at 80 columns"

# s: next sort key; <: back
tmux send-keys -t "$S" s
wait_for 'sort count' 3
grep -q 'by count' <(screen) || fail "the table does not say its sort"
tmux send-keys -t "$S" '<'
wait_for 'sort total' 3

# p: the screen stands still (its clock too) while paused
tmux send-keys -t "$S" p
wait_for 'PAUSED' 3
a=$(screen)
sleep 2.5
[ "$a" = "$(screen)" ] || fail "the screen changed while paused"
tmux send-keys -t "$S" p
sleep 2.5
if screen | grep -q PAUSED; then fail "still paused after a second p"; fi

# /: only rows whose name holds the text; disco itself hidden until h
tmux send-keys -t "$S" / v i c t i m Enter
wait_for 'filter victim' 3
sleep 2.2
screen > "$T/filtered.txt"
grep -q 'disco-victim' "$T/filtered.txt" || fail "the filtered row is missing"
if grep -q 'disco-hog' "$T/filtered.txt"; then fail "the filter let disco-hog through"; fi
tmux send-keys -t "$S" / d i s c o Enter
wait_for 'filter disco' 3
dpid=$(pgrep -P "$(tmux display -p -t "$S" '#{pane_pid}')" -x disco || tmux display -p -t "$S" '#{pane_pid}')
sleep 2.2
if screen | grep -Eq "^    $dpid disco "; then fail "disco's own process listed before h"; fi
tmux send-keys -t "$S" h
wait_for "^    $dpid disco " 8

quit

# colour: the victim's millisecond waits in yellow or red, none with NO_COLOR
start 160 "$DISCO top -e sched"
wait_for 'since start' 15
sleep 1.5
tmux capture-pane -e -p -t "$S" | grep -q $'\033\[3[13]m' || fail "no colour for slow values"
quit
start 160 "env NO_COLOR=1 $DISCO top -e sched"
wait_for 'since start' 15
sleep 1.5
if tmux capture-pane -e -p -t "$S" | grep -q $'\033\[3[13]m'; then fail "colour despite NO_COLOR"; fi
quit
exit 0
