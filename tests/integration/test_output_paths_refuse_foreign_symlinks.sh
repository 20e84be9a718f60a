#!/usr/bin/env bash
# Where root writes: a symlink owned by another user anywhere on the way to
# an output file (record -o, bench -o) is refused with one line and exit 1,
# nothing is written through it; links owned by root are followed. And
# `tune --root` on a directory that is not there is one error line, exit 1.
. "$(dirname "$0")/lib.sh"
need_root

nobody=$(id -u nobody) || skip "no user nobody"
mkdir -p "$T/real/sub" "$T/elsewhere"

# one line, exit 1, naming the link and its owner
refused() { # WHAT FILE
	local rc
	"$DISCO" record -e sched -q -d 1 -o "$2" 2> "$T/err"
	rc=$?
	assert_eq "$1: exit" "$rc" 1
	assert_eq "$1: error lines" "$(wc -l < "$T/err")" 1
	grep -q "symbolic link owned by uid $nobody" "$T/err" || fail "$1: unclear message: $(cat "$T/err")"
	[ -z "$(ls -A "$T/real/sub")" ] || fail "$1: a file was written through the link"
}

# the parent of the file is someone else's link
ln -s "$T/real/sub" "$T/parent"
chown -h nobody "$T/parent"
refused "foreign parent link" "$T/parent/out.data"

# one further up, the file two directories below it
ln -s "$T/real" "$T/upper"
chown -h nobody "$T/upper"
refused "foreign link higher up" "$T/upper/sub/out.data"

# a root-owned link whose target goes through the foreign one
ln -s upper/sub "$T/chain"
refused "foreign link inside a root link's target" "$T/chain/out.data"

# bench -o checks the same way (a short run of the cheapest workload)
"$DISCO" bench -w alloc -d 0.1 -r 1 -q -o "$T/parent/b.json" 2> "$T/err"
assert_eq "bench through a foreign link: exit" "$?" 1
grep -q "symbolic link owned by uid $nobody" "$T/err" || fail "bench: unclear message: $(cat "$T/err")"
[ ! -e "$T/real/sub/b.json" ] || fail "bench wrote through the link"

# links owned by root (or by the invoking user, here root too) are fine
chown -h root "$T/upper"
"$DISCO" record -e sched -q -d 1 -o "$T/chain/ok.data" || fail "record through root's links failed"
[ -s "$T/real/sub/ok.data" ] || fail "record through root's links wrote nothing"

# tune --root DIR that is not there: one line, exit 1, no knob listing
"$DISCO" tune --from "$T/real/sub/ok.data" --root "$T/nonexistent" > "$T/out" 2> "$T/err"
assert_eq "tune --root missing: exit" "$?" 1
assert_eq "tune --root missing: error lines" "$(wc -l < "$T/err")" 1
grep -q -- "--root $T/nonexistent: No such file or directory" "$T/err" ||
	fail "tune --root: unclear message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "tune --root missing printed: $(head -3 "$T/out")"
"$DISCO" tune --from "$T/real/sub/ok.data" --root "$T/real/sub/ok.data" 2> "$T/err" > /dev/null
assert_eq "tune --root on a file: exit" "$?" 1
grep -q "not a directory" "$T/err" || fail "tune --root file: unclear message: $(cat "$T/err")"
exit 0
